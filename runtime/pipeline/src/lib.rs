//! weir's pipeline: packets from a [`PacketSource`] through decode, sessions
//! and the event queue ([`Engine`]) to the handlers ([`Sandbox`]), on the
//! calling thread or fanned out by flow hash to worker threads, each with its
//! own engine and handler instances. Network time follows the packets, and
//! the wall clock while a live source is quiet. The caller builds the engine
//! [`Config`] and the [`Sandbox`] (handlers loaded) and gets a [`Summary`]
//! back; what it shows while the run goes is up to its [`Observer`].
#![deny(missing_docs)]

use anyhow::{bail, Context};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use weir_engine::capture::fanout::Fanout;
use weir_engine::capture::{CaptureError, Packet, PacketSource, Poll};
use weir_engine::config::Config;
use weir_engine::engine::TableStats;
use weir_engine::events::{Drain, EventQueue};
use weir_engine::Engine;
use weir_sandbox::Sandbox;

/// One engine and the sandbox its events go to: the whole pipeline after
/// capture, run by the calling thread or by each worker thread. The engine
/// holds a second handle on the sandbox for the forced drains of file
/// analysis ([`HandlerDrain`]).
pub struct Worker {
    engine: Engine,
    sandbox: Arc<Mutex<Sandbox>>,
}

/// The engine's forced drain (`weir_engine::events::Drain`): the queued
/// events run through the handlers at once, and the file handle one of them
/// set comes back; signature `eval` conditions call the handler that
/// answers for the function. Analyzer requests they make wait in the sandbox for the
/// end of the packet, as after a normal drain.
pub struct HandlerDrain(Arc<Mutex<Sandbox>>);

impl Drain for HandlerDrain {
    fn drain(&mut self, q: &mut EventQueue, now: f64) -> Option<String> {
        let mut s = self.0.lock().expect("sandbox");
        s.take_file_handle();
        s.dispatch(q, now);
        q.file_requests(s.take_file_requests());
        s.take_file_handle()
    }

    fn eval(&mut self, func: &str, state: &weir_engine::events::SignatureState, data: &[u8]) -> bool {
        self.0.lock().expect("sandbox").eval_signature(func, state, data)
    }
}

impl Worker {
    /// Starts the pipeline: `bro_init` and one `bro_script_loaded` per handler.
    pub fn start(cfg: Config, sandbox: Sandbox) -> Worker {
        let mut engine = Engine::new(cfg, sandbox.subscriptions());
        engine.start();
        for ev in sandbox.script_loaded_events() {
            engine.queue.push(ev);
        }
        let sandbox = Arc::new(Mutex::new(sandbox));
        engine.queue.set_drain(Box::new(HandlerDrain(sandbox.clone())));
        let mut w = Worker { engine, sandbox };
        w.dispatch();
        w
    }

    /// One packet through the engine, then its events through the handlers.
    pub fn packet(&mut self, pkt: &Packet<'_>) {
        self.engine.process(pkt);
        self.dispatch();
    }

    /// Queues `ev`, if a handler takes it, and runs it through the handlers
    /// at once: an event from outside the packets (a cluster's peers).
    pub fn raise(&mut self, ev: weir_engine::events::Event) {
        self.engine.queue.push(ev);
        self.dispatch();
    }

    /// Runs the queued events through the handlers, then hands the engine
    /// the analyzer requests they made.
    fn dispatch(&mut self) {
        let mut sandbox = self.sandbox.lock().expect("sandbox");
        if !sandbox.dispatch(&mut self.engine.queue, self.engine.network_time) {
            // Nothing ran, so no handler asked for anything.
            return;
        }
        self.engine.queue.file_requests(sandbox.take_file_requests());
        let requests = sandbox.take_requests();
        drop(sandbox);
        if !requests.is_empty() {
            self.engine.apply_requests(requests);
        }
    }

    /// Runs the timers due by `now`: the reader's latest packet time, or the
    /// wall clock while a live source is quiet.
    pub fn advance_to(&mut self, now: f64) {
        self.engine.advance_to(now);
        self.dispatch();
    }

    /// The engine (its counters and tables).
    pub fn engine(&self) -> &Engine {
        &self.engine
    }

    /// The sandbox the events go to.
    pub fn sandbox(&self) -> MutexGuard<'_, Sandbox> {
        self.sandbox.lock().expect("sandbox")
    }

    /// End of input: every connection removed, `bro_done`, last reporter
    /// round. Returns the sandbox, whose logs stay open, and what the worker did.
    pub fn finish(mut self) -> (Sandbox, WorkerSummary) {
        self.engine.finish();
        drop(self.engine.queue.take_drain());
        let mut sandbox = match Arc::try_unwrap(self.sandbox) {
            Ok(m) => m.into_inner().expect("sandbox"),
            Err(_) => unreachable!("the engine's drain was the only other handle"),
        };
        sandbox.dispatch(&mut self.engine.queue, self.engine.network_time);
        sandbox.finish_handlers();
        let summary = WorkerSummary { packets: self.engine.stats.packets, tables: self.engine.table_stats() };
        (sandbox, summary)
    }
}

