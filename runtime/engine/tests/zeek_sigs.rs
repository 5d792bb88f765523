//! Zeek's shipped signature files (DPD, file magic, policy extras) load
//! unchanged and hold the signatures their manifest counts. The files sit
//! beside the repository in `../shared/oracle/sigs/zeek-sigs/`; without
//! them the test says so and passes.

use std::path::{Path, PathBuf};
use weir_engine::signatures::{parse, Idents, RuleSet};

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/oracle/sigs/zeek-sigs")
}

#[test]
fn zeek_signature_files_load_unchanged() {
    let dir = dir();
    let Ok(manifest) = std::fs::read_to_string(dir.join("MANIFEST.tsv")) else {
        println!("zeek_sigs: skipped: {} not found", dir.display());
        return;
    };
    let mut lines = manifest.lines();
    let head: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let col = |name: &str| head.iter().position(|h| *h == name).unwrap();
    let (path_col, count_col) = (col("path"), col("signatures"));
    let (mut files, mut total, mut all) = (0, 0, Vec::new());
    for line in lines.filter(|l| !l.is_empty()) {
        let f: Vec<&str> = line.split('\t').collect();
        let want: usize = f[count_col].parse().unwrap();
        let text = std::fs::read(dir.join(f[path_col])).unwrap();
        let rules = parse(f[path_col], &text, &Idents::new()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(rules.len(), want, "{}", f[path_col]);
        files += 1;
        total += rules.len();
        all.extend(rules);
    }
    println!("zeek_sigs: {files} files, {total} signatures");
    assert_eq!((files, total), (40, 452));
    // Compiled together, as a run loading all of them would.
    let set = RuleSet::compile(all).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(set.len(), 452);
}
