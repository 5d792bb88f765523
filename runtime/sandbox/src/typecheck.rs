//! Load-time check of a handler's exported event functions against the WIT.
//!
//! wasmtime checks the types of an export only when an instance's function
//! is looked up, i.e. at every instantiation, after the handler was accepted:
//! a component whose `new-connection` takes a string instead of a connection
//! would then trap on every event. This walks each exported `weir:events`
//! interface's functions and compares their types with the WIT package
//! ([`crate::WIT_TEXT`]) structurally, as the component model's type check
//! does: same kinds, same record fields, cases and names in the same order.

use std::sync::OnceLock;

use wasmtime::component::types::{ComponentFunc, ComponentItem, Type as CType};
use wasmtime::component::Component;
use wasmtime::Engine;
use wit_parser::{Resolve, Type as WType, TypeDefKind};

/// The parsed WIT package.
fn resolve() -> &'static Resolve {
    static RESOLVE: OnceLock<Resolve> = OnceLock::new();
    RESOLVE.get_or_init(|| {
        let mut r = Resolve::default();
        r.push_str("weir-events.wit", crate::WIT_TEXT).expect("the WIT package parses");
        r
    })
}

/// Checks every function of every `weir:events` interface the component
/// exports; the error names the interface, the function and where the
/// types part (`parameter c: field id: ...`).
pub(crate) fn check_exports(engine: &Engine, component: &Component) -> anyhow::Result<()> {
    let r = resolve();
    let ty = component.component_type();
    for (iface_id, iface) in r.interfaces.iter() {
        let Some(name) = r.id_of(iface_id) else { continue };
        let Some(export) = ty.get_export(engine, &name) else { continue };
        let ComponentItem::ComponentInstance(inst) = export.ty else {
            anyhow::bail!("export {name} is not an interface instance");
        };
        for (fname, f) in &iface.functions {
            let func = match inst.get_export(engine, fname).map(|e| e.ty) {
                Some(ComponentItem::ComponentFunc(func)) => func,
                Some(_) => anyhow::bail!("export {name}: {fname} is not a function"),
                None => anyhow::bail!("export {name}: function {fname} is missing"),
            };
            check_func(r, f, &func).map_err(|e| anyhow::anyhow!("export {name}: function {fname} does not match the WIT: {e}"))?;
        }
    }
    Ok(())
}

fn check_func(r: &Resolve, f: &wit_parser::Function, func: &ComponentFunc) -> Result<(), String> {
    if func.async_() {
        return Err("it is async".into());
    }
    let params: Vec<_> = func.params().collect();
    if params.len() != f.params.len() {
        return Err(format!("{} parameters, the WIT has {}", params.len(), f.params.len()));
    }
    for ((_, got), want) in params.iter().zip(&f.params) {
        same(r, &want.ty, got).map_err(|e| format!("parameter {}: {e}", want.name))?;
    }
    let results: Vec<_> = func.results().collect();
    match (&f.result, results.as_slice()) {
        (None, []) => Ok(()),
        (Some(want), [got]) => same(r, want, got).map_err(|e| format!("result: {e}")),
        (None, _) => Err("it returns a value, the WIT function returns nothing".into()),
        (Some(_), _) => Err("it returns nothing, the WIT function returns a value".into()),
    }
}

/// A short name of a wasmtime type's kind, for messages.
fn kind(t: &CType) -> &'static str {
    match t {
        CType::Bool => "bool",
        CType::S8 => "s8",
        CType::U8 => "u8",
        CType::S16 => "s16",
        CType::U16 => "u16",
        CType::S32 => "s32",
        CType::U32 => "u32",
        CType::S64 => "s64",
        CType::U64 => "u64",
        CType::Float32 => "f32",
        CType::Float64 => "f64",
        CType::Char => "char",
        CType::String => "string",
        CType::List(_) => "list",
        CType::Map(_) => "map",
        CType::Record(_) => "record",
        CType::Tuple(_) => "tuple",
        CType::Variant(_) => "variant",
        CType::Enum(_) => "enum",
        CType::Option(_) => "option",
        CType::Result(_) => "result",
        CType::Flags(_) => "flags",
        CType::Own(_) => "own",
        CType::Borrow(_) => "borrow",
        CType::Future(_) => "future",
        CType::Stream(_) => "stream",
        CType::ErrorContext => "error-context",
        CType::FixedLengthList(_) => "fixed-length list",
    }
}

fn names_match<'a>(what: &str, want: impl Iterator<Item = &'a str>, got: impl Iterator<Item = &'a str>) -> Result<(), String> {
    let (want, got): (Vec<_>, Vec<_>) = (want.collect(), got.collect());
    if want != got {
        return Err(format!("{what} {got:?}, the WIT has {want:?}"));
    }
    Ok(())
}

fn same_opt(r: &Resolve, want: Option<&WType>, got: Option<CType>) -> Result<(), String> {
    match (want, got) {
        (None, None) => Ok(()),
        (Some(w), Some(g)) => same(r, w, &g),
        (None, Some(g)) => Err(format!("a {} payload where the WIT has none", kind(&g))),
        (Some(_), None) => Err("no payload where the WIT has one".into()),
    }
}

