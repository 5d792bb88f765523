//! Traces every dispatched event through `new_event`: one `events.log` line
//! per event with its name and its arguments rendered as text; and
//! `file_opened`, which it takes itself, with the path.

use weir_guest::log::{LogType as T, LogValue as V};
use weir_guest::types::{CallArgument, OpenedFile};
use weir_guest::{runtime, Handler, Stream};

static EVENTS: Stream = Stream::new("events", &[("ts", T::Time), ("name", T::String), ("args", T::String)]);

struct Trace;

impl Handler for Trace {
    fn new_event(name: String, params: Vec<CallArgument>) {
        let args: Vec<String> =
            params.iter().map(|p| format!("{}: {} = {}", p.name, p.type_name, p.value.as_deref().unwrap_or("-"))).collect();
        EVENTS.write(&[V::Time(runtime::network_time()), V::String(name), V::String(args.join("; "))]);
    }

    fn file_opened(f: OpenedFile) {
        EVENTS.write(&[V::Time(runtime::network_time()), V::String("file_opened".into()), V::String(f.path)]);
    }
}

weir_guest::export_handler!(Trace: new_event, file_opened);
