//! What a fired signature's actions ask for, sorted out for the session
//! layer: events to raise (Zeek's `signature_match`, or a custom event
//! name), analyzers to enable or disable, MIME types.

use super::matcher::Fired;
use super::rule::Action;
use super::set::RuleSet;

/// An event a fired signature raises.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SigEvent {
    /// The custom event's name (`event name ["msg"]`), None for `signature_match`.
    pub name: Option<String>,
    /// The signature's id.
    pub sig_id: String,
    /// The message (empty when the action has none).
    pub msg: String,
    /// Whether the custom event has a message argument.
    pub has_msg: bool,
}

/// Everything the actions of `f` ask for: events, then analyzers to enable
/// and disable (Zeek's analyzer names as written, with `f.is_orig`).
pub fn sort_out(set: &RuleSet, f: &Fired) -> (Vec<SigEvent>, Vec<(String, bool)>, Vec<String>) {
    let r = set.rule(f.rule);
    let mut events = Vec::new();
    let mut enable = Vec::new();
    let mut disable = Vec::new();
    for a in &r.actions {
        match a {
            Action::Event { name, msg } => events.push(SigEvent {
                name: name.clone(),
                sig_id: r.id.clone(),
                msg: msg.clone().unwrap_or_default(),
                has_msg: msg.is_some(),
            }),
            Action::Enable(a) => enable.push((a.clone(), f.is_orig)),
            Action::Disable(a) => disable.push(a.clone()),
            Action::FileMime { .. } => {}
        }
    }
    (events, enable, disable)
}
