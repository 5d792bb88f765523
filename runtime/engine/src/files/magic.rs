//! MIME detection: the `file-magic` signatures of a signature set with
//! their `file-mime "type", strength` actions, compiled into one lazy DFA
//! (the signature engine's [`Group`]) and matched over a file's BOF buffer.
//! Every pattern is anchored at the start of the file. The matches come
//! strongest first; types of equal strength in byte order, the first of them
//! is the file's type (Zeek keeps them in a map from strength, descending,
//! to an ordered set of types).

use crate::signatures::patterns::{Group, GroupCache, Stream};
use crate::signatures::regex::translate;
use crate::signatures::{Action, LoadError, PatternType, Rule, RuleSet};

/// weir's own MIME signatures, used unless the operator loads others
/// (`--magic`): (name in messages, text).
pub const MAGIC_SIGNATURES: (&str, &str) = ("weir:magic.sig", include_str!("../../signatures/magic.sig"));

/// The compiled `file-magic` signatures.
#[derive(Clone, Debug)]
pub struct Magic {
    group: Group,
    /// Per pattern of the group: the rule's (strength, MIME type) pairs.
    types: Vec<Vec<(i64, String)>>,
}

impl Magic {
    /// weir's own MIME signatures ([`MAGIC_SIGNATURES`]).
    pub fn builtin() -> Magic {
        let rules = crate::signatures::parse(MAGIC_SIGNATURES.0, MAGIC_SIGNATURES.1.as_bytes(), &Default::default())
            .expect("weir's magic signatures parse");
        Magic::from_rules(&rules).expect("weir's magic signatures compile")
    }

    /// The MIME signatures of signature files (`file-magic` rules; others
    /// in them are ignored).
    pub fn load(paths: &[std::path::PathBuf]) -> Result<Magic, LoadError> {
        let set = RuleSet::load_files(paths, &Default::default())?;
        Magic::from_rules(&set.rules)
    }

    /// The MIME signatures among `rules`: each active rule with a
    /// `file-magic` pattern and a `file-mime` action.
    pub fn from_rules(rules: &[Rule]) -> Result<Magic, LoadError> {
        let mut sources = Vec::new();
        let mut types = Vec::new();
        for r in rules.iter().filter(|r| r.active) {
            let mimes: Vec<(i64, String)> = r
                .actions
                .iter()
                .filter_map(|a| match a {
                    Action::FileMime { mime, strength } => Some((*strength, mime.clone())),
                    _ => None,
                })
                .collect();
            if mimes.is_empty() {
                continue;
            }
            for p in r.patterns.iter().filter(|p| p.kind == PatternType::FileMagic) {
                sources.push(translate(&p.regex).map_err(|e| LoadError::Rule(r.location.clone(), e))?);
                types.push(mimes.clone());
            }
        }
        let group = Group::build(&sources).map_err(|e| LoadError::Rule("file-magic".into(), format!("bad pattern: {e}")))?;
        Ok(Magic { group, types })
    }

    /// Number of patterns.
    pub fn len(&self) -> usize {
        self.types.len()
    }

    /// Whether there is no pattern.
    pub fn is_empty(&self) -> bool {
        self.types.is_empty()
    }

    /// A DFA cache for one worker.
    pub fn cache(&self) -> GroupCache {
        self.group.cache()
    }

    /// The MIME types `data` (a file's first bytes) matches: strongest
    /// first, equal strengths in byte order of the type, each pair once.
    pub fn detect(&self, cache: &mut GroupCache, data: &[u8]) -> Vec<(i64, String)> {
        if self.types.is_empty() {
            return Vec::new();
        }
        let mut st = Stream::default();
        self.group.feed(cache, &mut st, data);
        let mut out: Vec<(i64, String)> =
            st.accepted.iter().flat_map(|(p, _)| self.types[*p as usize].iter().cloned()).collect();
        out.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        out.dedup();
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn magic(text: &str) -> Magic {
        Magic::from_rules(&crate::signatures::parse("t.sig", text.as_bytes(), &Default::default()).unwrap()).unwrap()
    }

    #[test]
    fn strongest_first_and_ties_in_byte_order() {
        let m = magic(
            "signature a { file-magic /^GIF8/ file-mime \"image/gif\", 70 }\n\
             signature b { file-magic /.*<html/ file-mime \"text/html\", 20 }\n\
             signature c { file-magic /^GIF/ file-mime \"image/agif\", 70 }\n\
             signature d { payload /^GIF/ event \"not magic\" }\n",
        );
        let mut c = m.cache();
        let got = m.detect(&mut c, b"GIF89a <html>");
        assert_eq!(got, [(70, "image/agif".into()), (70, "image/gif".into()), (20, "text/html".into())]);
        assert!(m.detect(&mut c, b"xGIF8").is_empty(), "patterns are anchored at the start");
        assert_eq!(m.len(), 3, "rules without file-mime or file-magic are left out");
    }

    #[test]
    fn the_builtin_set_knows_common_formats() {
        let m = Magic::builtin();
        let mut c = m.cache();
        let top = |d: &[u8], c: &mut GroupCache| m.detect(c, d).first().map(|x| x.1.clone());
        assert_eq!(top(b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR", &mut c).as_deref(), Some("image/png"));
        assert_eq!(top(b"%PDF-1.4\n", &mut c).as_deref(), Some("application/pdf"));
        assert_eq!(top(b"<!DOCTYPE html><html>", &mut c).as_deref(), Some("text/html"));
        assert_eq!(top(b"\x1f\x8b\x08\0", &mut c).as_deref(), Some("application/x-gzip"));
        assert_eq!(top(b"MZ\x90\0", &mut c).as_deref(), Some("application/x-dosexec"));
        assert_eq!(top(b"hello world\n", &mut c).as_deref(), Some("text/plain"));
        assert_eq!(top(b"\0\x01\x02\x03", &mut c), None);
    }
}
