//! Hostile handler: follows symbolic links planted in its granted folder.
//! At `bro_init` it reads `/granted/abs` (a link to an absolute path outside
//! the folder), `/granted/rel` (a relative `../` link out of it) and
//! `/granted/inside` (a link to a file inside it), and tries to plant a link
//! of its own (`/granted/planted` → `/etc`). Each outcome is reported as
//! `symlink-escape: WHAT: read <contents>|denied`.

fn report(what: &str, r: std::io::Result<String>) {
    let result = match r {
        Ok(s) => format!("read {}", s.trim()),
        Err(_) => "denied".into(),
    };
    weir_guest::reporter::info(&format!("symlink-escape: {what}: {result}"));
}

#[allow(deprecated)]
fn plant(target: &str, link: &str) -> std::io::Result<()> {
    std::fs::soft_link(target, link)
}

struct Escape;

impl weir_guest::Handler for Escape {
    fn bro_init() {
        report("abs", std::fs::read_to_string("/granted/abs"));
        report("rel", std::fs::read_to_string("/granted/rel"));
        report("inside", std::fs::read_to_string("/granted/inside"));
        report("dir-rel", std::fs::read_to_string("/granted/updir/secret.txt"));
        let planted = plant("/etc", "/granted/planted").map(|()| "planted".to_string());
        report("plant /etc", planted);
        let planted = plant("../..", "/granted/planted-up").map(|()| "planted".to_string());
        report("plant ../..", planted);
        report("planted-up", std::fs::read_to_string("/granted/planted-up/secret.txt"));
    }
}

weir_guest::export_handler!(Escape: bro_init);
