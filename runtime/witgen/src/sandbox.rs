//! The sandbox's per-event glue: finding a component's event exports, and
//! converting and delivering an `Event` to them; plus the conversions between
//! the plain types and the types wasmtime's `bindgen!` generates.
//!
//! The generated code refers to `crate::convert::{ToWit, FromWit}` (with
//! impls for the primitive, list, option and native types), to the plain types
//! under `plain` and to the `bindgen!` output under `wit`, both given as paths.
//! [`exports`] and [`conversions`] are included by the sandbox's `exports.rs`
//! and `convert.rs`.

use std::fmt::Write as _;
use wit_parser::{Type, TypeDefKind};

use crate::names::{camel, ident};
use crate::{plain, EventDef, Wit};

/// Paths the generated glue uses.
pub struct Paths<'a> {
    /// Module of the plain types and events (`weir_engine::events`).
    pub plain: &'a str,
    /// Module of the package under `bindgen!`'s output (`crate::bindings::weir::events`).
    pub wit: &'a str,
    /// Module of the exported interfaces (`crate::bindings::exports::weir::events`).
    pub exports: &'a str,
}

/// The owned wasmtime spelling of `ty`.
fn wit_ty(wit: &Wit, p: &Paths<'_>, ty: &Type) -> String {
    match ty {
        Type::Id(id) => {
            let id = wit.canonical(*id);
            let td = &wit.resolve.types[id];
            if let Some(name) = &td.name {
                return format!("{}::{}::{}", p.wit, wit.owner_module(id), camel(name));
            }
            match &td.kind {
                TypeDefKind::List(t) => format!("::std::vec::Vec<{}>", wit_ty(wit, p, t)),
                TypeDefKind::Option(t) => format!("::std::option::Option<{}>", wit_ty(wit, p, t)),
                TypeDefKind::Tuple(t) => {
                    format!("({},)", t.types.iter().map(|t| wit_ty(wit, p, t)).collect::<Vec<_>>().join(", "))
                }
                TypeDefKind::Type(t) => wit_ty(wit, p, t),
                k => panic!("WIT type {k:?} in an event"),
            }
        }
        t => plain::ty(wit, t),
    }
}

/// How `v` (a reference to an owned value of `ty`) is passed to a wasmtime
/// export call, which borrows strings, lists and values holding them.
fn pass(wit: &Wit, ty: &Type, v: &str) -> String {
    if !wit.has_list(ty) {
        return format!("::core::clone::Clone::clone({v})");
    }
    if let Type::Id(id) = ty {
        let td = &wit.resolve.types[wit.canonical(*id)];
        if let (None, TypeDefKind::Option(inner)) = (&td.name, &td.kind) {
            let direct = match inner {
                Type::String => true,
                Type::Id(i) => {
                    let t = &wit.resolve.types[wit.canonical(*i)];
                    matches!(t.kind, TypeDefKind::Type(Type::String)) || (t.name.is_none() && matches!(t.kind, TypeDefKind::List(_)))
                }
                _ => false,
            };
            return if direct { format!("{v}.as_deref()") } else { format!("{v}.as_ref()") };
        }
    }
    v.to_string()
}