/// Whether `got` (the component's type) is the WIT type `want`.
fn same(r: &Resolve, want: &WType, got: &CType) -> Result<(), String> {
    let prim = |expected: &str, ok: bool| {
        if ok {
            Ok(())
        } else {
            Err(format!("{} where the WIT has {expected}", kind(got)))
        }
    };
    match want {
        WType::Bool => prim("bool", matches!(got, CType::Bool)),
        WType::U8 => prim("u8", matches!(got, CType::U8)),
        WType::U16 => prim("u16", matches!(got, CType::U16)),
        WType::U32 => prim("u32", matches!(got, CType::U32)),
        WType::U64 => prim("u64", matches!(got, CType::U64)),
        WType::S8 => prim("s8", matches!(got, CType::S8)),
        WType::S16 => prim("s16", matches!(got, CType::S16)),
        WType::S32 => prim("s32", matches!(got, CType::S32)),
        WType::S64 => prim("s64", matches!(got, CType::S64)),
        WType::F32 => prim("f32", matches!(got, CType::Float32)),
        WType::F64 => prim("f64", matches!(got, CType::Float64)),
        WType::Char => prim("char", matches!(got, CType::Char)),
        WType::String => prim("string", matches!(got, CType::String)),
        WType::ErrorContext => prim("error-context", matches!(got, CType::ErrorContext)),
        WType::Id(id) => {
            let def = &r.types[*id];
            let named = |e: String| match &def.name {
                Some(n) => format!("{n}: {e}"),
                None => e,
            };
            match (&def.kind, got) {
                (TypeDefKind::Type(t), _) => same(r, t, got),
                (TypeDefKind::Record(w), CType::Record(g)) => {
                    names_match("fields", w.fields.iter().map(|f| f.name.as_str()), g.fields().map(|f| f.name))
                        .map_err(named)?;
                    for (wf, gf) in w.fields.iter().zip(g.fields()) {
                        same(r, &wf.ty, &gf.ty).map_err(|e| named(format!("field {}: {e}", wf.name)))?;
                    }
                    Ok(())
                }
                (TypeDefKind::Variant(w), CType::Variant(g)) => {
                    names_match("cases", w.cases.iter().map(|c| c.name.as_str()), g.cases().map(|c| c.name))
                        .map_err(named)?;
                    for (wc, gc) in w.cases.iter().zip(g.cases()) {
                        same_opt(r, wc.ty.as_ref(), gc.ty).map_err(|e| named(format!("case {}: {e}", wc.name)))?;
                    }
                    Ok(())
                }
                (TypeDefKind::Enum(w), CType::Enum(g)) => {
                    names_match("cases", w.cases.iter().map(|c| c.name.as_str()), g.names()).map_err(named)
                }
                (TypeDefKind::Flags(w), CType::Flags(g)) => {
                    names_match("flags", w.flags.iter().map(|f| f.name.as_str()), g.names()).map_err(named)
                }
                (TypeDefKind::Tuple(w), CType::Tuple(g)) => {
                    let g: Vec<_> = g.types().collect();
                    if g.len() != w.types.len() {
                        return Err(named(format!("a tuple of {}, the WIT has {}", g.len(), w.types.len())));
                    }
                    for (i, (wt, gt)) in w.types.iter().zip(&g).enumerate() {
                        same(r, wt, gt).map_err(|e| named(format!("tuple element {i}: {e}")))?;
                    }
                    Ok(())
                }
                (TypeDefKind::Option(w), CType::Option(g)) => same(r, w, &g.ty()).map_err(named),
                (TypeDefKind::List(w), CType::List(g)) => same(r, w, &g.ty()).map_err(named),
                (TypeDefKind::Result(w), CType::Result(g)) => {
                    same_opt(r, w.ok.as_ref(), g.ok()).map_err(|e| named(format!("ok: {e}")))?;
                    same_opt(r, w.err.as_ref(), g.err()).map_err(|e| named(format!("err: {e}")))
                }
                (k, _) => Err(named(format!("{} where the WIT has {}", kind(got), wit_kind(k)))),
            }
        }
    }
}

fn wit_kind(k: &TypeDefKind) -> &'static str {
    match k {
        TypeDefKind::Record(_) => "a record",
        TypeDefKind::Resource => "a resource",
        TypeDefKind::Handle(_) => "a handle",
        TypeDefKind::Flags(_) => "flags",
        TypeDefKind::Tuple(_) => "a tuple",
        TypeDefKind::Variant(_) => "a variant",
        TypeDefKind::Enum(_) => "an enum",
        TypeDefKind::Option(_) => "an option",
        TypeDefKind::Result(_) => "a result",
        TypeDefKind::List(_) => "a list",
        TypeDefKind::Map(..) => "a map",
        TypeDefKind::FixedLengthList(..) => "a fixed-length list",
        TypeDefKind::Future(_) => "a future",
        TypeDefKind::Stream(_) => "a stream",
        TypeDefKind::Type(_) => "an alias",
        TypeDefKind::Unknown => "an unknown type",
    }
}
