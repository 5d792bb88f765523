//! The extraction file analyzer (Zeek's `Files::ANALYZER_EXTRACT`): a
//! file's bytes in stream order go to a file in the extraction folder the
//! operator granted (`FileExtract::prefix`), holes left sparse, up to a
//! limit. At the limit the caller raises `file_extraction_limit` and the
//! analyzer ends, as Zeek's does when no script raises the limit.

use std::fs::File;
use std::io::{Seek, SeekFrom, Write};
use std::path::Path;

/// Whether `name` may name an extracted file: one plain file name (no
/// folder part, no `..`, no NUL), so that a handler cannot write outside
/// the granted folder.
pub fn valid_name(name: &str) -> bool {
    !name.is_empty() && name.len() <= 255 && name != "." && name != ".." && !name.contains(['/', '\\', '\0'])
}

/// How much of `len` more bytes fits under `limit` after `depth` (Zeek's
/// `check_limit_exceeded`): (bytes to take, whether the limit is hit).
fn fits(limit: u64, depth: u64, len: u64) -> (u64, bool) {
    if limit == 0 {
        (len, false)
    } else if depth >= limit {
        (0, true)
    } else if depth.saturating_add(len) > limit {
        (limit - depth, true)
    } else {
        (len, false)
    }
}

/// One running extraction.
#[derive(Debug)]
pub(super) struct Extractor {
    file: File,
    /// Bytes of the file's stream the extraction has covered.
    depth: u64,
    limit: u64,
    includes_missing: bool,
}

/// What a delivery to the extractor came to.
#[derive(Debug, PartialEq, Eq)]
pub(super) enum Step {
    /// Written; the extraction goes on.
    Going,
    /// The limit is reached: `file_extraction_limit(limit, len)`, and the
    /// extraction ends.
    Limit { limit: u64, len: u64 },
}

impl Extractor {
    /// Creates (or truncates) `dir/name`, as Zeek opens its extraction
    /// file; the folder is made when missing.
    pub(super) fn create(dir: &Path, name: &str, limit: u64, includes_missing: bool) -> std::io::Result<Extractor> {
        std::fs::create_dir_all(dir)?;
        let file = File::create(dir.join(name))?;
        Ok(Extractor { file, depth: 0, limit, includes_missing })
    }

    /// In-order bytes (`Extract::DeliverStream`).
    pub(super) fn data(&mut self, data: &[u8]) -> Step {
        let (take, hit) = fits(self.limit, self.depth, data.len() as u64);
        if take > 0 {
            if let Err(e) = self.file.write_all(&data[..take as usize]) {
                tracing::warn!("file extraction stops: {e}");
                return Step::Limit { limit: self.depth, len: data.len() as u64 };
            }
            self.depth += take;
        }
        if hit {
            Step::Limit { limit: self.limit, len: data.len() as u64 }
        } else {
            Step::Going
        }
    }

    /// A hole of `len` bytes (`Extract::Undelivered`): skipped in the file
    /// (sparse); it counts towards the limit when
    /// `FileExtract::default_limit_includes_missing`.
    pub(super) fn hole(&mut self, len: u64) -> Step {
        let (skip, hit) = if self.includes_missing { fits(self.limit, self.depth, len) } else { (len, false) };
        if skip > 0 {
            let to = i64::try_from(skip).unwrap_or(i64::MAX);
            let file = &mut self.file;
            if let Err(e) = file.seek(SeekFrom::Current(to)).and_then(|end| file.set_len(end)) {
                tracing::warn!("file extraction stops: {e}");
                return Step::Limit { limit: self.depth, len };
            }
            if self.includes_missing {
                self.depth += skip;
            }
        }
        if hit {
            Step::Limit { limit: self.limit, len }
        } else {
            Step::Going
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_inside_the_folder() {
        assert!(valid_name("extract-1.000000-HTTP-Fabc"));
        for bad in ["", ".", "..", "../x", "a/b", "/etc/passwd", "a\\b", "a\0b"] {
            assert!(!valid_name(bad), "{bad:?}");
        }
    }

    #[test]
    fn the_limit_cuts_writes_and_holes_count_towards_it() {
        let dir = std::env::temp_dir().join(format!("weir-extract-{}", std::process::id()));
        let mut e = Extractor::create(&dir, "f", 10, true).unwrap();
        assert_eq!(e.data(b"abcd"), Step::Going);
        assert_eq!(e.hole(2), Step::Going);
        assert_eq!(e.data(b"efghij"), Step::Limit { limit: 10, len: 6 });
        let on_disk = std::fs::read(dir.join("f")).unwrap();
        assert_eq!(on_disk, b"abcd\0\0efgh");
        let mut open = Extractor::create(&dir, "g", 0, false).unwrap();
        assert_eq!(open.hole(3), Step::Going);
        assert_eq!(open.data(b"xy"), Step::Going);
        assert_eq!(std::fs::read(dir.join("g")).unwrap(), b"\0\0\0xy");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
