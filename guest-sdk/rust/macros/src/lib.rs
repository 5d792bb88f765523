//! `export_handler!(Type: event_a, event_b, ...)`: generates the component world
//! that exports exactly the listed event interfaces of `weir:events@0.1.0`
//! (bindings generated from the repository's `wit/` by wit-bindgen) and
//! forwards each to the type's `weir_guest::Handler` method of the same name.

use proc_macro::{TokenStream, TokenTree};

/// Exports a handler type for the listed events: `export_handler!(Conn: new_connection, connection_state_remove);`.
#[proc_macro]
pub fn export_handler(input: TokenStream) -> TokenStream {
    match expand(input) {
        Ok(code) => code.parse().expect("generated code parses"),
        Err(msg) => format!("compile_error!({msg:?});").parse().expect("compile_error parses"),
    }
}

/// (event name, Rust parameter list, argument names) of every event the WIT declares.
const EVENTS: &[(&str, &str, &str)] = &[
    ("bro_init", "", ""),
    ("bro_done", "", ""),
    ("bro_script_loaded", "path: String, level: u64", "path, level"),
    ("new_connection", "c: T::Connection", "c"),
    ("connection_state_remove", "c: T::Connection", "c"),
    ("connection_timeout", "c: T::Connection", "c"),
    ("connection_status_update", "c: T::Connection", "c"),
    ("connection_reused", "c: T::Connection", "c"),
    ("connection_flow_label_changed", "c: T::Connection, is_orig: bool, old_label: u32, new_label: u32", "c, is_orig, old_label, new_label"),
    ("tunnel_changed", "c: T::Connection, e: ::std::vec::Vec<T::EncapsulatingConn>", "c, e"),
    ("content_gap", "c: T::Connection, is_orig: bool, seq: u64, length: u64", "c, is_orig, seq, length"),
    ("conn_weird", "name: String, c: T::Connection, addl: String, source: String", "name, c, addl, source"),
    ("flow_weird", "name: String, src: T::IpAddress, dst: T::IpAddress, addl: String, source: String", "name, src, dst, addl, source"),
    ("net_weird", "name: String, addl: String, source: String", "name, addl, source"),
    ("reporter_info", "t: f64, msg: String, location: String", "t, msg, location"),
    ("reporter_warning", "t: f64, msg: String, location: String", "t, msg, location"),
    ("reporter_error", "t: f64, msg: String, location: String", "t, msg, location"),
    ("event_queue_flush_point", "", ""),
    ("raw_packet", "p: T::RawPktHdr", "p"),
    ("new_packet", "c: T::Connection, p: T::PktHdr", "c, p"),
    ("ipv6_ext_headers", "c: T::Connection, p: T::PktHdr", "c, p"),
    ("packet_contents", "c: T::Connection, contents: ::std::vec::Vec<u8>", "c, contents"),
    ("esp_packet", "p: T::PktHdr", "p"),
    ("mobile_ipv6_message", "p: T::PktHdr", "p"),
    ("conn_stats", "c: T::Connection, os: T::EndpointStats, rs: T::EndpointStats", "c, os, rs"),
    ("new_event", "name: String, params: ::std::vec::Vec<T::CallArgument>", "name, params"),
    ("rexmit_inconsistency", "c: T::Connection, t1: ::std::vec::Vec<u8>, t2: ::std::vec::Vec<u8>, tcp_flags: String", "c, t1, t2, tcp_flags"),
];

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
    let mut events = Vec::new();
    for t in tokens {
        match t {
            TokenTree::Ident(i) => {
                let name = i.to_string();
                let Some(ev) = EVENTS.iter().find(|e| e.0 == name) else {
                    return Err(format!("unknown event `{name}` (weir:events@0.1.0)"));
                };
                if events.iter().any(|e: &&(&str, &str, &str)| e.0 == name) {
                    return Err(format!("event `{name}` listed twice"));
                }
                events.push(ev);
            }
            TokenTree::Punct(p) if p.as_char() == ',' => {}
            other => return Err(format!("unexpected `{other}`")),
        }
    }
    if events.is_empty() {
        return Err("export_handler!: list at least one event".into());
    }
    let wit_dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../wit");
    let mut world = String::from("package weir:handler; world handler { include weir:events/imports@0.1.0; ");
    for (name, _, _) in &events {
        world.push_str(&format!("export weir:events/{}@0.1.0; ", name.replace('_', "-")));
    }
    world.push('}');
    let mut impls = String::new();
    for (name, params, args) in &events {
        let params = params.replace("T::", "::weir_guest::types::");
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
        }},
        runtime_path: "::weir_guest::wit_bindgen::rt",
    }});
    {impls}
    export!({ty});
}}
"#
    ))
}
