//! Log streams and their writers: Zeek TSV (default) and JSON lines.
