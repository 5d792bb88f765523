//! The analyzers attached to one connection (Zeek's analyzer tree, flat):
//! what the registry chose at creation, minus any that declined the first
//! data. The set hands data to each in turn, records their protocol
//! confirmations and violations on the connection, and returns the rest of
//! what they found for the session layer to carry out.

use super::analyzer::{Analyzer, Outcome, Outcomes};
use super::registry::Tag;

/// What an analyzer of the set has said about its protocol so far.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Status {
    /// It confirmed the protocol (at least once).
    pub confirmed: bool,
    /// The reasons of the violations it reported, in order.
    pub violations: Vec<String>,
}

#[derive(Clone, Debug)]
struct Entry {
    analyzer: Box<dyn Analyzer>,
    status: Status,
}

/// A connection's analyzers, in the order they were added.
#[derive(Clone, Debug, Default)]
pub struct AnalyzerSet {
    entries: Vec<Entry>,
    probed: bool,
}

/// What the set's analyzers found that the session layer carries out:
/// weirds, limits and role flips, each with the analyzer that found it.
pub type Effects = Vec<(Tag, Outcome)>;

impl AnalyzerSet {
    /// Adds an analyzer.
    pub fn add(&mut self, analyzer: Box<dyn Analyzer>) {
        self.entries.push(Entry { analyzer, status: Status::default() });
    }

    /// Whether no analyzer is attached.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// The tags of the attached analyzers, in order.
    pub fn tags(&self) -> Vec<Tag> {
        self.entries.iter().map(|e| e.analyzer.tag()).collect()
    }

    /// What the analyzer `tag` has said so far, if attached.
    pub fn status(&self, tag: Tag) -> Option<&Status> {
        self.entries.iter().find(|e| e.analyzer.tag() == tag).map(|e| &e.status)
    }

    /// The next in-order TCP bytes from the originator when `is_orig`.
    pub fn stream(&mut self, is_orig: bool, data: &[u8]) -> Effects {
        self.probe(is_orig, data);
        self.each(|a, out| a.stream(is_orig, data, out))
    }

    /// A UDP datagram's payload from the originator when `is_orig`.
    pub fn datagram(&mut self, is_orig: bool, data: &[u8]) -> Effects {
        self.probe(is_orig, data);
        self.each(|a, out| a.datagram(is_orig, data, out))
    }

    /// Bytes of one direction that never came.
    pub fn gap(&mut self, is_orig: bool) -> Effects {
        self.each(|a, out| a.gap(is_orig, out))
    }

    /// The end of one direction's data.
    pub fn end_of_data(&mut self, is_orig: bool) -> Effects {
        self.each(|a, out| a.end_of_data(is_orig, out))
    }

    /// On the first data, drops the analyzers that decline it.
    fn probe(&mut self, is_orig: bool, data: &[u8]) {
        if !self.probed {
            self.probed = true;
            self.entries.retain(|e| e.analyzer.probe(is_orig, data));
        }
    }

    /// Runs `f` on every analyzer; confirmations and violations are recorded,
    /// the rest is returned in order.
    fn each(&mut self, mut f: impl FnMut(&mut dyn Analyzer, &mut Outcomes)) -> Effects {
        let mut effects = Vec::new();
        for e in &mut self.entries {
            let mut out = Outcomes::default();
            f(e.analyzer.as_mut(), &mut out);
            let tag = e.analyzer.tag();
            for o in out.0 {
                match o {
                    Outcome::Confirm => e.status.confirmed = true,
                    Outcome::Violate(reason) => e.status.violations.push(reason),
                    o => effects.push((tag, o)),
                }
            }
        }
        effects
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Declines data starting with `no`; confirms `ok`, violates `bad`,
    /// turns `w` into a weird and `f` into a flip.
    #[derive(Clone, Debug, Default)]
    struct Toy {
        seen: Vec<String>,
    }

    impl Analyzer for Toy {
        fn tag(&self) -> Tag {
            Tag::Ftp
        }
        fn probe(&self, _: bool, data: &[u8]) -> bool {
            !data.starts_with(b"no")
        }
        fn stream(&mut self, is_orig: bool, data: &[u8], out: &mut Outcomes) {
            self.seen.push(format!("{is_orig}:{}", String::from_utf8_lossy(data)));
            match data {
                b"ok" => out.push(Outcome::Confirm),
                b"bad" => out.push(Outcome::Violate("bad".into())),
                b"w" => out.push(Outcome::Weird("toy_weird", "x".into())),
                b"f" => out.push(Outcome::FlipRoles),
                _ => {}
            }
        }
        fn gap(&mut self, is_orig: bool, out: &mut Outcomes) {
            out.push(Outcome::Limit("toy_gap", is_orig.to_string()));
        }
        fn clone_box(&self) -> Box<dyn Analyzer> {
            Box::new(self.clone())
        }
    }

    #[test]
    fn confirmations_and_violations_are_recorded_effects_returned() {
        let mut s = AnalyzerSet::default();
        s.add(Box::new(Toy::default()));
        assert!(s.stream(true, b"ok").is_empty());
        assert!(s.stream(false, b"bad").is_empty());
        assert_eq!(s.status(Tag::Ftp), Some(&Status { confirmed: true, violations: vec!["bad".into()] }));
        assert_eq!(s.stream(true, b"w"), [(Tag::Ftp, Outcome::Weird("toy_weird", "x".into()))]);
        assert_eq!(s.stream(true, b"f"), [(Tag::Ftp, Outcome::FlipRoles)]);
        assert_eq!(s.gap(false), [(Tag::Ftp, Outcome::Limit("toy_gap", "false".into()))]);
        assert!(s.end_of_data(true).is_empty(), "the default ignores the end");
        assert!(s.datagram(true, b"w").is_empty(), "the default ignores datagrams");
        assert_eq!(s.status(Tag::Ntp), None);
    }

    #[test]
    fn an_analyzer_declining_the_first_data_goes() {
        let mut s = AnalyzerSet::default();
        s.add(Box::new(Toy::default()));
        assert!(s.stream(true, b"no thanks").is_empty());
        assert!(s.is_empty());
        let mut s = AnalyzerSet::default();
        s.add(Box::new(Toy::default()));
        s.stream(true, b"hello");
        s.stream(true, b"no longer asked");
        assert_eq!(s.tags(), [Tag::Ftp], "only the first data is probed");
        let copy = s.clone();
        assert_eq!(copy.tags(), [Tag::Ftp]);
    }
}
