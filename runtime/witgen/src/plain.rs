//! Plain Rust types for the WIT's named types, and their Zeek-style text.
//!
//! The generated code refers to `crate::render` (the `ZeekText` trait and its
//! helpers), which the crate including it provides.

use std::fmt::Write as _;
use wit_parser::{Type, TypeDefKind};

use crate::names::{camel, doc_lines, ident, zeek};
use crate::Wit;

/// The plain Rust spelling of `ty`.
pub fn ty(wit: &Wit, ty: &Type) -> String {
    match ty {
        Type::Bool => "bool".into(),
        Type::U8 => "u8".into(),
        Type::U16 => "u16".into(),
        Type::U32 => "u32".into(),
        Type::U64 => "u64".into(),
        Type::S8 => "i8".into(),
        Type::S16 => "i16".into(),
        Type::S32 => "i32".into(),
        Type::S64 => "i64".into(),
        Type::F32 => "f32".into(),
        Type::F64 => "f64".into(),
        Type::Char => "char".into(),
        Type::String => "::std::string::String".into(),
        Type::ErrorContext => panic!("error-context has no plain form"),
        Type::Id(id) => {
            if let Some(native) = wit.native(*id) {
                return native.into();
            }
            let id = wit.canonical(*id);
            let td = &wit.resolve.types[id];
            if let Some(name) = &td.name {
                return camel(name);
            }
            match &td.kind {
                TypeDefKind::List(t) => format!("::std::vec::Vec<{}>", self::ty(wit, t)),
                TypeDefKind::Option(t) => format!("::std::option::Option<{}>", self::ty(wit, t)),
                TypeDefKind::Tuple(t) => {
                    format!("({},)", t.types.iter().map(|t| self::ty(wit, t)).collect::<Vec<_>>().join(", "))
                }
                TypeDefKind::Result(r) => format!(
                    "::std::result::Result<{}, {}>",
                    r.ok.as_ref().map_or("()".into(), |t| self::ty(wit, t)),
                    r.err.as_ref().map_or("()".into(), |t| self::ty(wit, t))
                ),
                TypeDefKind::Type(t) => self::ty(wit, t),
                k => panic!("WIT type {k:?} has no plain form"),
            }
        }
    }
}

/// Zeek's name of the type of a value of `ty` (`count`, `addr`, `connection`).
pub fn zeek_type(wit: &Wit, ty: &Type) -> String {
    match ty {
        Type::Bool => "bool".into(),
        Type::U8 | Type::U16 | Type::U32 | Type::U64 => "count".into(),
        Type::S8 | Type::S16 | Type::S32 | Type::S64 => "int".into(),
        Type::F32 | Type::F64 => "double".into(),
        Type::Char | Type::String => "string".into(),
        Type::ErrorContext => "error".into(),
        Type::Id(id) => {
            let id = wit.canonical(*id);
            let td = &wit.resolve.types[id];
            if td.name.as_deref() == Some("ip-address") {
                return "addr".into();
            }
            match (&td.name, &td.kind) {
                (Some(_), TypeDefKind::Type(t)) => zeek_type(wit, t),
                (Some(n), _) => zeek_name_in_docs(td.docs.contents.as_deref()).unwrap_or_else(|| zeek(n)),
                (None, TypeDefKind::List(Type::U8)) => "string".into(),
                (None, TypeDefKind::List(t)) => format!("vector of {}", zeek_type(wit, t)),
                (None, TypeDefKind::Option(t) | TypeDefKind::Type(t)) => zeek_type(wit, t),
                _ => "any".into(),
            }
        }
    }
}

/// The Zeek name a type's doc opens with (``/// `conn_id`: ...`` gives `conn_id`).
fn zeek_name_in_docs(docs: Option<&str>) -> Option<String> {
    let rest = docs?.trim_start().strip_prefix('`')?;
    rest.split('`').next().filter(|n| !n.is_empty() && !n.contains(' ')).map(str::to_string)
}

/// Statements writing the Zeek text of `expr` (a reference to a plain value of
/// `ty`) to `out: &mut String`.
pub fn render(wit: &Wit, ty: &Type, expr: &str) -> String {
    if let Type::Id(id) = ty {
        if wit.native(*id).is_some() {
            return format!("crate::render::ZeekText::zeek_text({expr}, out);");
        }
        let id = wit.canonical(*id);
        let td = &wit.resolve.types[id];
        if td.name.is_none() || matches!(td.kind, TypeDefKind::Type(_)) {
            match &td.kind {
                TypeDefKind::List(Type::U8) => return format!("crate::render::bytes({expr}, out);"),
                TypeDefKind::List(t) => {
                    return format!(
                        "out.push('['); for (i, x) in ({expr}).iter().enumerate() {{ if i > 0 {{ out.push_str(\", \"); }} {} }} out.push(']');",
                        render(wit, t, "x")
                    )
                }
                TypeDefKind::Option(t) => {
                    return format!("match {expr} {{ Some(x) => {{ {} }} None => out.push('-'), }}", render(wit, t, "x"))
                }
                TypeDefKind::Tuple(t) => {
                    let mut s = String::from("out.push('[');");
                    for (i, t) in t.types.iter().enumerate() {
                        if i > 0 {
                            s.push_str(" out.push_str(\", \");");
                        }
                        write!(s, " {{ let x = &({expr}).{i}; {} }}", render(wit, t, "x")).unwrap();
                    }
                    s.push_str(" out.push(']');");
                    return s;
                }
                TypeDefKind::Type(t) => return render(wit, t, expr),
                _ => {}
            }
        }
    }
    format!("crate::render::ZeekText::zeek_text({expr}, out);")
}

