//! `export_handler!(Type: event_a, event_b, ...)`: generates the component world
//! that exports exactly the listed event interfaces of `weir:events@0.1.0`
//! (bindings generated from the repository's `wit/` by wit-bindgen) and
//! forwards each to the type's `weir_guest::Handler` method of the same name.
//! `signature_eval` in the list also exports `signature-eval`, forwarded to
//! the type's `weir_guest::SignatureEval`.

use proc_macro::{TokenStream, TokenTree};

/// Exports a handler type for the listed events: `export_handler!(Conn: new_connection, connection_state_remove);`.
#[proc_macro]
pub fn export_handler(input: TokenStream) -> TokenStream {
    match expand(input) {
        Ok(code) => code.parse().expect("generated code parses"),
        Err(msg) => format!("compile_error!({msg:?});").parse().expect("compile_error parses"),
    }
}

/// The package's WIT folder (the repository's `wit/`).
const WIT_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../wit");

/// One event as the WIT declares it.
struct Event {
    /// snake_case name (`new_connection`).
    name: String,
    /// Rust parameter list, types under `{root}::types` (`c: {root}::types::Connection`).
    params: String,
    /// Argument names (`c`).
    args: String,
    /// The function's doc comment.
    docs: String,
}

fn snake(s: &str) -> String {
    s.replace('-', "_")
}

fn camel(s: &str) -> String {
    s.split('-').map(|w| w[..1].to_uppercase() + &w[1..]).collect()
}

/// The Rust type wit-bindgen generates for `t`, named types under `root`.
fn rust_type(r: &wit_parser::Resolve, t: &wit_parser::Type, root: &str) -> String {
    use wit_parser::{Type, TypeDefKind};
    match t {
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
        Type::ErrorContext => panic!("error-context in an event"),
        Type::Id(id) => {
            let td = &r.types[*id];
            if let Some(name) = &td.name {
                return format!("{root}::types::{}", camel(name));
            }
            match &td.kind {
                TypeDefKind::List(t) => format!("::std::vec::Vec<{}>", rust_type(r, t, root)),
                TypeDefKind::Option(t) => format!("::std::option::Option<{}>", rust_type(r, t, root)),
                TypeDefKind::Type(t) => rust_type(r, t, root),
                TypeDefKind::Tuple(t) => {
                    let parts: Vec<String> = t.types.iter().map(|t| rust_type(r, t, root)).collect();
                    format!("({},)", parts.join(", "))
                }
                k => panic!("unsupported anonymous WIT type in an event: {k:?}"),
            }
        }
    }
}

/// Every event of `weir:events`: each interface holding one function of its own name.
fn events(root: &str) -> Result<Vec<Event>, String> {
    let mut r = wit_parser::Resolve::default();
    let (pkg, _) = r.push_path(WIT_DIR).map_err(|e| format!("reading {WIT_DIR}: {e}"))?;
    let mut out = Vec::new();
    for (_, iface_id) in &r.packages[pkg].interfaces {
        let iface = &r.interfaces[*iface_id];
        let Some(name) = &iface.name else { continue };
        let Some(f) = iface.functions.get(name.as_str()) else { continue };
        let params: Vec<String> =
            f.params.iter().map(|p| format!("{}: {}", snake(&p.name), rust_type(&r, &p.ty, root))).collect();
        let args: Vec<String> = f.params.iter().map(|p| snake(&p.name)).collect();
        out.push(Event {
            name: snake(name),
            params: params.join(", "),
            args: args.join(", "),
            docs: f.docs.contents.clone().unwrap_or_default(),
        });
    }
    Ok(out)
}

/// The `Handler` trait: one method per event of the WIT, each doing nothing
/// by default, documented with the WIT's comment. `handler_trait!(crate)`.
#[proc_macro]
pub fn handler_trait(input: TokenStream) -> TokenStream {
    let root = input.to_string();
    let events = match events(&root) {
        Ok(e) => e,
        Err(msg) => return format!("compile_error!({msg:?});").parse().expect("compile_error parses"),
    };
    let mut methods = String::new();
    for e in &events {
        for line in e.docs.lines() {
            methods.push_str(&format!("    #[doc = {:?}]\n", format!(" {line}")));
        }
        let params = e.params.split(", ").filter(|p| !p.is_empty()).map(|p| format!("_{p}")).collect::<Vec<_>>().join(", ");
        methods.push_str(&format!("    fn {}({params}) {{}}\n", e.name));
    }
    format!(
        "/// Every event a handler can take, generated from the WIT; each defaults to doing nothing.\n\
         /// Only the events named in [`export_handler!`] are exported and delivered.\n\
         pub trait Handler {{\n{methods}}}"
    )
    .parse()
    .expect("generated trait parses")
}

