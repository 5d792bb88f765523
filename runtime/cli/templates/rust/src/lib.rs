//! {{name}}: a weir handler. Writes one line per connection to {{name}}.log.

use weir_guest::log::{LogType as T, LogValue as V};
use weir_guest::types::Connection;
use weir_guest::{Handler, Stream};

static LOG: Stream = Stream::new(
    "{{name}}",
    &[("ts", T::Time), ("uid", T::String), ("orig_h", T::Addr), ("resp_p", T::Port), ("history", T::String)],
);

struct {{type}};

impl Handler for {{type}} {
    fn connection_state_remove(c: Connection) {
        LOG.write(&[
            V::Time(c.start_time),
            V::String(c.uid),
            V::Addr(c.id.orig_h),
            V::Port(c.id.resp_p),
            V::String(c.history),
        ]);
    }
}

// The events this handler takes; each is a method of `Handler` above.
weir_guest::export_handler!({{type}}: connection_state_remove);