/// Rust definitions of every named type the package defines, with derives,
/// docs and `ZeekText` impls; types with a native spelling are left out.
/// `hand_rendered` names types whose `ZeekText` the including crate writes itself.
pub fn types(wit: &Wit, hand_rendered: &[&str]) -> String {
    let mut out = String::new();
    for (id, _) in wit.named_types() {
        if wit.native(id).is_some() {
            continue;
        }
        let td = &wit.resolve.types[id];
        let wname = wit.name(id).to_string();
        let name = camel(&wname);
        let this = Type::Id(id);
        out.push_str(&doc_lines(td.docs.contents.as_deref(), &format!("WIT `{wname}`."), ""));
        let mut derives = vec!["Clone", "Debug", "PartialEq"];
        if wit.is_copy(&this) {
            derives.push("Copy");
        }
        if wit.is_eq(&this) {
            derives.extend(["Eq", "Hash"]);
        }
        let mut render_body = String::new();
        match &td.kind {
            TypeDefKind::Record(r) => {
                if wit.is_default(&this) {
                    derives.push("Default");
                }
                writeln!(out, "#[derive({})]\npub struct {name} {{", derives.join(", ")).unwrap();
                render_body.push_str("out.push('[');\nlet mut first = true;\n");
                for f in &r.fields {
                    let fname = ident(&f.name);
                    out.push_str(&doc_lines(f.docs.contents.as_deref(), &format!("`{}`.", f.name), "    "));
                    writeln!(out, "    pub {fname}: {},", ty(wit, &f.ty)).unwrap();
                    let label = format!("if !first {{ out.push_str(\", \"); }} first = false; out.push_str(\"{}=\");", zeek(&f.name));
                    match optional_inner(wit, &f.ty) {
                        Some(inner) => writeln!(render_body, "if let Some(x) = &self.{fname} {{ {label} {} }}", render(wit, &inner, "x")).unwrap(),
                        None => writeln!(render_body, "{{ {label} {} }}", render(wit, &f.ty, &format!("&self.{fname}"))).unwrap(),
                    }
                }
                render_body.push_str("let _ = first;\nout.push(']');\n");
                out.push_str("}\n\n");
            }
            TypeDefKind::Enum(e) => {
                writeln!(out, "#[derive({})]\npub enum {name} {{", derives.join(", ")).unwrap();
                render_body.push_str("out.push_str(match self {\n");
                for c in &e.cases {
                    out.push_str(&doc_lines(c.docs.contents.as_deref(), &format!("`{}`.", c.name), "    "));
                    writeln!(out, "    {},", camel(&c.name)).unwrap();
                    writeln!(render_body, "    {name}::{} => \"{}\",", camel(&c.name), zeek(&c.name)).unwrap();
                }
                render_body.push_str("});\n");
                out.push_str("}\n\n");
            }
            TypeDefKind::Variant(v) => {
                writeln!(out, "#[derive({})]\npub enum {name} {{", derives.join(", ")).unwrap();
                render_body.push_str("match self {\n");
                for c in &v.cases {
                    out.push_str(&doc_lines(c.docs.contents.as_deref(), &format!("`{}`.", c.name), "    "));
                    let case = camel(&c.name);
                    match &c.ty {
                        Some(t) => {
                            writeln!(out, "    {case}({}),", ty(wit, t)).unwrap();
                            writeln!(render_body, "    {name}::{case}(x) => {{ {} }}", render(wit, t, "x")).unwrap();
                        }
                        None => {
                            writeln!(out, "    {case},").unwrap();
                            writeln!(render_body, "    {name}::{case} => out.push_str(\"{}\"),", zeek(&c.name)).unwrap();
                        }
                    }
                }
                render_body.push_str("}\n");
                out.push_str("}\n\n");
            }
            TypeDefKind::Type(t) => {
                writeln!(out, "pub type {name} = {};\n", ty(wit, t)).unwrap();
                continue;
            }
            k => panic!("WIT type {wname} ({k:?}) has no plain form"),
        }
        if !hand_rendered.contains(&wname.as_str()) {
            writeln!(
                out,
                "impl crate::render::ZeekText for {name} {{\n    #[allow(clippy::needless_borrow)]\n    fn zeek_text(&self, out: &mut ::std::string::String) {{\n{render_body}    }}\n}}\n"
            )
            .unwrap();
        }
    }
    out
}

/// `T` when `ty` is `option<T>`.
fn optional_inner(wit: &Wit, ty: &Type) -> Option<Type> {
    let Type::Id(id) = ty else { return None };
    let td = &wit.resolve.types[wit.canonical(*id)];
    match (&td.name, &td.kind) {
        (None, TypeDefKind::Option(t)) => Some(*t),
        _ => None,
    }
}