fn expand(input: TokenStream) -> Result<String, String> {
    let mut tokens = input.into_iter();
    let ty = match tokens.next() {
        Some(TokenTree::Ident(i)) => i.to_string(),
        _ => return Err("usage: export_handler!(Type: event_a, event_b)".into()),
    };
    match tokens.next() {
        Some(TokenTree::Punct(p)) if p.as_char() == ':' => {}
        _ => return Err("usage: export_handler!(Type: event_a, event_b)".into()),
    }
    let all = events("::weir_guest")?;
    let mut events: Vec<&Event> = Vec::new();
    let mut answers_eval = false;
    for t in tokens {
        match t {
            TokenTree::Ident(i) if i.to_string() == "signature_eval" => answers_eval = true,
            TokenTree::Ident(i) => {
                let name = i.to_string();
                let Some(ev) = all.iter().find(|e| e.name == name) else {
                    return Err(format!("unknown event `{name}` (weir:events@0.1.0)"));
                };
                if events.iter().any(|e| e.name == name) {
                    return Err(format!("event `{name}` listed twice"));
                }
                events.push(ev);
            }
            TokenTree::Punct(p) if p.as_char() == ',' => {}
            other => return Err(format!("unexpected `{other}`")),
        }
    }
    if events.is_empty() && !answers_eval {
        return Err("export_handler!: list at least one event".into());
    }
    let wit_dir = WIT_DIR;
    let mut world = String::from("package weir:handler; world handler { include weir:events/imports@0.1.0; ");
    for e in &events {
        world.push_str(&format!("export weir:events/{}@0.1.0; ", e.name.replace('_', "-")));
    }
    if answers_eval {
        world.push_str("export weir:events/signature-eval@0.1.0; ");
    }
    world.push('}');
    let mut impls = String::new();
    if answers_eval {
        impls.push_str(&format!(
            "impl exports::weir::events::signature_eval::Guest for {ty} {{ \
             fn functions() -> ::std::vec::Vec<::std::string::String> {{ <{ty} as ::weir_guest::SignatureEval>::functions() }} \
             fn evaluate(name: ::std::string::String, state: ::weir_guest::types::SignatureState, data: ::std::vec::Vec<u8>) -> bool {{ \
             <{ty} as ::weir_guest::SignatureEval>::evaluate(&name, &state, &data) }} }}\n"
        ));
    }
    for e in &events {
        let (name, params, args) = (&e.name, &e.params, &e.args);
        impls.push_str(&format!(
            "impl exports::weir::events::{name}::Guest for {ty} {{ fn {name}({params}) {{ <{ty} as ::weir_guest::Handler>::{name}({args}) }} }}\n"
        ));
    }
    Ok(format!(
        r#"
#[doc(hidden)]
#[allow(clippy::all, unused)]
mod __weir_handler_bindings {{
    use super::{ty};
    ::weir_guest::wit_bindgen::generate!({{
        inline: {world:?},
        path: {wit_dir:?},
        world: "weir:handler/handler",
        with: {{
            "weir:events/types@0.1.0": ::weir_guest::types,
            "weir:events/log@0.1.0": ::weir_guest::log,
            "weir:events/reporter@0.1.0": ::weir_guest::reporter,
            "weir:events/runtime@0.1.0": ::weir_guest::runtime,
            "weir:events/analyzers@0.1.0": ::weir_guest::analyzers,
            "weir:events/files@0.1.0": ::weir_guest::files,
            "weir:events/anonymize@0.1.0": ::weir_guest::anonymize,
        }},
        runtime_path: "::weir_guest::wit_bindgen::rt",
    }});
    {impls}
    export!({ty});
}}
"#
    ))
}
