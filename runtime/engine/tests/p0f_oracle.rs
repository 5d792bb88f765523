//! weir's OS fingerprints against p0f itself: on every Ethernet trace of the
//! conn oracle (`/work/shared/oracle/dev/MANIFEST.tsv`), `p0f -r TRACE`
//! labels SYNs and SYN+ACKs; weir's matcher ([`weir_engine::osfp`]) with
//! the same database must give the same label for at least 99% of the SYNs
//! p0f labels. Prints the figures and every difference
//! (`scripts/compare-p0f` runs it with output). Skips, saying why, when the
//! oracle, p0f or its database is absent.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use weir_engine::capture::file::FileSource;
use weir_engine::capture::PacketSource;
use weir_engine::decode::ip::parse_ip;
use weir_engine::decode::link::{decode_link, link_header_len};
use weir_engine::decode::{LinkOutcome, L4};
use weir_engine::osfp::{Database, PacketSig, DEFAULT_FILE};

const ORACLE: &str = "/work/shared/oracle/dev";

/// (client, server) as p0f writes them (`1.2.3.4/80`), and whether a SYN+ACK.
type Key = (String, String, bool);

fn endpoint(a: std::net::IpAddr, port: u16) -> String {
    format!("{a}/{port}")
}

/// p0f's labels per (client, server, SYN+ACK), in trace order (`???` for none).
fn p0f_labels(trace: &Path, db: &Path, scratch: &Path) -> Option<Vec<(Key, String)>> {
    let log = scratch.join("p0f.log");
    let _ = std::fs::remove_file(&log);
    let out = Command::new("p0f").arg("-f").arg(db).arg("-r").arg(trace).arg("-o").arg(&log).output().ok()?;
    if !out.status.success() {
        eprintln!("p0f failed on {}: {}", trace.display(), String::from_utf8_lossy(&out.stderr).lines().last().unwrap_or(""));
        return Some(Vec::new());
    }
    let text = std::fs::read_to_string(&log).unwrap_or_default();
    let mut v = Vec::new();
    for line in text.lines() {
        let Some((_, rest)) = line.split_once("] ") else { continue };
        let f: HashMap<&str, &str> = rest.split('|').filter_map(|kv| kv.split_once('=')).collect();
        let synack = match f.get("mod") {
            Some(&"syn") => false,
            Some(&"syn+ack") => true,
            _ => continue,
        };
        let label = f.get("os").or(f.get("app")).copied().unwrap_or("???");
        v.push(((f["cli"].to_string(), f["srv"].to_string(), synack), label.to_string()));
    }
    Some(v)
}

/// weir's label for every SYN and SYN+ACK, in trace order, without the
/// retransmissions p0f skips (a SYN at the sequence number of the flow's
/// last one, a second SYN+ACK).
fn weir_labels(trace: &Path, db: &Database) -> (i32, Vec<(Key, String)>) {
    let mut src = FileSource::open(trace, None).unwrap_or_else(|e| panic!("{e}"));
    let link = src.link_type();
    let mut out = Vec::new();
    let mut last_syn: HashMap<(String, String), (u32, u16, bool)> = HashMap::new();
    let mut notes = Vec::new();
    while let Some(p) = src.next_packet().unwrap_or_else(|e| panic!("{e}")) {
        let LinkOutcome::Ip { ip, .. } = decode_link(p.link_type, p.data) else { continue };
        let wire = p.wire_len as usize - link_header_len(p.data, ip);
        notes.clear();
        let Ok(h) = parse_ip(ip, wire, true, &mut notes) else { continue };
        if h.is_fragment || (h.version == 6 && h.hdr_len != 40) {
            continue;
        }
        let Ok(L4::Tcp(seg)) = weir_engine::decode::transport::parse_l4(&h) else { continue };
        let (syn, ack) = (seg.flags & 0x02 != 0, seg.flags & 0x10 != 0);
        if !syn || seg.flags & 0x05 != 0 || seg.weird.is_some() {
            continue;
        }
        let Some(tcp) = h.payload.get(..seg.hdr_len) else { continue };
        let Some(sig) = PacketSig::from_headers(&h.header[..h.hdr_len.min(h.header.len())], tcp, seg.len as usize) else { continue };
        let (from, to) = (endpoint(h.src, seg.sport), endpoint(h.dst, seg.dport));
        let syn_mss = if !ack {
            if last_syn.get(&(from.clone(), to.clone())).is_some_and(|&(seq, _, _)| seq == seg.seq) {
                continue;
            }
            last_syn.insert((from.clone(), to.clone()), (seg.seq, sig.mss, false));
            0
        } else {
            // A SYN+ACK answers a SYN seen before, once.
            match last_syn.get_mut(&(to.clone(), from.clone())) {
                Some(e) if !e.2 => {
                    e.2 = true;
                    e.1
                }
                _ => continue,
            }
        };
        let (m, _) = db.find(!ack, &sig, syn_mss);
        let label = m.map_or("???".to_string(), |m| db.labels[m.label].text());
        let key = if ack { (to, from, true) } else { (from, to, false) };
        out.push((key, label));
    }
    (link, out)
}