/// What one worker did, at the end of the run.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct WorkerSummary {
    /// Packets it processed.
    pub packets: u64,
    /// Its tables and what their bounds dropped.
    pub tables: TableStats,
}

impl WorkerSummary {
    /// True when a table bound dropped state early (fragments, flow weird
    /// pairs, IP tunnels), which the end of a run warns about.
    pub fn dropped_state(&self) -> bool {
        let t = &self.tables;
        t.frags.evicted > 0 || t.flow_weird_pairs_evicted > 0 || t.ip_tunnels_evicted > 0
    }
}

/// The end of a run.
pub struct Summary {
    /// The read error that ended the input early, if any (the run still
    /// finished: connections logged, `bro_done` run).
    pub failure: Option<CaptureError>,
    /// The sandbox that owns the log files, still open: close them with
    /// [`Sandbox::close_logs`].
    pub sandbox: Sandbox,
    /// One entry per worker, in worker order (one for a run on the calling thread).
    pub workers: Vec<WorkerSummary>,
}

/// What the caller sees of a running pipeline; every method does nothing by default.
pub trait Observer {
    /// A packet was read: `packets` so far; `open` counts the connections
    /// tracked (ask only when needed: it may add up every worker's count).
    fn packet(&mut self, packets: u64, open: &dyn Fn() -> usize) {
        let _ = (packets, open);
    }

    /// Reading is over (end of input, stop flag or read error); the handlers
    /// get the end of the run next.
    fn reading_done(&mut self) {}
}

/// An observer that shows nothing.
impl Observer for () {}

/// How to run the pipeline.
#[derive(Clone, Copy, Debug)]
pub struct RunOptions {
    /// Worker threads: 1 runs everything on the calling thread; more read on
    /// the calling thread and fan packets out by flow hash.
    pub workers: usize,
    /// `(i, n)`: only the packets whose flow hash modulo `n` is `i` are
    /// processed, the share of worker `i` of `n` cluster nodes that each see
    /// the whole input; the others' times still move network time on (on
    /// the calling thread's path), as in one weir. None: every packet.
    pub share: Option<(u64, u64)>,
}

impl Default for RunOptions {
    fn default() -> Self {
        RunOptions { workers: 1, share: None }
    }
}

/// Runs `source` through the pipeline until its end, `stop` or a read error,
/// then finishes every worker (connections logged, `bro_done`). The logs are
/// flushed once a second of wall clock, so a live run's logs can be followed,
/// and left open in the returned [`Summary`]. With several workers each one
/// gets `cfg` with its own UID seed ([`worker_seed`]) and a sibling of
/// `sandbox`.
pub fn run(
    cfg: Config,
    sandbox: Sandbox,
    source: &mut dyn PacketSource,
    opts: RunOptions,
    stop: &AtomicBool,
    observer: &mut impl Observer,
) -> anyhow::Result<Summary> {
    let workers = opts.workers.max(1);
    let mut flusher = LogFlusher::new();
    if workers == 1 {
        let mut w = Worker::start(cfg, sandbox);
        let failure = read_all(source, stop, opts.share, |step| {
            match step {
                Step::Packet(pkt) => {
                    w.packet(pkt);
                    observer.packet(w.engine.stats.packets, &|| w.engine.connections());
                    flusher.tick(Some(w.engine.stats.packets), &w.sandbox());
                }
                // A live source went quiet: timers run on the wall clock.
                Step::Idle => {
                    w.advance_to(wall_clock());
                    flusher.tick(None, &w.sandbox());
                }
                // Other shares' packets move network time on, as one weir's would.
                Step::Elsewhere(ts) => w.advance_to(ts),
            }
            true
        });
        observer.reading_done();
        let (sandbox, summary) = w.finish();
        Ok(Summary { failure, sandbox, workers: vec![summary] })
    } else {
        run_workers(workers, &cfg, sandbox, source, stop, opts.share, observer, &mut flusher)
    }
}

