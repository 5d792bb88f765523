//! A loaded signature set: the rules, their header-condition sets, the
//! pattern groups compiled from them, and the dependencies between rules
//! resolved to indices.

use super::parser::{parse, Idents, ParseError};
use super::patterns::Group;
use super::regex::translate;
use super::rule::{Action, HdrTest, PatternType, Rule};
use std::collections::HashMap;

/// One compiled group: the patterns of one type under one header-condition set.
#[derive(Clone, Debug)]
pub struct GroupInfo {
    /// The pattern type.
    pub kind: PatternType,
    /// The header-condition set its rules share.
    pub hdr_set: u32,
    /// The DFA.
    pub group: Group,
    /// Per pattern of the group: (rule index, index of the pattern in the rule).
    pub owners: Vec<(u32, u32)>,
}

/// A dependency of a rule, resolved.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Precond {
    /// The rule required.
    pub rule: u32,
    /// On the other side.
    pub reverse: bool,
    /// Must not have matched.
    pub negate: bool,
}

/// A signature set ready for matching.
#[derive(Clone, Debug, Default)]
pub struct RuleSet {
    /// The rules, in load order.
    pub rules: Vec<Rule>,
    /// The distinct header-condition sets.
    pub hdr_sets: Vec<Vec<HdrTest>>,
    /// Per rule: its header-condition set.
    pub rule_hdr: Vec<u32>,
    /// Per rule: its patterns as (group, index in group).
    pub rule_patterns: Vec<Vec<(u32, u32)>>,
    /// Per rule: its dependencies.
    pub preconds: Vec<Vec<Precond>>,
    /// Per rule: the rules that depend on it.
    pub dependents: Vec<Vec<u32>>,
    /// Per header-condition set: its rules without patterns, latest first
    /// (the order Zeek's rule tree tries them in).
    pub pure_rules: Vec<Vec<u32>>,
    /// Per header-condition set: where Zeek's rule tree visits it, breadth
    /// first, a node's latest child first; sets are tried in this order.
    pub hdr_rank: Vec<u32>,
    /// The compiled groups.
    pub groups: Vec<GroupInfo>,
}

/// weir's own protocol detection rules, loaded unless the operator says
/// otherwise (`--no-dpd-signatures`): (name in messages, text).
pub const DPD_SIGNATURES: (&str, &str) = ("weir:dpd.sig", include_str!("../../signatures/dpd.sig"));

/// Why a signature set did not load.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LoadError {
    /// A file could not be read.
    Io(String, String),
    /// A file did not parse.
    Parse(ParseError),
    /// A signature is wrong in itself (its location and what).
    Rule(String, String),
}

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            LoadError::Io(file, e) => write!(f, "cannot read signature file {file}: {e}"),
            LoadError::Parse(e) => e.fmt(f),
            LoadError::Rule(loc, e) => write!(f, "error in signature ({loc}): {e}"),
        }
    }
}

impl std::error::Error for LoadError {}

impl RuleSet {
    /// Whether some rule has a pattern of `kind` (only then is content of
    /// that kind worth handing to the matcher).
    pub fn has_kind(&self, kind: super::PatternType) -> bool {
        self.groups.iter().any(|g| g.kind == kind)
    }

    /// The `eval` conditions' functions: (function, location of the first
    /// active signature that calls it), in load order.
    pub fn eval_functions(&self) -> Vec<(&str, &str)> {
        let mut out: Vec<(&str, &str)> = Vec::new();
        for r in self.rules.iter().filter(|r| r.active) {
            for c in &r.conds {
                if let super::rule::Cond::Eval(f) = c {
                    if !out.iter().any(|(g, _)| g == f) {
                        out.push((f, &r.location));
                    }
                }
            }
        }
        out
    }

    /// Refuses a set whose `eval` conditions call a function no handler
    /// answers for (`known`), as Zeek refuses an unknown identifier.
    pub fn check_eval_functions(&self, known: &[String]) -> Result<(), LoadError> {
        match self.eval_functions().into_iter().find(|(f, _)| !known.iter().any(|k| k == f)) {
            Some((f, loc)) => Err(LoadError::Rule(
                loc.to_string(),
                format!("eval {f}: no loaded handler answers for this function (signature-eval.functions)"),
            )),
            None => Ok(()),
        }
    }

    /// Reads and compiles signature files, after weir's own detection rules
    /// ([`DPD_SIGNATURES`]) when `dpd` is set.
    pub fn load(dpd: bool, paths: &[std::path::PathBuf], idents: &Idents) -> Result<RuleSet, LoadError> {
        let mut rules = Vec::new();
        if dpd {
            rules.extend(parse(DPD_SIGNATURES.0, DPD_SIGNATURES.1.as_bytes(), idents).map_err(LoadError::Parse)?);
        }
        rules.extend(RuleSet::read(paths, idents)?);
        RuleSet::compile(rules)
    }

    /// Reads and compiles signature files.
    pub fn load_files(paths: &[std::path::PathBuf], idents: &Idents) -> Result<RuleSet, LoadError> {
        RuleSet::compile(RuleSet::read(paths, idents)?)
    }

    fn read(paths: &[std::path::PathBuf], idents: &Idents) -> Result<Vec<Rule>, LoadError> {
        let mut rules = Vec::new();
        for p in paths {
            let name = p.display().to_string();
            let text = std::fs::read(p).map_err(|e| LoadError::Io(name.clone(), e.to_string()))?;
            rules.extend(parse(&name, &text, idents).map_err(LoadError::Parse)?);
        }
        Ok(rules)
    }

