//! Hostile handler: calls `reporter.error` from inside every reporter handler; the
//! host must send those messages to stderr instead of raising more reporter events.

struct Echo;

fn echo(level: &str, msg: &str) {
    weir_guest::reporter::error(&format!("reporter-in-reporter: echo of {level}: {msg}"));
}

impl weir_guest::Handler for Echo {
    fn bro_init() {
        weir_guest::reporter::info("reporter-in-reporter: hello");
    }
    fn reporter_info(_t: f64, msg: String, _location: String) {
        echo("info", &msg);
    }
    fn reporter_warning(_t: f64, msg: String, _location: String) {
        echo("warning", &msg);
    }
    fn reporter_error(_t: f64, msg: String, _location: String) {
        echo("error", &msg);
    }
}

weir_guest::export_handler!(Echo: bro_init, reporter_info, reporter_warning, reporter_error);
