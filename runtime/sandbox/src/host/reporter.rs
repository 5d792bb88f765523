//! `weir:events/reporter`: handlers' reporter messages, collapsed and
//! rate-limited per round, and the reporter events they raise.

use super::{escape_controls, HostState, Level, Shared};
use crate::bindings::weir::events::reporter as wreporter;
use weir_engine::events::Event;

/// Longest reporter message a handler may send, in bytes; longer ones are cut.
pub const MAX_MESSAGE_BYTES: usize = 4096;

/// A reporter message waiting for the end of the round; repeats only raise `count`.
pub(super) struct Pending {
    level: Level,
    msg: String,
    location: String,
    quiet: bool,
    count: u64,
}

impl Shared {
    /// Queues a reporter message; an identical pending one (same level, text,
    /// location and quietness) only has its count raised. At the end of the round
    /// ([`Shared::take_caused`]) each goes to stderr (tracing) and, unless `quiet`
    /// (raised inside a reporter handler), becomes the matching reporter event.
    pub(crate) fn report(&mut self, level: Level, msg: String, location: &str, quiet: bool) {
        self.collapse(level, msg, location, quiet);
    }

    /// Adds to a pending identical message; true if there was one.
    fn collapse(&mut self, level: Level, msg: String, location: &str, quiet: bool) -> bool {
        let key = (level, msg, location.to_string(), quiet);
        if let Some(&i) = self.pending_index.get(&key) {
            self.pending[i].count += 1;
            return true;
        }
        let (level, msg, location, quiet) = key.clone();
        self.pending_index.insert(key, self.pending.len());
        self.pending.push(Pending { level, msg, location, quiet, count: 1 });
        false
    }

    /// A reporter call from handler `handler`: cut to [`MAX_MESSAGE_BYTES`], collapsed
    /// with an identical pending message, else counted against the handler's
    /// messages-per-second cap (dropped past it).
    pub(crate) fn report_from_handler(&mut self, handler: usize, name: &str, level: Level, msg: String, quiet: bool) {
        let msg = truncate_message(msg);
        let key = (level, msg, name.to_string(), quiet);
        if let Some(&i) = self.pending_index.get(&key) {
            self.pending[i].count += 1;
            return;
        }
        let cap = self.max_messages_per_sec;
        let now = self.clock.get();
        let rate = self.rate(handler, name, now);
        if rate.messages >= cap {
            rate.messages_dropped += 1;
            return;
        }
        rate.messages += 1;
        let (level, msg, location, quiet) = key;
        self.collapse(level, msg, &location, quiet);
    }

    /// Ends the round: rolls the rate windows, writes the pending reporter messages
    /// to stderr (`… (N times)` for collapsed ones) and returns the reporter events
    /// they raise.
    pub(crate) fn take_caused(&mut self) -> Vec<Event> {
        let now = self.clock.get();
        self.roll_rate_windows(now);
        self.pending_index.clear();
        for p in std::mem::take(&mut self.pending) {
            let msg = if p.count > 1 { format!("{} ({} times)", p.msg, p.count) } else { p.msg };
            let location = p.location.as_str();
            // On stderr a message stays on its line: no line breaks, no terminal escapes.
            let shown = escape_controls(&msg);
            match p.level {
                Level::Info => tracing::info!(location, "{shown}"),
                Level::Warning => tracing::warn!(location, "{shown}"),
                Level::Error => tracing::error!(location, "{shown}"),
            }
            if p.quiet {
                continue;
            }
            let t = self.clock.get();
            let location = p.location;
            self.caused.push(match p.level {
                Level::Info => Event::ReporterInfo { t, msg, location },
                Level::Warning => Event::ReporterWarning { t, msg, location },
                Level::Error => Event::ReporterError { t, msg, location },
            });
        }
        std::mem::take(&mut self.caused)
    }
}

impl HostState {
    /// A reporter call of this handler (its bytes charged as fuel).
    fn report(&mut self, level: Level, msg: String) {
        self.charge += msg.len() as u64;
        let quiet = self.quiet;
        self.shared.lock().expect("sandbox state").report_from_handler(self.handler, &self.name, level, msg, quiet);
    }
}

impl wreporter::Host for HostState {
    fn info(&mut self, msg: String) {
        self.report(Level::Info, msg);
    }
    fn warning(&mut self, msg: String) {
        self.report(Level::Warning, msg);
    }
    fn error(&mut self, msg: String) {
        self.report(Level::Error, msg);
    }
}

/// Cuts a message to [`MAX_MESSAGE_BYTES`] (at a character boundary), saying how long it was.
fn truncate_message(msg: String) -> String {
    if msg.len() <= MAX_MESSAGE_BYTES {
        return msg;
    }
    let mut end = MAX_MESSAGE_BYTES;
    while !msg.is_char_boundary(end) {
        end -= 1;
    }
    format!("{}... (cut, {} bytes)", &msg[..end], msg.len())
}
