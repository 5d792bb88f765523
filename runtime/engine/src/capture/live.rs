//! Live capture from a network interface.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use super::{CaptureError, Packet, PacketSource, Poll};

/// Read timeout in milliseconds: how often the stop flag is checked when idle.
const READ_TIMEOUT_MS: i32 = 100;

/// A live interface read with libpcap (promiscuous, immediate mode,
/// non-blocking: libpcap's read timeout does not make a read return on every
/// platform when no packet comes, so the source waits on the capture's file
/// descriptor itself, one read timeout at a time).
pub struct LiveSource {
    cap: pcap::Capture<pcap::Active>,
    name: String,
    link_type: i32,
    stop: Arc<AtomicBool>,
    /// The capture's descriptor, waited on when nothing is buffered.
    fd: std::os::fd::RawFd,
    /// The last read found nothing buffered.
    drained: bool,
}

impl LiveSource {
    /// Opens interface `iface` with an optional BPF `filter` and capture length `snaplen`.
    pub fn open(iface: &str, filter: Option<&str>, snaplen: i32) -> Result<Self, CaptureError> {
        let open_err = |e: pcap::Error| CaptureError::Open { source: iface.to_string(), reason: e.to_string() };
        let mut cap = pcap::Capture::from_device(iface)
            .map_err(open_err)?
            .promisc(true)
            .immediate_mode(true)
            .snaplen(snaplen)
            .timeout(READ_TIMEOUT_MS)
            .open()
            .and_then(|c| c.setnonblock())
            .map_err(open_err)?;
        if let Some(expr) = filter {
            cap.filter(expr, true)
                .map_err(|e| CaptureError::Filter { filter: expr.to_string(), reason: e.to_string() })?;
        }
        let link_type = cap.get_datalink().0;
        tracing::info!(interface = iface, link_type, "listening");
        let fd = std::os::fd::AsRawFd::as_raw_fd(&cap);
        Ok(LiveSource { cap, name: iface.to_string(), link_type, stop: Arc::new(AtomicBool::new(false)), fd, drained: false })
    }

    /// Uses `flag` as the stop flag (one a signal handler sets, say). libpcap
    /// may wait for packets beyond its read timeout, so a watcher thread also
    /// breaks the read loop (`pcap_breakloop`) once the flag is set.
    pub fn with_stop_flag(mut self, flag: Arc<AtomicBool>) -> Self {
        let breaker = self.cap.breakloop_handle();
        let watched = Arc::clone(&flag);
        std::thread::Builder::new()
            .name("weir-capture-stop".into())
            .spawn(move || {
                while !watched.load(Ordering::Relaxed) {
                    std::thread::sleep(std::time::Duration::from_millis(50));
                }
                breaker.breakloop();
            })
            .ok();
        self.stop = flag;
        self
    }

    /// The flag that stops this source when set (e.g. from a signal handler).
    pub fn stop_handle(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.stop)
    }

    /// Asks the source to stop: `next_packet` returns `Ok(None)` within one read timeout.
    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }

    /// The link-layer type of the interface (a [`super::dlt`] value).
    pub fn link_type(&self) -> i32 {
        self.link_type
    }
}

impl PacketSource for LiveSource {
    fn next_packet(&mut self) -> Result<Option<Packet<'_>>, CaptureError> {
        loop {
            let cap: *mut LiveSource = self;
            // SAFETY: `cap` points to `self`, alive and exclusively borrowed for
            // the whole call. The raw pointer only sidesteps the borrow checker's
            // rejection of a borrow returned from one loop iteration and retried in
            // the next (no borrow survives a `continue`).
            match unsafe { (*cap).poll() }? {
                Poll::Packet(p) => return Ok(Some(p)),
                Poll::Idle => continue,
                Poll::End => return Ok(None),
            }
        }
    }

    fn poll(&mut self) -> Result<Poll<'_>, CaptureError> {
        let link_type = self.link_type;
        loop {
            if self.stop.load(Ordering::Relaxed) {
                return Ok(Poll::End);
            }
            if self.drained {
                // Nothing was buffered: wait for the descriptor up to one read
                // timeout; no packet by then means the source is idle.
                self.drained = false;
                let mut fds = libc::pollfd { fd: self.fd, events: libc::POLLIN, revents: 0 };
                // SAFETY: one valid pollfd; the capture that owns `fd` outlives the call.
                if unsafe { libc::poll(&mut fds, 1, READ_TIMEOUT_MS) } == 0 {
                    return Ok(Poll::Idle);
                }
            }
            let cap: *mut pcap::Capture<pcap::Active> = &mut self.cap;
            // SAFETY: `cap` points to `self.cap`, alive and exclusively borrowed for
            // the whole call. The raw pointer only sidesteps the borrow checker's
            // rejection of a borrow returned from one loop iteration and retried in
            // the next (no borrow survives a `continue`).
            match unsafe { (*cap).next_packet() } {
                Ok(p) => {
                    let ts = p.header.ts.tv_sec as f64 + p.header.ts.tv_usec as f64 / 1e6;
                    return Ok(Poll::Packet(Packet { ts, wire_len: p.header.len, link_type, data: p.data }));
                }
                // Non-blocking: nothing buffered right now.
                Err(pcap::Error::TimeoutExpired) => self.drained = true,
                Err(pcap::Error::NoMorePackets) => return Ok(Poll::End),
                Err(e) => return Err(CaptureError::Read { source: self.name.clone(), reason: e.to_string() }),
            }
        }
    }

    fn name(&self) -> &str {
        &self.name
    }

    fn is_live(&self) -> bool {
        true
    }
}
