//! The signature engine: Zeek's `.sig` language read unchanged
//! ([`parser`]), header conditions ([`header`]), content patterns compiled
//! per group into one lazy DFA ([`patterns`]), and per-connection matching
//! with Zeek's semantics ([`matcher`]). What fired is handed back as
//! [`Fired`] records; the session layer turns their actions into events
//! and analyzer requests ([`actions`]).

pub mod actions;
pub mod header;
pub mod lexer;
pub mod matcher;
pub mod parser;
pub mod patterns;
pub mod regex;
pub mod rule;
pub mod set;

pub use header::PacketView;
pub use matcher::{Budget, ConnFacts, ConnMatch, Fired, Matcher, Output};
pub use parser::{parse, parse_ident, IdentValue, Idents, ParseError};
pub use rule::{Action, PatternType, Rule};
pub use set::{LoadError, RuleSet};

#[cfg(test)]
mod tests;