fn traces() -> Vec<PathBuf> {
    let manifest = std::fs::read_to_string(Path::new(ORACLE).join("MANIFEST.tsv")).unwrap();
    let mut lines = manifest.lines();
    let header: Vec<&str> = lines.next().unwrap().split('\t').collect();
    let (case, trace) = (header.iter().position(|h| *h == "case").unwrap(), header.iter().position(|h| *h == "traces").unwrap());
    let mut v: Vec<PathBuf> = Vec::new();
    for l in lines {
        let f: Vec<&str> = l.split('\t').collect();
        for t in f[trace].split(',') {
            let p = Path::new(ORACLE).join(f[case]).join(t);
            if p.is_file() && !v.iter().any(|x| x.file_name() == p.file_name()) {
                v.push(p);
            }
        }
    }
    v
}

#[test]
fn weir_labels_syns_as_p0f_does() {
    if !Path::new(ORACLE).join("MANIFEST.tsv").is_file() {
        eprintln!("skipped: the conn oracle is not at {ORACLE}");
        return;
    }
    if Command::new("p0f").arg("-h").output().is_err() {
        eprintln!("skipped: p0f is not installed (scripts/setup installs it)");
        return;
    }
    let db_path = PathBuf::from(std::env::var("WEIR_P0F_FP").unwrap_or_else(|_| DEFAULT_FILE.to_string()));
    let Ok(db) = Database::load(&db_path) else {
        eprintln!("skipped: no p0f database at {}", db_path.display());
        return;
    };
    let scratch = std::env::temp_dir().join(format!("weir-p0f-oracle-{}", std::process::id()));
    std::fs::create_dir_all(&scratch).unwrap();
    let (mut traces_used, mut labelled, mut same, mut unknown, mut unknown_too) = (0, [0usize; 2], [0usize; 2], [0usize; 2], [0usize; 2]);
    let mut differences = Vec::new();
    for trace in traces() {
        let (link, ours) = weir_labels(&trace, &db);
        if link != 1 {
            continue;
        }
        let Some(theirs) = p0f_labels(&trace, &db_path, &scratch) else { continue };
        traces_used += 1;
        // Each of p0f's observations against weir's next one for the same flow and kind.
        let mut queue: HashMap<&Key, std::collections::VecDeque<&String>> = HashMap::new();
        for (k, l) in &ours {
            queue.entry(k).or_default().push_back(l);
        }
        for (k, label) in &theirs {
            let kind = k.2 as usize;
            let mine = queue.get_mut(k).and_then(|q| q.pop_front());
            if label == "???" {
                unknown[kind] += 1;
                if mine.is_some_and(|m| m == "???") {
                    unknown_too[kind] += 1;
                }
                continue;
            }
            labelled[kind] += 1;
            if mine == Some(label) {
                same[kind] += 1;
            } else {
                let name = trace.file_name().unwrap().to_string_lossy().into_owned();
                differences.push(format!("{name} {} {} -> {}: p0f {label}, weir {}", if k.2 { "syn+ack" } else { "syn" }, k.0, k.1, mine.map_or("(none)", |s| s.as_str())));
            }
        }
    }
    let _ = std::fs::remove_dir_all(&scratch);
    let pct = |s: usize, n: usize| if n == 0 { 100.0 } else { 100.0 * s as f64 / n as f64 };
    println!("p0f oracle: {traces_used} Ethernet traces");
    for (kind, name) in ["SYN", "SYN+ACK"].iter().enumerate() {
        println!(
            "{name}: {}/{} labels equal ({:.2}%); of {} p0f left unlabelled, weir too for {}",
            same[kind],
            labelled[kind],
            pct(same[kind], labelled[kind]),
            unknown[kind],
            unknown_too[kind]
        );
    }
    for d in &differences {
        println!("difference: {d}");
    }
    assert!(labelled[0] > 0, "p0f labelled no SYN on the oracle traces");
    assert!(pct(same[0], labelled[0]) >= 99.0, "{} of {} SYN labels differ", labelled[0] - same[0], labelled[0]);
}