    /// Compiles parsed rules. Inactive rules (`active false`) are left out.
    pub fn compile(rules: Vec<Rule>) -> Result<RuleSet, LoadError> {
        let rules: Vec<Rule> = rules.into_iter().filter(|r| r.active).collect();
        let mut s = RuleSet { rules, ..RuleSet::default() };
        let index: HashMap<&str, u32> = s.rules.iter().enumerate().map(|(i, r)| (r.id.as_str(), i as u32)).collect();
        let mut hdr_index: HashMap<Vec<HdrTest>, u32> = HashMap::new();
        let mut group_index: HashMap<(PatternType, u32), usize> = HashMap::new();
        let mut sources: Vec<Vec<String>> = Vec::new();
        for (ri, r) in s.rules.iter().enumerate() {
            let n = s.hdr_sets.len() as u32;
            let h = *hdr_index.entry(r.hdr.clone()).or_insert_with(|| {
                s.hdr_sets.push(r.hdr.clone());
                s.pure_rules.push(Vec::new());
                n
            });
            s.rule_hdr.push(h);
            let mut pats = Vec::new();
            for (pi, p) in r.patterns.iter().enumerate() {
                let re = translate(&p.regex).map_err(|e| LoadError::Rule(r.location.clone(), e))?;
                let g = *group_index.entry((p.kind, h)).or_insert_with(|| {
                    s.groups.push(GroupInfo { kind: p.kind, hdr_set: h, group: Group::build(&[]).unwrap(), owners: Vec::new() });
                    sources.push(Vec::new());
                    s.groups.len() - 1
                });
                pats.push((g as u32, s.groups[g].owners.len() as u32));
                s.groups[g].owners.push((ri as u32, pi as u32));
                sources[g].push(re);
            }
            if pats.is_empty() {
                s.pure_rules[h as usize].insert(0, ri as u32);
            }
            s.rule_patterns.push(pats);
            let mut pre = Vec::new();
            for q in &r.requires {
                let Some(&rule) = index.get(q.id.as_str()) else {
                    return Err(LoadError::Rule(r.location.clone(), format!("unknown signature {} in requires-signature", q.id)));
                };
                pre.push(Precond { rule, reverse: q.reverse, negate: q.negate });
            }
            s.preconds.push(pre);
        }
        s.hdr_rank = tree_ranks(&s.hdr_sets);
        s.dependents = vec![Vec::new(); s.rules.len()];
        for (ri, pre) in s.preconds.iter().enumerate() {
            for p in pre {
                if !s.dependents[p.rule as usize].contains(&(ri as u32)) {
                    s.dependents[p.rule as usize].push(ri as u32);
                }
            }
        }
        for (g, src) in sources.iter().enumerate() {
            s.groups[g].group = Group::build(src).map_err(|e| {
                let (ri, _) = s.groups[g].owners[0];
                LoadError::Rule(s.rules[ri as usize].location.clone(), format!("bad pattern: {e}"))
            })?;
        }
        Ok(s)
    }

    /// The rule with index `i`.
    pub fn rule(&self, i: u32) -> &Rule {
        &self.rules[i as usize]
    }

    /// Number of signatures.
    pub fn len(&self) -> usize {
        self.rules.len()
    }

    /// Whether the set has no signature.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Whether some signature raises an event when it fires.
    pub fn raises_events(&self) -> bool {
        self.rules.iter().any(|r| r.actions.iter().any(|a| matches!(a, Action::Event { .. })))
    }

    /// Whether some signature enables an analyzer (dynamic protocol detection).
    pub fn detects(&self) -> bool {
        self.rules.iter().any(|r| r.actions.iter().any(|a| matches!(a, Action::Enable(_))))
    }

    /// Whether some signature has a pattern of another type than `file-magic`
    /// or none at all (Zeek's `HasNonFileMagicRule`): only then is traffic matched.
    pub fn matches_traffic(&self) -> bool {
        self.rules.iter().any(|r| r.patterns.is_empty() || r.patterns.iter().any(|p| p.kind != PatternType::FileMagic))
    }
}

/// The breadth-first rank of each header-condition set in Zeek's rule tree:
/// a set's tests, in order, are a path from the root; a new child goes in
/// front of its siblings.
fn tree_ranks(sets: &[Vec<HdrTest>]) -> Vec<u32> {
    // Nodes: (test, children latest first); node 0 is the root.
    let mut nodes: Vec<(Option<&HdrTest>, Vec<usize>)> = vec![(None, Vec::new())];
    let mut node_of = Vec::with_capacity(sets.len());
    for tests in sets {
        let mut at = 0;
        for t in tests {
            let found = nodes[at].1.iter().copied().find(|&c| nodes[c].0 == Some(t));
            at = match found {
                Some(c) => c,
                None => {
                    nodes.push((Some(t), Vec::new()));
                    let n = nodes.len() - 1;
                    nodes[at].1.insert(0, n);
                    n
                }
            };
        }
        node_of.push(at);
    }
    let mut rank = vec![0u32; nodes.len()];
    let mut queue = std::collections::VecDeque::from([0usize]);
    let mut next = 0;
    while let Some(n) = queue.pop_front() {
        rank[n] = next;
        next += 1;
        queue.extend(nodes[n].1.iter().copied());
    }
    node_of.iter().map(|&n| rank[n]).collect()
}
