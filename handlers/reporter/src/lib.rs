//! The standard reporter.log handler: Zeek's `base/frameworks/reporter/main.zeek`.

use weir_guest::log::{LogType as T, LogValue as V};
use weir_guest::{Handler, Stream};

static REPORTER: Stream = Stream::new(
    "reporter",
    &[("ts", T::Time), ("level", T::Enum), ("message", T::String), ("location", T::String)],
);

fn write(t: f64, level: &str, msg: String, location: String) {
    let location = if location.is_empty() { V::Unset } else { V::String(location) };
    REPORTER.write(&[V::Time(t), V::Enum(level.into()), V::String(msg), location]);
}

struct Reporter;

impl Handler for Reporter {
    fn reporter_info(t: f64, msg: String, location: String) {
        write(t, "Reporter::INFO", msg, location);
    }
    fn reporter_warning(t: f64, msg: String, location: String) {
        write(t, "Reporter::WARNING", msg, location);
    }
    fn reporter_error(t: f64, msg: String, location: String) {
        write(t, "Reporter::ERROR", msg, location);
    }
}

weir_guest::export_handler!(Reporter: reporter_info, reporter_warning, reporter_error);
