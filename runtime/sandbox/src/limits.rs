//! The limits of a handler call and of a handler over time: the engine's
//! instance pool and fuel metering, fuel charged for host calls, the fuel and
//! epoch deadline armed for each call (the epoch ticker is the wall-clock
//! backstop), the trap window, and the CPU budget per second of network time
//! ([`crate::budget`]). The log and message rate windows are kept with the
//! state the stores share ([`crate::host`]).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use anyhow::{anyhow, Context as _};
use wasmtime::{CallHook, Config, Engine, InstanceAllocationStrategy, PoolingAllocationConfig, Store, Trap};

use crate::host::{HostState, Level};
use crate::{Sandbox, SandboxConfig};

/// Fuel charged for every host call a handler makes (WASI ones included), on top
/// of the wasm instructions it runs.
pub const HOST_CALL_FUEL: u64 = 1_000;

/// Fuel charged per byte a handler passes to or gets from a host call (messages,
/// log names, log values and the bytes of the log line written, stream and file
/// bytes); see [`wasi_shims`] for the WASI calls.
pub const HOST_BYTE_FUEL: u64 = 1;

/// Fuel charged per value and per set or vector element of a log record (each is
/// a lift from guest memory, an allocation and a formatting step in the host).
pub const LOG_VALUE_FUEL: u64 = 100;

/// The wasmtime engine: fuel metering and epoch interruption on, and the
/// instance pool sized from the configuration and the handler quota.
pub(crate) fn engine(cfg: &SandboxConfig) -> anyhow::Result<Engine> {
    let mut c = Config::new();
    c.wasm_component_model(true);
    c.consume_fuel(cfg.fuel > 0);
    c.epoch_interruption(true);
    let n = cfg.max_instances.max(4);
    let q = cfg.quota;
    let mut pool = PoolingAllocationConfig::default();
    // Each slot holds one handler instance with its whole quota: no handler can
    // take another's share, and a component bigger than a share is refused when
    // it is compiled or loaded.
    pool.total_component_instances(n)
        .total_core_instances(n.saturating_mul(q.core_instances))
        .total_memories(n.saturating_mul(q.memories))
        .total_tables(n.saturating_mul(q.tables))
        .max_core_instances_per_component(q.core_instances)
        .max_memories_per_component(q.memories)
        .max_tables_per_component(q.tables)
        .max_memory_size(cfg.memory_bytes.max(1 << 16));
    c.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&c).map_err(|e| anyhow!("cannot set up wasmtime: {e}"))
}

/// weir's engine settings that change compiled code (part of a compile cache
/// entry's name, beside wasmtime's own compatibility hash).
pub(crate) fn engine_settings(cfg: &SandboxConfig) -> String {
    format!(
        "fuel={} epoch=on memory_bytes={} max_instances={}",
        cfg.fuel > 0,
        cfg.memory_bytes.max(1 << 16),
        cfg.max_instances.max(4)
    )
}

/// The thread that advances wasmtime's epoch: the wall-clock backstop of every call.
pub(crate) struct Ticker {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Ticker {
    pub(crate) fn start(engine: &Engine, tick: Duration) -> anyhow::Result<Ticker> {
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let engine = engine.clone();
            let stop = stop.clone();
            std::thread::Builder::new()
                .name("weir-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(tick);
                        engine.increment_epoch();
                    }
                })
                .context("starting the epoch ticker")?
        };
        Ok(Ticker { stop, thread: Some(thread) })
    }
}

