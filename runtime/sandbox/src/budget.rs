//! The CPU budget of a handler over time: fuel per second of network time.
//!
//! Fuel per call stops one runaway call; it does not stop a handler that spends
//! just under its fuel on every call. The budget bounds what a handler spends in
//! each second of network time (for a live capture, a second of wall time: the
//! budget is then a share of a CPU core). Once a handler has spent its budget in a
//! second, its events are skipped until the next second starts; each second in
//! which that happened is an overrun, reported as a reporter warning with what
//! was spent and skipped, and a handler with [`crate::SandboxConfig::max_traps`]
//! overruns within [`crate::SandboxConfig::trap_window`] seconds is disabled, as
//! one that keeps trapping is. The standard handlers are exempt.

use std::collections::VecDeque;

/// One handler's spending in the current second of network time.
#[derive(Clone, Debug, Default)]
pub(crate) struct Budget {
    window_start: f64,
    /// Fuel spent in the window.
    pub used: u64,
    /// Events skipped in the window because `used` reached the budget.
    pub skipped: u64,
    /// Network times of recent overruns.
    overruns: VecDeque<f64>,
    /// Most fuel spent in any window so far (for sizing budgets).
    pub max_used: u64,
}

/// What a window that ended over budget looked like.
pub(crate) struct Overrun {
    pub used: u64,
    pub skipped: u64,
    /// Overruns within the trap window, this one included.
    pub recent: usize,
}

impl Budget {
    /// Ends the window if a second of network time has passed since it began (or
    /// `force`), returning the overrun when the budget `limit` was exceeded.
    pub(crate) fn roll(&mut self, now: f64, limit: u64, window: f64, force: bool) -> Option<Overrun> {
        if !force && now - self.window_start < 1.0 {
            return None;
        }
        self.max_used = self.max_used.max(self.used);
        let over = limit > 0 && (self.used > limit || self.skipped > 0);
        let result = over.then(|| {
            self.overruns.push_back(now);
            while self.overruns.front().is_some_and(|t| now - *t > window) {
                self.overruns.pop_front();
            }
            Overrun { used: self.used, skipped: self.skipped, recent: self.overruns.len() }
        });
        if now.is_finite() {
            self.window_start = now;
        }
        self.used = 0;
        self.skipped = 0;
        result
    }

    /// True when the handler may not be called in this window.
    pub(crate) fn exhausted(&self, limit: u64) -> bool {
        limit > 0 && self.used >= limit
    }
}