/// Export lookup (`ExportIndices`, `Guests`), the converted form of an event
/// (`WitEvent`) and its delivery. Refers to `Event` and `EventKind` unqualified.
pub fn exports(wit: &Wit, events: &[EventDef], p: &Paths<'_>) -> String {
    let mut out = String::new();
    let version = wit.package_id();
    let base = wit.package_base();
    let ver = version.split('@').nth(1).map(|v| format!("@{v}")).unwrap_or_default();

    out.push_str("/// Which event interfaces a component exports (looked up once per handler).\n#[derive(Default, Clone)]\npub(crate) struct ExportIndices {\n");
    for e in events {
        writeln!(out, "    {}: ::std::option::Option<{}::{}::GuestIndices>,", e.module, p.exports, e.module).unwrap();
    }
    out.push_str("}\n\n/// The exported event interfaces of one live instance.\n#[derive(Default)]\npub(crate) struct Guests {\n");
    for e in events {
        writeln!(out, "    {}: ::std::option::Option<{}::{}::Guest>,", e.module, p.exports, e.module).unwrap();
    }
    out.push_str("}\n\n");
    out.push_str("impl ExportIndices {\n");
    out.push_str("    /// The event interfaces among a component's export names `names`; an export that does not match the WIT is an error.\n");
    out.push_str("    pub(crate) fn find<T: 'static>(pre: &::wasmtime::component::InstancePre<T>, names: &[::std::string::String]) -> ::anyhow::Result<ExportIndices> {\n        let mut x = ExportIndices::default();\n");
    for e in events {
        writeln!(
            out,
            "        if names.iter().any(|n| n == \"{base}/{}{ver}\") {{\n            match {}::{}::GuestIndices::new(pre) {{\n                Ok(i) => x.{} = Some(i),\n                Err(e) => ::anyhow::bail!(\"export {base}/{}{ver} does not match the WIT: {{e}}\"),\n            }}\n        }}",
            e.wit, p.exports, e.module, e.module, e.wit
        )
        .unwrap();
    }
    out.push_str("        Ok(x)\n    }\n\n");
    out.push_str("    /// The events found.\n    pub(crate) fn kinds(&self) -> ::std::vec::Vec<EventKind> {\n        let mut v = ::std::vec::Vec::new();\n");
    for e in events {
        writeln!(out, "        if self.{}.is_some() {{ v.push(EventKind::{}); }}", e.module, e.variant).unwrap();
    }
    out.push_str("        v\n    }\n\n");
    out.push_str("    /// The exports of a live instance.\n    pub(crate) fn load(&self, mut store: impl ::wasmtime::AsContextMut, inst: &::wasmtime::component::Instance) -> ::wasmtime::Result<Guests> {\n        let mut g = Guests::default();\n");
    for e in events {
        writeln!(out, "        if let Some(i) = &self.{m} {{ g.{m} = Some(i.load(&mut store, inst)?); }}", m = e.module).unwrap();
    }
    out.push_str("        Ok(g)\n    }\n}\n\n");

    // Converted values.
    let converted = |e: &EventDef| -> Vec<usize> { (0..e.params.len()).filter(|i| !wit.same_in_both(&e.params[*i].ty)).collect() };
    out.push_str("/// The arguments of an event that need converting to WIT values, converted once.\n#[allow(clippy::large_enum_variant)]\npub(crate) enum Converted {\n    /// Nothing to convert.\n    Nothing,\n");
    for e in events {
        let c = converted(e);
        if c.is_empty() {
            continue;
        }
        writeln!(out, "    /// `{}`.\n    {} {{", e.zeek, e.variant).unwrap();
        for i in c {
            let prm = &e.params[i];
            writeln!(out, "        /// `{}`.\n        {}: {},", prm.wit, prm.ident, wit_ty(wit, p, &prm.ty)).unwrap();
        }
        out.push_str("    },\n");
    }
    out.push_str("}\n\n");
    out.push_str("/// An event with its arguments converted to WIT values once, then delivered to every handler taking it.\npub(crate) struct WitEvent<'a> {\n    ev: &'a Event,\n    conv: Converted,\n}\n\n");
    out.push_str("impl<'a> WitEvent<'a> {\n    /// Converts `ev`.\n    pub(crate) fn new(ev: &'a Event) -> WitEvent<'a> {\n        let conv = match ev {\n");
    for e in events {
        let c = converted(e);
        if c.is_empty() {
            continue;
        }
        let names: Vec<&str> = c.iter().map(|i| e.params[*i].ident.as_str()).collect();
        writeln!(
            out,
            "            Event::{v} {{ {f}, .. }} => Converted::{v} {{ {conv} }},",
            v = e.variant,
            f = names.join(", "),
            conv = names.iter().map(|n| format!("{n}: crate::convert::ToWit::to_wit({n})")).collect::<Vec<_>>().join(", ")
        )
        .unwrap();
    }
    out.push_str("            _ => Converted::Nothing,\n        };\n        WitEvent { ev, conv }\n    }\n");
    out.push_str("}\n\nimpl Guests {\n    /// Calls event `ev` on this live instance, in `s`, its store (an error when the instance does not export it).\n");
    out.push_str("    #[allow(clippy::clone_on_copy, clippy::needless_borrow)]\n");
    out.push_str("    pub(crate) fn call<T: Send + 'static>(&self, store: &mut ::wasmtime::Store<T>, ev: &WitEvent<'_>) -> ::wasmtime::Result<()> {\n        let g = self;\n");
    out.push_str("        let missing = || ::wasmtime::format_err!(\"handler does not export this event\");\n        match (ev.ev, &ev.conv) {\n");
    for e in events {
        let c = converted(e);
        let plain_fields: Vec<&str> =
            (0..e.params.len()).filter(|i| !c.contains(i)).map(|i| e.params[i].ident.as_str()).collect();
        let ev_pat = if e.params.is_empty() {
            format!("Event::{}", e.variant)
        } else if plain_fields.is_empty() {
            format!("Event::{} {{ .. }}", e.variant)
        } else {
            format!("Event::{} {{ {}, .. }}", e.variant, plain_fields.join(", "))
        };
        let conv_pat = if c.is_empty() {
            "_".to_string()
        } else {
            format!("Converted::{} {{ {} }}", e.variant, c.iter().map(|i| e.params[*i].ident.as_str()).collect::<Vec<_>>().join(", "))
        };
        let args: Vec<String> = e.params.iter().map(|prm| pass(wit, &prm.ty, &prm.ident)).collect();
        let mut call_args = String::from("&mut *store");
        for a in args {
            call_args.push_str(", ");
            call_args.push_str(&a);
        }
        writeln!(
            out,
            "            ({ev_pat}, {conv_pat}) => g.{m}.as_ref().ok_or_else(missing)?.call_{m}({call_args}),",
            m = e.module
        )
        .unwrap();
    }
    out.push_str("            _ => Err(missing()),\n        }\n    }\n}\n");
    out
}

