//! Signature `eval` conditions answered by handlers (`weir:events/signature-eval`):
//! the names a handler answers for are asked once when it is loaded, and a
//! condition calls its `evaluate` synchronously, within the handler's fuel,
//! time and memory limits; a failed call counts as false and is reported as
//! any trap is.

use weir_engine::events::SignatureState;

use crate::Sandbox;

#[allow(missing_docs, clippy::all)]
mod bindings {
    wasmtime::component::bindgen!({
        world: "signature-eval-answers",
        path: "../../wit",
        with: { "weir:events/types": crate::bindings::weir::events::types },
    });
}

/// The interface's name as a component exports it.
pub(crate) const INTERFACE: &str = "weir:events/signature-eval@0.1.0";

/// Where the interface's functions are in a handler's components.
pub(crate) type Indices = bindings::exports::weir::events::signature_eval::GuestIndices;
/// The interface's functions in a live instance.
pub(crate) type Guest = bindings::exports::weir::events::signature_eval::Guest;

/// The lookup of the interface in a component that exports it.
pub(crate) fn indices<T: 'static>(
    pre: &wasmtime::component::InstancePre<T>,
    export_names: &[String],
) -> anyhow::Result<Option<Indices>> {
    if !export_names.iter().any(|n| n == INTERFACE) {
        return Ok(None);
    }
    Indices::new(pre).map(Some).map_err(|e| anyhow::anyhow!("export {INTERFACE} does not match the WIT: {e}"))
}

impl Sandbox {
    /// Asks handler `i` which `eval` names it answers for (once, at load).
    pub(crate) fn ask_eval_functions(&mut self, i: usize) -> anyhow::Result<()> {
        if self.handlers[i].eval.is_none() {
            return Ok(());
        }
        let names = self
            .call_with(i, false, |live| live.eval.as_ref().expect("exported").call_functions(&mut live.store))
            .map_err(|e| anyhow::anyhow!("signature-eval.functions: {}", crate::trap::trap_kind(&e, self.handlers[i].fuel)))?;
        self.handlers[i].eval_functions = names.into_iter().map(|n| crate::host::escape_controls(&n)).collect();
        Ok(())
    }

    /// Every `eval` name a loaded handler answers for, with the handler's name.
    pub fn eval_functions(&self) -> Vec<(String, String)> {
        self.handlers.iter().flat_map(|h| h.eval_functions.iter().map(|f| (f.clone(), h.name.clone()))).collect()
    }

    /// Answers condition `eval name` for the signature in `state` on `data`:
    /// the first handler that lists `name` is called. False when none does,
    /// when it is disabled or over its CPU budget, or when the call fails
    /// (then reported as a trap is).
    pub fn eval_signature(&mut self, name: &str, state: &SignatureState, data: &[u8]) -> bool {
        let Some(i) = self.handlers.iter().position(|h| !h.disabled && h.eval_functions.iter().any(|f| f == name)) else {
            return false;
        };
        if !self.may_call(i) {
            return false;
        }
        let state = crate::convert::ToWit::to_wit(state);
        let result = self.call_with(i, false, |live| {
            live.eval.as_ref().expect("exported").call_evaluate(&mut live.store, name, &state, data)
        });
        match result {
            Ok(holds) => holds,
            Err(err) => {
                self.trapped(i, &format!("signature-eval {name}"), &err, false);
                false
            }
        }
    }
}
