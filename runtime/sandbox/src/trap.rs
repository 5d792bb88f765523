//! Why a handler call failed, in the words reporter.log uses.
//!
//! wasmtime reports most failures as a typed [`Trap`] (fuel, epoch deadline,
//! `unreachable`, stack overflow, out-of-bounds access). A memory that may not
//! grow past the handler's cap is made typed here: the store's limiter
//! ([`Limiter`]) marks it with [`MemoryLimit`]. Only a growth that wasmtime
//! itself refuses after the limiter allowed it ("memory growth exceeds memory
//! type's limits") comes as text, and is recognised by its text.

use std::fmt;

use wasmtime::{ResourceLimiter, StoreLimits, Trap};

/// A linear memory could not grow within the handler's memory cap.
#[derive(Debug)]
pub(crate) struct MemoryLimit;

impl fmt::Display for MemoryLimit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("memory limit reached")
    }
}

/// A store's resource limiter: wasmtime's [`StoreLimits`] (which trap on a
/// refused growth), with a memory growth past the cap marked [`MemoryLimit`].
pub(crate) struct Limiter(pub StoreLimits);

impl ResourceLimiter for Limiter {
    fn memory_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        self.0.memory_growing(current, desired, maximum).map_err(|e| e.context(MemoryLimit))
    }
    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.0.memory_grow_failed(error)
    }
    fn table_growing(&mut self, current: usize, desired: usize, maximum: Option<usize>) -> wasmtime::Result<bool> {
        self.0.table_growing(current, desired, maximum)
    }
    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.0.table_grow_failed(error)
    }
    fn instances(&self) -> usize {
        self.0.instances()
    }
    fn tables(&self) -> usize {
        self.0.tables()
    }
    fn memories(&self) -> usize {
        self.0.memories()
    }
}

/// What reporter.log says about a failed call of a handler with `fuel` per call.
pub(crate) fn trap_kind(err: &wasmtime::Error, fuel: u64) -> String {
    match err.downcast_ref::<Trap>() {
        Some(Trap::OutOfFuel) => format!("out of fuel (budget {fuel})"),
        Some(Trap::Interrupt) => "time limit exceeded (epoch deadline)".to_string(),
        Some(Trap::UnreachableCodeReached) => "unreachable executed (guest panic or abort)".to_string(),
        Some(Trap::StackOverflow) => "stack overflow".to_string(),
        Some(Trap::MemoryOutOfBounds) => "out-of-bounds memory access".to_string(),
        Some(t) => format!("trap: {t}"),
        None if err.is::<MemoryLimit>() => MemoryLimit.to_string(),
        None => {
            let text = format!("{err:#}");
            if text.contains("memory") && text.contains("limit") {
                MemoryLimit.to_string()
            } else {
                format!("error: {}", text.lines().next().unwrap_or(""))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use wasmtime::{Config, Engine, Instance, Module, Store, StoreLimitsBuilder};

    fn kind(err: impl Into<wasmtime::Error>) -> String {
        trap_kind(&err.into(), 7)
    }

    #[test]
    fn typed_traps_have_their_own_words() {
        assert_eq!(kind(Trap::OutOfFuel), "out of fuel (budget 7)");
        assert_eq!(kind(Trap::Interrupt), "time limit exceeded (epoch deadline)");
        assert_eq!(kind(Trap::UnreachableCodeReached), "unreachable executed (guest panic or abort)");
        assert_eq!(kind(Trap::StackOverflow), "stack overflow");
        assert_eq!(kind(Trap::MemoryOutOfBounds), "out-of-bounds memory access");
        assert_eq!(kind(Trap::IntegerDivisionByZero), format!("trap: {}", Trap::IntegerDivisionByZero));
    }

    #[test]
    fn a_trap_under_context_is_still_found() {
        let err = wasmtime::Error::from(Trap::OutOfFuel).context("calling new_connection");
        assert_eq!(trap_kind(&err, 10), "out of fuel (budget 10)");
    }

    #[test]
    fn other_errors_give_their_first_line() {
        assert_eq!(kind(wasmtime::format_err!("no such export\nmore detail")), "error: no such export");
        let table = StoreLimitsBuilder::new().table_elements(10).trap_on_grow_failure(true).build();
        let err = Limiter(table).table_growing(0, 11, None).unwrap_err();
        assert_eq!(trap_kind(&err, 7), "error: forcing trap when growing table to 11 elements");
    }

    #[test]
    fn the_memory_cap_is_typed() {
        let limits = StoreLimitsBuilder::new().memory_size(1 << 16).trap_on_grow_failure(true).build();
        let mut limiter = Limiter(limits);
        assert!(limiter.memory_growing(0, 1 << 16, None).unwrap());
        let err = limiter.memory_growing(1 << 16, 2 << 16, None).unwrap_err();
        assert!(err.is::<MemoryLimit>());
        assert_eq!(trap_kind(&err, 7), "memory limit reached");
    }

    #[test]
    fn a_growth_wasmtime_refuses_reads_as_the_memory_limit() {
        let limits = StoreLimitsBuilder::new().trap_on_grow_failure(true).build();
        let err = Limiter(limits)
            .memory_grow_failed(wasmtime::format_err!("memory growth exceeds memory type's limits"))
            .unwrap_err();
        assert!(!err.is::<MemoryLimit>());
        assert_eq!(trap_kind(&err, 7), "memory limit reached");
    }

    #[test]
    fn a_guest_growing_past_the_cap_traps_with_the_memory_limit() {
        let engine = Engine::new(&Config::new()).unwrap();
        let wat = r#"(module (memory 1) (func (export "grow") (result i32) (memory.grow (i32.const 4))))"#;
        let module = Module::new(&engine, wat::parse_str(wat).unwrap()).unwrap();
        let limits = StoreLimitsBuilder::new().memory_size(2 << 16).trap_on_grow_failure(true).build();
        let mut store = Store::new(&engine, Limiter(limits));
        store.limiter(|l| l);
        let instance = Instance::new(&mut store, &module, &[]).unwrap();
        let grow = instance.get_typed_func::<(), i32>(&mut store, "grow").unwrap();
        let err = grow.call(&mut store, ()).unwrap_err();
        assert_eq!(trap_kind(&err, 7), "memory limit reached");
    }
}
