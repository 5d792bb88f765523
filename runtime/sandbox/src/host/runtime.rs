//! `weir:events/runtime`: network time, which the handlers' WASI clocks read
//! too, and the script options the operator set.
//!
//! A sandbox's network time is one value, [`NetworkTime`]: the sandbox holds
//! it and hands clones to its [`Shared`](super::Shared) state (reporter
//! events' `t`, rate windows) and to every store's clocks; budgets and the trap
//! window read it too. Only [`Sandbox::dispatch`](crate::Sandbox::dispatch)
//! sets it, to the time it is given: the run loop (`weir run`) passes the
//! engine's network time with every queue it drains.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use wasmtime_wasi::{HostMonotonicClock, HostWallClock};

use super::HostState;
use crate::bindings::weir::events::runtime as wruntime;

impl wruntime::Host for HostState {
    fn network_time(&mut self) -> f64 {
        self.clock.get()
    }

    fn script_option(&mut self, name: String) -> Option<String> {
        crate::options::value(&self.options, &name)
    }

    fn parse_distinguished_name(&mut self, der: Vec<u8>) -> Option<String> {
        weir_engine::analyzers::ssl::x509::name_from_der(&der)
    }
}

/// A sandbox's network time in seconds (f64 bits), shared by its handles;
/// 0 until the first drain.
#[derive(Clone, Default)]
pub(crate) struct NetworkTime(Arc<AtomicU64>);

impl NetworkTime {
    /// The current network time.
    pub(crate) fn get(&self) -> f64 {
        f64::from_bits(self.0.load(Ordering::Relaxed))
    }

    /// Sets it (by [`Sandbox::dispatch`](crate::Sandbox::dispatch) only).
    pub(crate) fn set(&self, t: f64) {
        self.0.store(t.to_bits(), Ordering::Relaxed);
    }
}

/// Clocks that read network time: handlers get no wall clock of their own.
pub(super) struct NetworkClock(pub(super) NetworkTime);

impl NetworkClock {
    fn now(&self) -> Duration {
        Duration::try_from_secs_f64(self.0.get()).unwrap_or_default()
    }
}

impl HostWallClock for NetworkClock {
    fn resolution(&self) -> Duration {
        Duration::from_micros(1)
    }
    fn now(&self) -> Duration {
        NetworkClock::now(self)
    }
}

impl HostMonotonicClock for NetworkClock {
    fn resolution(&self) -> u64 {
        1_000
    }
    fn now(&self) -> u64 {
        NetworkClock::now(self).as_nanos() as u64
    }
}
