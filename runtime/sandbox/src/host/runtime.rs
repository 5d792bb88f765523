//! `weir:events/runtime`: network time, which the handlers' WASI clocks read too.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;

use wasmtime_wasi::{HostMonotonicClock, HostWallClock};

use super::HostState;
use crate::bindings::weir::events::runtime as wruntime;

impl wruntime::Host for HostState {
    fn network_time(&mut self) -> f64 {
        self.shared.lock().expect("sandbox state").network_time
    }
}

/// Clocks that read network time: handlers get no wall clock of their own.
pub(super) struct NetworkClock(pub(super) Arc<AtomicU64>);

impl NetworkClock {
    fn now(&self) -> Duration {
        Duration::try_from_secs_f64(f64::from_bits(self.0.load(Ordering::Relaxed))).unwrap_or_default()
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