/// Several workers: this thread reads and fans packets out by flow hash; each
/// worker thread runs its own engine (connection table, timers) and its own
/// instances of every handler, writing into the same log files.
fn run_workers(
    n: usize,
    cfg: &Config,
    sandbox: Sandbox,
    source: &mut dyn PacketSource,
    stop: &AtomicBool,
    share: Option<(u64, u64)>,
    observer: &mut impl Observer,
    flusher: &mut LogFlusher,
) -> anyhow::Result<Summary> {
    let (fanout, inboxes) = Fanout::new(n);
    let mut fanout = fanout.with_clock_of(cfg);
    if source.is_live() {
        fanout = fanout.with_max_delay(Duration::from_millis(100));
    }
    let open: Vec<Arc<AtomicUsize>> = (0..n).map(|_| Arc::new(AtomicUsize::new(0))).collect();
    let mut threads = Vec::new();
    for (i, inbox) in inboxes.into_iter().enumerate() {
        let cfg = Config { uid_seed: worker_seed(cfg.uid_seed, i), ..cfg.clone() };
        let sibling = sandbox.sibling();
        let open = open[i].clone();
        let t = std::thread::Builder::new().name(format!("weir-worker-{i}")).spawn(move || {
            let mut w = Worker::start(cfg, sibling);
            while let Some(batch) = inbox.next() {
                for pkt in batch.packets() {
                    w.packet(&pkt);
                }
                w.advance_to(batch.now);
                open.store(w.engine.connections(), Ordering::Relaxed);
                inbox.recycle(batch);
            }
            w.finish().1
        });
        threads.push(t.context("starting a worker thread")?);
    }
    let mut packets = 0u64;
    // An idle live source hands over what the workers wait for, and moves
    // their timers on with the wall clock.
    let failure = read_all(source, stop, share, |step| match step {
        Step::Elsewhere(_) => true,
        Step::Packet(pkt) => {
            packets += 1;
            observer.packet(packets, &|| open.iter().map(|o| o.load(Ordering::Relaxed)).sum());
            flusher.tick(Some(packets), &sandbox);
            fanout.push(pkt)
        }
        Step::Idle => {
            flusher.tick(None, &sandbox);
            fanout.flush_at(wall_clock())
        }
    });
    fanout.finish();
    observer.reading_done();
    let mut workers = Vec::with_capacity(n);
    for t in threads {
        match t.join() {
            Ok(summary) => workers.push(summary),
            Err(_) => bail!("a worker thread panicked"),
        }
    }
    Ok(Summary { failure, sandbox, workers })
}

/// The UID seed of worker `i`: `seed` itself for worker 0 (a one-worker
/// run matches a run without workers), a distinct derived or random one
/// for the others, so UIDs never collide across workers.
pub fn worker_seed(seed: Option<u64>, i: usize) -> Option<u64> {
    use std::hash::BuildHasher;
    match seed {
        Some(s) => Some(s.wrapping_add((i as u64).wrapping_mul(0x9e37_79b9_7f4a_7c15))),
        None => Some(std::collections::hash_map::RandomState::new().hash_one(i)),
    }
}

/// What [`read_all`] hands its caller.
enum Step<'a, 'b> {
    /// A packet to process.
    Packet(&'a Packet<'b>),
    /// A live source was idle for its read timeout.
    Idle,
    /// The time of a packet of another share ([`RunOptions::share`]), once
    /// every [`ELSEWHERE_EVERY`] such packets.
    Elsewhere(f64),
}

/// Packets of other shares between two [`Step::Elsewhere`]: the share's
/// clock moves on in steps, as a `--workers` thread's does by batches.
const ELSEWHERE_EVERY: u64 = 64;

/// Reads packets until the end, a stop signal or an error (returned); `each`
/// gets every packet, and [`Step::Idle`] when a live source was idle for its
/// read timeout. It returns false to stop reading. With a `share` `(i, n)`
/// the packets of other shares are skipped ([`RunOptions::share`]), their
/// time handed on now and then.
fn read_all(
    source: &mut dyn PacketSource,
    stop: &AtomicBool,
    share: Option<(u64, u64)>,
    mut each: impl FnMut(Step<'_, '_>) -> bool,
) -> Option<CaptureError> {
    let mine = |pkt: &Packet<'_>| share.is_none_or(|(i, n)| weir_engine::capture::fanout::flow_hash(pkt.link_type, pkt.data) % n.max(1) == i);
    let mut elsewhere = 0u64;
    while !stop.load(Ordering::Relaxed) {
        let more = match source.poll() {
            Ok(Poll::Packet(pkt)) if !mine(&pkt) => {
                elsewhere += 1;
                !elsewhere.is_multiple_of(ELSEWHERE_EVERY) || each(Step::Elsewhere(pkt.ts))
            }
            Ok(Poll::Packet(pkt)) => each(Step::Packet(&pkt)),
            Ok(Poll::Idle) => each(Step::Idle),
            Ok(Poll::End) => false,
            Err(e) => return Some(e),
        };
        if !more {
            break;
        }
    }
    None
}

/// The live clock: wall-clock time in seconds since the epoch, the network
/// time of an idle live source.
pub fn wall_clock() -> f64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0.0, |d| d.as_secs_f64())
}

/// Flushes the logs once a second of wall clock, as Zeek's writers do, so a
/// live run's logs can be followed; checked every 4096 packets and whenever
/// a live source is idle.
struct LogFlusher {
    last: Instant,
}

impl LogFlusher {
    fn new() -> Self {
        LogFlusher { last: Instant::now() }
    }

    /// Flushes `sandbox`'s logs if a second has passed; `packets` read so far
    /// (`None` when idle) keeps the clock reads rare on busy input.
    fn tick(&mut self, packets: Option<u64>, sandbox: &Sandbox) {
        if packets.is_some_and(|n| !n.is_multiple_of(4096)) || self.last.elapsed() < Duration::from_secs(1) {
            return;
        }
        self.last = Instant::now();
        if let Err(e) = sandbox.flush_logs() {
            tracing::warn!("{e:#}");
        }
    }
}