/// `ToWit` and `FromWit` for every named type of the package (those with a
/// native plain spelling excepted).
pub fn conversions(wit: &Wit, p: &Paths<'_>) -> String {
    let mut out = String::new();
    for (id, _) in wit.named_types() {
        if wit.native(id).is_some() {
            continue;
        }
        let td = &wit.resolve.types[id];
        let name = camel(wit.name(id));
        let pty = format!("{}::{name}", p.plain);
        let wty = format!("{}::{}::{name}", p.wit, wit.owner_module(id));
        let (to, from) = match &td.kind {
            TypeDefKind::Record(r) => {
                let to: Vec<String> = r.fields.iter().map(|f| format!("{n}: crate::convert::ToWit::to_wit(&self.{n})", n = ident(&f.name))).collect();
                let from: Vec<String> = r.fields.iter().map(|f| format!("{n}: crate::convert::FromWit::from_wit(w.{n})", n = ident(&f.name))).collect();
                (format!("{wty} {{ {} }}", to.join(", ")), format!("{pty} {{ {} }}", from.join(", ")))
            }
            TypeDefKind::Enum(en) => {
                let to: Vec<String> = en.cases.iter().map(|c| format!("{pty}::{c} => {wty}::{c}", c = camel(&c.name))).collect();
                let from: Vec<String> = en.cases.iter().map(|c| format!("{wty}::{c} => {pty}::{c}", c = camel(&c.name))).collect();
                (format!("match self {{ {} }}", to.join(", ")), format!("match w {{ {} }}", from.join(", ")))
            }
            TypeDefKind::Variant(v) => {
                let to: Vec<String> = v
                    .cases
                    .iter()
                    .map(|c| match c.ty {
                        Some(_) => format!("{pty}::{c}(x) => {wty}::{c}(crate::convert::ToWit::to_wit(x))", c = camel(&c.name)),
                        None => format!("{pty}::{c} => {wty}::{c}", c = camel(&c.name)),
                    })
                    .collect();
                let from: Vec<String> = v
                    .cases
                    .iter()
                    .map(|c| match c.ty {
                        Some(_) => format!("{wty}::{c}(x) => {pty}::{c}(crate::convert::FromWit::from_wit(x))", c = camel(&c.name)),
                        None => format!("{wty}::{c} => {pty}::{c}", c = camel(&c.name)),
                    })
                    .collect();
                (format!("match self {{ {} }}", to.join(", ")), format!("match w {{ {} }}", from.join(", ")))
            }
            TypeDefKind::Type(_) => continue,
            k => panic!("WIT type {name} ({k:?}) has no conversion"),
        };
        writeln!(
            out,
            "impl crate::convert::ToWit for {pty} {{\n    type Wit = {wty};\n    fn to_wit(&self) -> {wty} {{\n        {to}\n    }}\n}}\n"
        )
        .unwrap();
        writeln!(
            out,
            "impl crate::convert::FromWit<{wty}> for {pty} {{\n    fn from_wit(w: {wty}) -> {pty} {{\n        {from}\n    }}\n}}\n"
        )
        .unwrap();
    }
    out
}
