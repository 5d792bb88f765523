//! Replays the fuzz inputs kept in `fuzz/regressions/` (inputs that once
//! crashed the engine, and interesting ones the fuzzer found) through the
//! same path as their fuzz target (`trace-file-*`: `trace_file`, the others:
//! `packets`): none may panic.

use std::path::Path;

#[test]
fn fuzz_regressions_do_not_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/regressions");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).expect("fuzz/regressions") {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            continue;
        }
        let data = std::fs::read(&path).unwrap();
        if path.file_name().is_some_and(|n| n.to_string_lossy().starts_with("trace-file-")) {
            weir_engine::fuzzing::run_trace_file(&data);
        } else {
            weir_engine::fuzzing::run(&data);
        }
        n += 1;
    }
    println!("replayed {n} inputs");
    assert!(n > 0, "no regression inputs in {}", dir.display());
}