impl Drop for Ticker {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Call hook: every host call costs [`HOST_CALL_FUEL`] plus [`HOST_BYTE_FUEL`] per
/// byte passed, taken from the store's fuel when the call returns to wasm; a handler
/// that cannot pay traps with out-of-fuel.
fn charge_host_call(mut cx: wasmtime::StoreContextMut<'_, HostState>, hook: CallHook) -> wasmtime::Result<()> {
    if matches!(hook, CallHook::CallingHost) {
        // What the host call may spend before it does work it cannot be paid for.
        cx.data_mut().fuel_left = cx.get_fuel()?.saturating_sub(HOST_CALL_FUEL);
        return Ok(());
    }
    if !matches!(hook, CallHook::ReturningFromHost) {
        return Ok(());
    }
    let bytes = std::mem::take(&mut cx.data_mut().charge);
    let cost = HOST_CALL_FUEL.saturating_add(bytes.saturating_mul(HOST_BYTE_FUEL));
    let fuel = cx.get_fuel()?;
    if cost > fuel {
        cx.set_fuel(0)?;
        return Err(Trap::OutOfFuel.into());
    }
    cx.set_fuel(fuel - cost)
}

/// Sets up a new store's limits: its memory, instance and table caps, `fuel`
/// for its first call with host calls charged (when metering is on), and the
/// epoch deadline.
pub(crate) fn limit_store(store: &mut Store<HostState>, cfg: &SandboxConfig, fuel: u64) -> wasmtime::Result<()> {
    store.limiter(|s| &mut s.limits);
    if cfg.fuel > 0 {
        store.set_fuel(fuel)?;
        store.call_hook(charge_host_call);
    }
    store.epoch_deadline_trap();
    store.set_epoch_deadline(cfg.epoch_deadline_ticks);
    Ok(())
}

impl Sandbox {
    /// Arms handler `i`'s live instance for one call: its fuel per call (when
    /// metering is on), a fresh epoch deadline, no fuel owed for host bytes, and
    /// whether its reporter calls are `quiet` (inside a reporter handler).
    pub(crate) fn arm_call(&mut self, i: usize, quiet: bool) -> wasmtime::Result<()> {
        let fuel = if self.cfg.fuel > 0 { self.handlers[i].fuel } else { 0 };
        let ticks = self.cfg.epoch_deadline_ticks;
        let live = self.handlers[i].live.as_mut().expect("instantiated above");
        if fuel > 0 {
            live.store.set_fuel(fuel)?;
        }
        live.store.set_epoch_deadline(ticks);
        live.store.data_mut().quiet = quiet;
        live.store.data_mut().charge = 0;
        Ok(())
    }

    /// Counts a trap of handler `i` at network time `now` in its trap window;
    /// true when it has trapped [`SandboxConfig::max_traps`] times within
    /// [`SandboxConfig::trap_window`] and is to be disabled.
    pub(crate) fn count_trap(&mut self, i: usize, now: f64) -> bool {
        let h = &mut self.handlers[i];
        h.traps.push_back(now);
        while h.traps.front().is_some_and(|t| now - *t > self.cfg.trap_window) {
            h.traps.pop_front();
        }
        // Traffic must never cost a standard log: a standard handler is replaced, never disabled.
        h.traps.len() >= self.cfg.max_traps && !h.standard
    }

    /// Whether handler `i` may take the next event: not after a second stop signal
    /// (unless standard), nor once it has spent its CPU budget for this second of
    /// network time (the event is then counted as skipped).
    pub(crate) fn may_call(&mut self, i: usize) -> bool {
        let standard = self.handlers[i].standard;
        if !standard && self.signals.as_ref().is_some_and(|s| s.load(Ordering::Relaxed) >= 2) {
            self.signal_skips += 1;
            return false;
        }
        if self.cfg.fuel == 0 {
            return true;
        }
        self.roll_budget(i, false);
        let limit = if standard { 0 } else { self.cfg.cpu_budget };
        let h = &mut self.handlers[i];
        if h.disabled {
            return false;
        }
        if h.budget.exhausted(limit) {
            h.budget.skipped += 1;
            return false;
        }
        true
    }

    /// Ends handler `i`'s budget window when a second of network time has passed
    /// (or `force`, at the end): an overrun is reported, and too many of them within
    /// the trap window disable the handler.
    pub(crate) fn roll_budget(&mut self, i: usize, force: bool) {
        let now = self.clock.get();
        let limit = if self.handlers[i].standard { 0 } else { self.cfg.cpu_budget };
        let (max_traps, window) = (self.cfg.max_traps, self.cfg.trap_window);
        let h = &mut self.handlers[i];
        let overrun = h.budget.roll(now, limit, window, force);
        h.stats.max_fuel_per_sec = h.budget.max_used;
        let Some(o) = overrun else { return };
        let name = h.name.clone();
        let disable = !h.disabled && o.recent >= max_traps;
        if disable {
            h.disabled = true;
            h.live = None;
        }
        let mut shared = self.shared.lock().expect("sandbox state");
        let msg = format!(
            "handler {name}: CPU budget exceeded: {} fuel in one second of network time (budget {limit} fuel/s), {} events skipped",
            o.used, o.skipped
        );
        shared.report(Level::Warning, msg, &name, false);
        if disable {
            let msg = format!("handler {name}: disabled after {max_traps} CPU budget overruns within {window} s");
            shared.report(Level::Error, msg, &name, false);
        }
    }
}
