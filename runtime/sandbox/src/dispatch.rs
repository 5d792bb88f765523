//! Dispatch: draining an event queue into the handlers that take each event,
//! instantiating a handler at its first event (and again after a trap), one
//! call, and what a failed call does.

use wasmtime::Store;

use weir_engine::events::{Event, EventKind, EventQueue};

use crate::exports::{Guests, WitEvent};
use crate::host::{HostState, Level};
use crate::{limits, trap, Sandbox};

/// A running instance of a handler.
pub(crate) struct Live {
    pub(crate) store: Store<HostState>,
    pub(crate) guests: Guests,
    /// Its `signature-eval` functions, if it exports them.
    pub(crate) eval: Option<crate::eval::Guest>,
}

impl Sandbox {
    /// The drain of [`Sandbox::dispatch`], at the network time it has set:
    /// appends `event_queue_flush_point`, runs every queued event, then one more
    /// round of the events those caused; events caused in that second round
    /// are pushed back onto `queue`.
    pub(crate) fn drain(&mut self, queue: &mut EventQueue) {
        let mut round = queue.take();
        if queue.wants(EventKind::EventQueueFlushPoint) {
            round.push_back(Event::EventQueueFlushPoint);
        }
        if round.is_empty() && self.handlers.is_empty() {
            // No handler: nothing runs, reports, reads the time or is caused.
            self.idle_window_start = f64::INFINITY;
            return;
        }
        let caused = if round.is_empty() {
            // Nothing to run: one lock ends the round.
            let (caused, window) = {
                let mut shared = self.shared.lock().expect("sandbox state");
                (shared.take_caused(), shared.earliest_rate_window())
            };
            self.idle_window_start = window;
            self.wanted(caused)
        } else {
            for ev in round {
                self.dispatch_one(&ev);
            }
            self.take_caused()
        };
        if caused.is_empty() {
            // Nothing ran since the round ended, so nothing more was caused.
            return;
        }
        for ev in caused {
            self.dispatch_one(&ev);
        }
        for ev in self.take_caused() {
            queue.push(ev);
        }
    }

    /// Events raised by the host or handlers during the last calls (reporter
    /// events). What is left after this, until the next call, is only the
    /// rate windows' ends: noted for [`Sandbox::dispatch`]'s fast path.
    pub(crate) fn take_caused(&mut self) -> Vec<Event> {
        let (caused, window) = {
            let mut shared = self.shared.lock().expect("sandbox state");
            (shared.take_caused(), shared.earliest_rate_window())
        };
        self.idle_window_start = window;
        self.wanted(caused)
    }

    /// The subscribed ones of `caused`.
    fn wanted(&self, caused: Vec<Event>) -> Vec<Event> {
        if caused.is_empty() {
            return caused;
        }
        let subs = self.subscriptions();
        caused.into_iter().filter(|e| subs.wants(e.kind())).collect()
    }

    pub(crate) fn dispatch_one(&mut self, ev: &Event) {
        let kind = ev.kind();
        if !self.handlers.iter().any(|h| !h.disabled && h.takes.wants(kind)) {
            return;
        }
        // A call may leave reports, caused events and requests behind.
        self.idle_window_start = f64::NEG_INFINITY;
        // new_event runs synchronously before the handlers of every dispatched event.
        if kind != EventKind::NewEvent && self.handlers.iter().any(|h| !h.disabled && h.takes.wants(EventKind::NewEvent)) {
            self.dispatch_one(&Event::NewEvent { name: kind.name().to_string(), params: ev.arguments() });
        }
        let wit = WitEvent::new(ev);
        let in_reporter_handler = matches!(kind, EventKind::ReporterInfo | EventKind::ReporterWarning | EventKind::ReporterError);
        for i in 0..self.handlers.len() {
            if self.handlers[i].disabled || !self.handlers[i].takes.wants(kind) {
                continue;
            }
            if !self.may_call(i) {
                continue;
            }
            if let Err(err) = self.call(i, &wit, in_reporter_handler) {
                self.trapped(i, &format!("event {}", kind.name()), &err, in_reporter_handler);
            }
        }
    }

    fn instantiate(&self, i: usize) -> wasmtime::Result<Live> {
        let h = &self.handlers[i];
        let mut state = HostState::new(self.shared.clone(), i, &h.name, &self.cfg, h.grant_dir.as_deref(), h.memory_bytes, self.clock.clone())?;
        state.standard = h.standard;
        let mut store = Store::new(&self.engine, state);
        limits::limit_store(&mut store, &self.cfg, h.fuel)?;
        let inst = h.pre.instantiate(&mut store)?;
        let guests = h.exports.load(&mut store, &inst)?;
        let eval = h.eval.as_ref().map(|x| x.load(&mut store, &inst)).transpose()?;
        Ok(Live { store, guests, eval })
    }

    fn call(&mut self, i: usize, ev: &WitEvent<'_>, quiet: bool) -> wasmtime::Result<()> {
        self.call_with(i, quiet, |live| live.guests.call(&mut live.store, ev))
    }

    /// One call into handler `i` (`f` on its live instance, instantiated
    /// first if it has none), within its fuel and time limits, counted in
    /// its stats and budget.
    pub(crate) fn call_with<R>(
        &mut self,
        i: usize,
        quiet: bool,
        f: impl FnOnce(&mut Live) -> wasmtime::Result<R>,
    ) -> wasmtime::Result<R> {
        if self.handlers[i].live.is_none() {
            let t0 = std::time::Instant::now();
            let live = self.instantiate(i)?;
            let h = &mut self.handlers[i];
            h.stats.instantiations += 1;
            h.stats.instantiate_time += t0.elapsed();
            h.live = Some(live);
        }
        let result = self.arm_call(i, quiet).and_then(|()| f(self.handlers[i].live.as_mut().expect("instantiated above")));
        let fuel = if self.cfg.fuel > 0 { self.handlers[i].fuel } else { 0 };
        let h = &mut self.handlers[i];
        h.stats.calls += 1;
        if let Some(live) = &h.live {
            live.store.data().stderr.lock().expect("stderr").flush();
        }
        if fuel > 0 {
            let used = fuel - h.live.as_ref().and_then(|l| l.store.get_fuel().ok()).unwrap_or(0);
            h.stats.fuel += used;
            h.stats.max_fuel = h.stats.max_fuel.max(used);
            h.budget.used = h.budget.used.saturating_add(used);
        }
        result
    }

    /// A call (`what`: `event new_connection`) failed: drop the store, report,
    /// and disable after too many traps.
    pub(crate) fn trapped(&mut self, i: usize, what: &str, err: &wasmtime::Error, quiet: bool) {
        let fuel = self.handlers[i].fuel;
        let now = self.clock.get();
        let h = &mut self.handlers[i];
        h.live = None;
        let msg = format!("handler {}: {what}: {}", h.name, trap::trap_kind(err, fuel));
        let name = h.name.clone();
        let disable = self.count_trap(i, now);
        let mut shared = self.shared.lock().expect("sandbox state");
        shared.report(Level::Error, msg, &name, quiet);
        if !disable {
            let msg = format!("handler {name}: instance replaced after a trap; its state was lost");
            shared.report(Level::Warning, msg, &name, quiet);
        } else {
            self.handlers[i].disabled = true;
            let msg = format!(
                "handler {name}: disabled after {} traps within {} s",
                self.cfg.max_traps, self.cfg.trap_window
            );
            shared.report(Level::Error, msg, &name, quiet);
        }
    }
}
