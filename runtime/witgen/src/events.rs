//! The engine's event set: `EventKind`, the typed `Event`, `Subscriptions`.
//!
//! The generated code refers to the plain types of [`crate::plain::types`]
//! and to `crate::render` for `new_event`'s argument text.

use std::fmt::Write as _;
use wit_parser::{Type, TypeDefKind};

use crate::names::doc_lines;
use crate::{plain, EventDef, Wit};

/// The Rust type of an event field: records and variants are boxed so that
/// `Event` stays small.
fn field_ty(wit: &Wit, ty: &Type) -> String {
    if let Type::Id(id) = ty {
        let id = wit.canonical(*id);
        let td = &wit.resolve.types[id];
        if wit.native(id).is_none() && td.name.is_some() && matches!(td.kind, TypeDefKind::Record(_) | TypeDefKind::Variant(_)) {
            return format!("::std::boxed::Box<{}>", plain::ty(wit, ty));
        }
    }
    plain::ty(wit, ty)
}

/// `EventKind`, `Event` (with `kind`, `name` and `arguments`) and
/// `Subscriptions` for every event of the WIT.
pub fn events(wit: &Wit, events: &[EventDef]) -> String {
    let mut out = String::new();
    let n = events.len();
    let words = n.div_ceil(64);

    // EventKind.
    out.push_str("/// Every event the WIT declares, by name. The discriminant indexes [`Subscriptions`].\n");
    out.push_str("#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]\n#[repr(u16)]\npub enum EventKind {\n");
    for e in events {
        writeln!(out, "    /// `{}`.\n    {},", e.zeek, e.variant).unwrap();
    }
    out.push_str("}\n\n");
    writeln!(out, "impl EventKind {{\n    /// How many events the WIT declares.\n    pub const COUNT: usize = {n};").unwrap();
    out.push_str("    /// All kinds, in the order the WIT's events world exports them.\n    pub const ALL: &'static [EventKind] = &[\n");
    for e in events {
        writeln!(out, "        EventKind::{},", e.variant).unwrap();
    }
    out.push_str("    ];\n");
    out.push_str("    /// The event's name in Zeek (`new_connection`).\n    pub fn name(self) -> &'static str {\n        match self {\n");
    for e in events {
        writeln!(out, "            EventKind::{} => \"{}\",", e.variant, e.zeek).unwrap();
    }
    out.push_str("        }\n    }\n");
    out.push_str("    /// The WIT interface of the event (`new-connection`).\n    pub fn interface(self) -> &'static str {\n        match self {\n");
    for e in events {
        writeln!(out, "            EventKind::{} => \"{}\",", e.variant, e.wit).unwrap();
    }
    out.push_str("        }\n    }\n");
    out.push_str("    /// The event's family: the WIT world `<family>-events` that exports it (`connection`).\n    pub fn family(self) -> &'static str {\n        match self {\n");
    for e in events {
        writeln!(out, "            EventKind::{} => \"{}\",", e.variant, e.family).unwrap();
    }
    out.push_str("        }\n    }\n");
    out.push_str("    /// The WIT's doc comment of the event's function: when it is raised, or why it is not.\n    pub fn doc(self) -> &'static str {\n        match self {\n");
    for e in events {
        writeln!(out, "            EventKind::{} => {:?},", e.variant, e.docs.as_deref().unwrap_or("").trim()).unwrap();
    }
    out.push_str("        }\n    }\n");
    out.push_str("    /// The kind whose Zeek name is `name`.\n    pub fn from_name(name: &str) -> Option<EventKind> {\n        match name {\n");
    for e in events {
        writeln!(out, "            \"{}\" => Some(EventKind::{}),", e.zeek, e.variant).unwrap();
    }
    out.push_str("            _ => None,\n        }\n    }\n}\n\n");

    // Subscriptions.
    writeln!(
        out,
        "/// A set of event kinds (those at least one loaded handler takes), one bit per kind.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Subscriptions([u64; {words}]);

impl Subscriptions {{
    /// Every event.
    pub fn all() -> Self {{
        let mut s = Subscriptions::default();
        for k in EventKind::ALL {{
            s.insert(*k);
        }}
        s
    }}
    /// Adds `kind`.
    pub fn insert(&mut self, kind: EventKind) {{
        let i = kind as usize;
        self.0[i / 64] |= 1u64 << (i % 64);
    }}
    /// Whether the set holds `kind`.
    #[inline]
    pub fn wants(&self, kind: EventKind) -> bool {{
        let i = kind as usize;
        self.0[i / 64] & (1u64 << (i % 64)) != 0
    }}
    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {{
        self.0.iter().all(|w| *w == 0)
    }}
}}
"
    )
    .unwrap();

    // Event.
    out.push_str("/// An event with its arguments, as the WIT declares them.\n#[derive(Clone, Debug, PartialEq)]\npub enum Event {\n");
    for e in events {
        out.push_str(&doc_lines(e.docs.as_deref(), &format!("`{}`.", e.zeek), "    "));
        if e.params.is_empty() {
            writeln!(out, "    {},", e.variant).unwrap();
            continue;
        }
        writeln!(out, "    {} {{", e.variant).unwrap();
        for p in &e.params {
            writeln!(out, "        /// `{}`.\n        {}: {},", p.wit, p.ident, field_ty(wit, &p.ty)).unwrap();
        }
        out.push_str("    },\n");
    }
    out.push_str("}\n\n");

    out.push_str("impl Event {\n    /// The kind of this event.\n    pub fn kind(&self) -> EventKind {\n        match self {\n");
    for e in events {
        let pat = if e.params.is_empty() { String::new() } else { " { .. }".into() };
        writeln!(out, "            Event::{}{pat} => EventKind::{},", e.variant, e.variant).unwrap();
    }
    out.push_str("        }\n    }\n\n");
    out.push_str("    /// The event's arguments as `new_event` reports them: name, Zeek type and value as text.\n");
    out.push_str("    #[allow(clippy::needless_borrow)]\n");
    out.push_str("    pub fn arguments(&self) -> ::std::vec::Vec<CallArgument> {\n        match self {\n");
    for e in events {
        if e.params.is_empty() {
            writeln!(out, "            Event::{} => ::std::vec::Vec::new(),", e.variant).unwrap();
            continue;
        }
        let fields: Vec<&str> = e.params.iter().map(|p| p.ident.as_str()).collect();
        writeln!(out, "            Event::{} {{ {} }} => ::std::vec![", e.variant, fields.join(", ")).unwrap();
        for p in &e.params {
            writeln!(
                out,
                "                crate::render::argument(\"{}\", \"{}\", |out| {{ {} }}),",
                crate::names::zeek(&p.wit),
                plain::zeek_type(wit, &p.ty),
                plain::render(wit, &p.ty, &p.ident)
            )
            .unwrap();
        }
        out.push_str("            ],\n");
    }
    out.push_str("        }\n    }\n}\n");
    out
}
