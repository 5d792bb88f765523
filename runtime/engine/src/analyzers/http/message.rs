//! One HTTP message (a request or a reply) after Zeek's `HTTP_Message`:
//! its top entity, when it started, and the statistics
//! `http_message_done` reports when it ends, normally or interrupted.

use super::entity::{Entity, Env, ExpectBody, Totals};
use super::{MessageStat, Out, Want};

/// A request or reply being parsed.
#[derive(Clone, Debug)]
pub struct Message {
    top: Entity,
    totals: Totals,
    start: f64,
    content_gap_length: u64,
    finished: bool,
}

/// Why a message ended normally, in `http_message_stat`.
pub const ENDS_NORMALLY: &str = "message ends normally";

impl Message {
    /// A new message whose first line (`header_length` bytes) was just read;
    /// raises `http_begin_entity` for its top entity.
    pub fn new(expect_body: ExpectBody, header_length: u64, env_sink: &mut dyn super::Sink, is_orig: bool) -> Message {
        if env_sink.wants(Want::BeginEntity) {
            env_sink.emit(Out::BeginEntity { is_orig });
        }
        Message {
            top: Entity::new(0, false, None, expect_body),
            totals: Totals { header_length, ..Totals::default() },
            start: env_sink.now(),
            content_gap_length: 0,
            finished: false,
        }
    }

    /// Whether the message has ended.
    pub fn finished(&self) -> bool {
        self.finished
    }

    /// Feeds one line (`trailing_crlf`) or plain stretch; whether the
    /// message ended normally with it.
    pub fn deliver(&mut self, d: &[u8], trailing_crlf: bool, env: &mut EnvParts) -> bool {
        let mut e = env.env(&mut self.totals);
        self.top.deliver(d, trailing_crlf, &mut e);
        self.end_if_done(env)
    }

    /// A gap of `len` bytes; `Some(ended)` if it lay inside the body.
    pub fn undelivered(&mut self, len: i64, env: &mut EnvParts) -> Option<bool> {
        let mut e = env.env(&mut self.totals);
        if self.top.undelivered(len, &mut e) {
            self.content_gap_length += len as u64;
            return Some(self.end_if_done(env));
        }
        None
    }

    fn end_if_done(&mut self, env: &mut EnvParts) -> bool {
        if self.totals.top_ended && !self.finished {
            self.done(false, ENDS_NORMALLY, env);
            return true;
        }
        false
    }

    /// Ends the message (`HTTP_Message::Done`): the top entity ends, then
    /// `http_message_done`. Only the first call counts.
    pub fn done(&mut self, interrupted: bool, finish_msg: &'static str, env: &mut EnvParts) {
        if self.finished {
            return;
        }
        self.finished = true;
        let mut e = env.env(&mut self.totals);
        self.top.end(&mut e);
        if env.sink.wants(Want::MessageDone) {
            let stat = MessageStat {
                start: self.start,
                interrupted,
                finish_msg,
                body_length: self.totals.body_length,
                content_gap_length: self.content_gap_length,
                header_length: self.totals.header_length,
            };
            env.sink.emit(Out::MessageDone { is_orig: env.is_orig, stat });
        }
    }
}

/// The parts of an [`Env`] that outlive one message call.
pub struct EnvParts<'a> {
    /// Where findings go.
    pub sink: &'a mut dyn super::Sink,
    /// The direction's line splitter.
    pub cl: &'a mut super::content_line::ContentLine,
    /// The direction.
    pub is_orig: bool,
    /// Settings.
    pub settings: &'a super::Settings,
    /// Analyzer state.
    pub shared: &'a mut super::entity::Shared,
}

impl EnvParts<'_> {
    fn env<'b>(&'b mut self, totals: &'b mut Totals) -> Env<'b> {
        Env {
            sink: &mut *self.sink,
            cl: &mut *self.cl,
            is_orig: self.is_orig,
            settings: self.settings,
            shared: &mut *self.shared,
            totals,
        }
    }
}
