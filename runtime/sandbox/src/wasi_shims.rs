//! The WASI host calls a handler can reach, made safe for a packet path.
//!
//! wasmtime's WASI implementation waits in real time (a `sleep` is a host-side
//! timer, `poll` and the `blocking-*` stream calls wait for readiness) and
//! charges nothing for the bytes a call produces. Here:
//!
//! - the monotonic clock's `subscribe-duration` / `subscribe-instant` give a
//!   pollable that is ready at once: handlers' clocks read network time, which
//!   does not move during a call, so every wait on them is over as soon as it
//!   starts;
//! - every other wait a handler can make (`wasi:io/poll` `poll` and `block`, the
//!   `blocking-*` stream calls, file reads and writes) is cut at
//!   [`crate::SandboxConfig::host_wait_limit`] of wall time, which traps the call;
//! - opening anything but a regular file, a folder or a symbolic link to one in a
//!   granted folder (a FIFO, a device, a socket) is refused, since opening a FIFO
//!   blocks until a writer appears;
//! - bytes a call produces or consumes are charged as fuel ([`crate::HOST_BYTE_FUEL`],
//!   [`RANDOM_BYTE_FUEL`]), and a call whose work the handler cannot pay for traps
//!   with out-of-fuel *before* the host does the work.

use std::future::Future;
use std::time::Duration;

use wasmtime::component::{Linker, Resource};
use wasmtime::{StoreContextMut, Trap};
use wasmtime_wasi::p2::bindings::random::{insecure as wasi_insecure, random as wasi_random};
use wasmtime_wasi::p2::bindings::filesystem::types as async_fs;
use wasmtime_wasi::p2::bindings::sync::filesystem::types as wasi_fs;
use wasmtime_wasi::p2::bindings::sync::io::streams as wasi_streams;
use wasmtime_wasi::p2::{DynInputStream, DynOutputStream, DynPollable, Pollable};
use wasmtime_wasi::WasiView;
use wasmtime_wasi_io::bindings::wasi::io::poll::{Host as _, HostPollable as _};
use wasmtime_wasi_io::bindings::wasi::io::streams::{HostInputStream as _, HostOutputStream as _};

use crate::host::HostState;

/// Fuel per random byte a handler asks for: generating secure random bytes costs
/// about 3 ns a byte on the development machine, where a unit of fuel (one wasm
/// instruction) takes well under 1 ns.
pub const RANDOM_BYTE_FUEL: u64 = 8;

/// Default for [`crate::SandboxConfig::host_wait_limit`]: far above what a read of a
/// regular file takes, far below the epoch deadline of a call.
pub const DEFAULT_HOST_WAIT_LIMIT: Duration = Duration::from_millis(100);

/// The error a call traps with when a host-side wait exceeds its limit.
#[derive(Debug)]
pub struct HostWaitExceeded(pub Duration);

impl std::fmt::Display for HostWaitExceeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "blocking WASI call not ready within {} ms (host wait limit)", self.0.as_millis())
    }
}

impl std::error::Error for HostWaitExceeded {}

/// A pollable that is ready at once: a wait on the network-time clock.
struct ReadyNow;

#[wasmtime_wasi::async_trait]
impl Pollable for ReadyNow {
    async fn ready(&mut self) {}
}

/// Runs a host-side wait inside WASI's runtime, cut at `limit`.
fn bounded<F: Future>(limit: Duration, f: F) -> wasmtime::Result<F::Output> {
    wasmtime_wasi::runtime::in_tokio(async { tokio::time::timeout(limit, f).await })
        .map_err(|_| wasmtime::Error::new(HostWaitExceeded(limit)))
}

/// Fuel left in the store; `u64::MAX` when fuel metering is off.
fn fuel_left(cx: &StoreContextMut<'_, HostState>) -> u64 {
    cx.get_fuel().unwrap_or(u64::MAX)
}

/// Traps with out-of-fuel unless the handler can pay `cost` for work not done yet;
/// when it can, the cost is charged when the call returns to wasm.
fn prepay(cx: &mut StoreContextMut<'_, HostState>, cost: u64) -> wasmtime::Result<()> {
    if cost > fuel_left(cx) {
        let _ = cx.set_fuel(0);
        return Err(Trap::OutOfFuel.into());
    }
    cx.data_mut().charge = cx.data_mut().charge.saturating_add(cost);
    Ok(())
}

/// Charges `bytes` moved by a call that has been done.
fn charge_bytes(cx: &mut StoreContextMut<'_, HostState>, bytes: u64) {
    let cost = bytes.saturating_mul(crate::HOST_BYTE_FUEL);
    cx.data_mut().charge = cx.data_mut().charge.saturating_add(cost);
}

/// A stream error as the guest sees it (or the trap it stands for).
fn stream_error(
    cx: &mut StoreContextMut<'_, HostState>,
    e: wasmtime_wasi::p2::StreamError,
) -> wasmtime::Result<wasi_streams::StreamError> {
    wasi_streams::Host::convert_stream_error(cx.data_mut().ctx().table, e)
}

type StreamResult<T> = wasmtime::Result<(Result<T, wasi_streams::StreamError>,)>;

fn finish_stream<T>(
    cx: &mut StoreContextMut<'_, HostState>,
    r: Result<T, wasmtime_wasi::p2::StreamError>,
) -> StreamResult<T> {
    match r {
        Ok(v) => Ok((Ok(v),)),
        Err(e) => Ok((Err(stream_error(cx, e)?),)),
    }
}

/// Shadows the WASI functions that wait or produce bytes in `linker` (WASI must
/// already be linked, with shadowing allowed).
pub(crate) fn add(linker: &mut Linker<HostState>) -> anyhow::Result<()> {
    let err = |what: &str, e: wasmtime::Error| anyhow::anyhow!("linking WASI {what}: {e}");

    let mut clocks = linker.instance("wasi:clocks/monotonic-clock@0.2.12").map_err(|e| err("clocks", e))?;
    clocks
        .func_wrap("subscribe-duration", |mut cx: StoreContextMut<'_, HostState>, (_d,): (u64,)| {
            let table = cx.data_mut().ctx().table;
            let r = table.push(ReadyNow)?;
            Ok((wasmtime_wasi::p2::subscribe(table, r)?,))
        })
        .map_err(|e| err("subscribe-duration", e))?;
    clocks
        .func_wrap("subscribe-instant", |mut cx: StoreContextMut<'_, HostState>, (_t,): (u64,)| {
            let table = cx.data_mut().ctx().table;
            let r = table.push(ReadyNow)?;
            Ok((wasmtime_wasi::p2::subscribe(table, r)?,))
        })
        .map_err(|e| err("subscribe-instant", e))?;

    let mut poll = linker.instance("wasi:io/poll@0.2.12").map_err(|e| err("poll", e))?;
    poll.func_wrap("poll", |mut cx: StoreContextMut<'_, HostState>, (list,): (Vec<Resource<DynPollable>>,)| {
        let limit = cx.data().wait_limit;
        let table = cx.data_mut().ctx().table;
        Ok((bounded(limit, table.poll(list))??,))
    })
    .map_err(|e| err("poll", e))?;
    poll.func_wrap("[method]pollable.block", |mut cx: StoreContextMut<'_, HostState>, (p,): (Resource<DynPollable>,)| {
        let limit = cx.data().wait_limit;
        let table = cx.data_mut().ctx().table;
        bounded(limit, table.block(p))??;
        Ok(())
    })
    .map_err(|e| err("block", e))?;

    let mut streams = linker.instance("wasi:io/streams@0.2.12").map_err(|e| err("streams", e))?;
    streams
        .func_wrap(
            "[method]input-stream.read",
            |mut cx: StoreContextMut<'_, HostState>, (s, len): (Resource<DynInputStream>, u64)| {
                let table = cx.data_mut().ctx().table;
                let r = wasmtime_wasi_io::bindings::wasi::io::streams::HostInputStream::read(table, s, len);
                if let Ok(b) = &r {
                    charge_bytes(&mut cx, b.len() as u64);
                }
                finish_stream(&mut cx, r)
            },
        )
        .map_err(|e| err("read", e))?;
    streams
        .func_wrap(
            "[method]input-stream.blocking-read",
            |mut cx: StoreContextMut<'_, HostState>, (s, len): (Resource<DynInputStream>, u64)| {
                let limit = cx.data().wait_limit;
                let table = cx.data_mut().ctx().table;
                let r = bounded(limit, table.blocking_read(s, len))?;
                if let Ok(b) = &r {
                    charge_bytes(&mut cx, b.len() as u64);
                }
                finish_stream(&mut cx, r)
            },
        )
        .map_err(|e| err("blocking-read", e))?;
    streams
        .func_wrap(
            "[method]input-stream.skip",
            |mut cx: StoreContextMut<'_, HostState>, (s, len): (Resource<DynInputStream>, u64)| {
                let table = cx.data_mut().ctx().table;
                let r = table.skip(s, len);
                if let Ok(n) = &r {
                    charge_bytes(&mut cx, *n);
                }
                finish_stream(&mut cx, r)
            },
        )
        .map_err(|e| err("skip", e))?;
    streams
        .func_wrap(
            "[method]input-stream.blocking-skip",
            |mut cx: StoreContextMut<'_, HostState>, (s, len): (Resource<DynInputStream>, u64)| {
                let limit = cx.data().wait_limit;
                let table = cx.data_mut().ctx().table;
                let r = bounded(limit, table.blocking_skip(s, len))?;
                if let Ok(n) = &r {
                    charge_bytes(&mut cx, *n);
                }
                finish_stream(&mut cx, r)
            },
        )
        .map_err(|e| err("blocking-skip", e))?;
    streams
        .func_wrap(
            "[method]output-stream.write",
            |mut cx: StoreContextMut<'_, HostState>, (s, bytes): (Resource<DynOutputStream>, Vec<u8>)| {
                charge_bytes(&mut cx, bytes.len() as u64);
                let table = cx.data_mut().ctx().table;
                let r = wasmtime_wasi_io::bindings::wasi::io::streams::HostOutputStream::write(table, s, bytes);
                finish_stream(&mut cx, r)
            },
        )
        .map_err(|e| err("write", e))?;
    streams
        .func_wrap(
            "[method]output-stream.blocking-write-and-flush",
            |mut cx: StoreContextMut<'_, HostState>, (s, bytes): (Resource<DynOutputStream>, Vec<u8>)| {
                charge_bytes(&mut cx, bytes.len() as u64);
                let limit = cx.data().wait_limit;
                let table = cx.data_mut().ctx().table;
                let r = bounded(limit, table.blocking_write_and_flush(s, bytes))?;
                finish_stream(&mut cx, r)
            },
        )
        .map_err(|e| err("blocking-write-and-flush", e))?;
    streams
        .func_wrap(
            "[method]output-stream.blocking-flush",
            |mut cx: StoreContextMut<'_, HostState>, (s,): (Resource<DynOutputStream>,)| {
                let limit = cx.data().wait_limit;
                let table = cx.data_mut().ctx().table;
                let r = bounded(limit, table.blocking_flush(s))?;
                finish_stream(&mut cx, r)
            },
        )
        .map_err(|e| err("blocking-flush", e))?;
    streams
        .func_wrap(
            "[method]output-stream.write-zeroes",
            |mut cx: StoreContextMut<'_, HostState>, (s, len): (Resource<DynOutputStream>, u64)| {
                // The host builds the zeroes before it checks the stream's permit.
                prepay(&mut cx, len.saturating_mul(crate::HOST_BYTE_FUEL))?;
                let table = cx.data_mut().ctx().table;
                let r = table.write_zeroes(s, len);
                finish_stream(&mut cx, r)
            },
        )
        .map_err(|e| err("write-zeroes", e))?;
    streams
        .func_wrap(
            "[method]output-stream.blocking-write-zeroes-and-flush",
            |mut cx: StoreContextMut<'_, HostState>, (s, len): (Resource<DynOutputStream>, u64)| {
                prepay(&mut cx, len.saturating_mul(crate::HOST_BYTE_FUEL))?;
                let limit = cx.data().wait_limit;
                let table = cx.data_mut().ctx().table;
                let r = bounded(limit, table.blocking_write_zeroes_and_flush(s, len))?;
                finish_stream(&mut cx, r)
            },
        )
        .map_err(|e| err("blocking-write-zeroes-and-flush", e))?;
    streams
        .func_wrap(
            "[method]output-stream.splice",
            |mut cx: StoreContextMut<'_, HostState>, (s, from, len): (Resource<DynOutputStream>, Resource<DynInputStream>, u64)| {
                let table = cx.data_mut().ctx().table;
                let r = table.splice(s, from, len);
                if let Ok(n) = &r {
                    charge_bytes(&mut cx, *n);
                }
                finish_stream(&mut cx, r)
            },
        )
        .map_err(|e| err("splice", e))?;
    streams
        .func_wrap(
            "[method]output-stream.blocking-splice",
            |mut cx: StoreContextMut<'_, HostState>, (s, from, len): (Resource<DynOutputStream>, Resource<DynInputStream>, u64)| {
                let limit = cx.data().wait_limit;
                let table = cx.data_mut().ctx().table;
                let r = bounded(limit, table.blocking_splice(s, from, len))?;
                if let Ok(n) = &r {
                    charge_bytes(&mut cx, *n);
                }
                finish_stream(&mut cx, r)
            },
        )
        .map_err(|e| err("blocking-splice", e))?;

    let mut random = linker.instance("wasi:random/random@0.2.12").map_err(|e| err("random", e))?;
    random
        .func_wrap("get-random-bytes", |mut cx: StoreContextMut<'_, HostState>, (len,): (u64,)| {
            prepay(&mut cx, len.saturating_mul(RANDOM_BYTE_FUEL))?;
            Ok((wasi_random::Host::get_random_bytes(cx.data_mut().ctx().ctx.random(), len)?,))
        })
        .map_err(|e| err("get-random-bytes", e))?;
    let mut insecure = linker.instance("wasi:random/insecure@0.2.12").map_err(|e| err("insecure random", e))?;
    insecure
        .func_wrap("get-insecure-random-bytes", |mut cx: StoreContextMut<'_, HostState>, (len,): (u64,)| {
            prepay(&mut cx, len.saturating_mul(crate::HOST_BYTE_FUEL))?;
            Ok((wasi_insecure::Host::get_insecure_random_bytes(cx.data_mut().ctx().ctx.random(), len)?,))
        })
        .map_err(|e| err("get-insecure-random-bytes", e))?;

    let mut fs = linker.instance("wasi:filesystem/types@0.2.12").map_err(|e| err("filesystem", e))?;
    fs.func_wrap(
        "[method]descriptor.read",
        |mut cx: StoreContextMut<'_, HostState>, (fd, len, offset): (Resource<wasi_fs::Descriptor>, u64, u64)| {
            let limit = cx.data().wait_limit;
            let r = {
                let mut view = wasmtime_wasi::filesystem::WasiFilesystemView::filesystem(cx.data_mut());
                bounded(limit, async_fs::HostDescriptor::read(&mut view, fd, len, offset))?
            };
            let out: Result<(Vec<u8>, bool), wasi_fs::ErrorCode> = match r {
                Ok((bytes, end)) => {
                    charge_bytes(&mut cx, bytes.len() as u64);
                    Ok((bytes, end))
                }
                Err(e) => Err(e.downcast()?.into()),
            };
            Ok((out,))
        },
    )
    .map_err(|e| err("descriptor read", e))?;
    fs.func_wrap(
        "[method]descriptor.write",
        |mut cx: StoreContextMut<'_, HostState>, (fd, bytes, offset): (Resource<wasi_fs::Descriptor>, Vec<u8>, u64)| {
            charge_bytes(&mut cx, bytes.len() as u64);
            let limit = cx.data().wait_limit;
            let mut view = wasmtime_wasi::filesystem::WasiFilesystemView::filesystem(cx.data_mut());
            match bounded(limit, async_fs::HostDescriptor::write(&mut view, fd, bytes, offset))? {
                Ok(n) => Ok((Ok::<u64, wasi_fs::ErrorCode>(n),)),
                Err(e) => Ok((Err(e.downcast()?.into()),)),
            }
        },
    )
    .map_err(|e| err("descriptor write", e))?;
    Ok(())
}

/// Why `open-at` must not open `path`: it names something other than a regular
/// file, a folder or a symbolic link (a FIFO, whose opening blocks until a writer
/// comes, a device or a socket). A path that does not exist yet may be created.
/// Another process that swaps a FIFO in between this check and the open can still
/// make the open wait: the granted folder must not be writable by others.
pub(crate) fn refuse_special(
    view: &mut wasmtime_wasi::filesystem::WasiFilesystemCtxView<'_>,
    fd: &Resource<wasi_fs::Descriptor>,
    path_flags: wasi_fs::PathFlags,
    path: &str,
) -> Option<wasi_fs::ErrorCode> {
    let dup = Resource::new_borrow(fd.rep());
    let stat = wasi_fs::HostDescriptor::stat_at(view, dup, path_flags, path.to_string()).ok()?;
    match stat.type_ {
        wasi_fs::DescriptorType::RegularFile | wasi_fs::DescriptorType::Directory | wasi_fs::DescriptorType::SymbolicLink => None,
        other => {
            tracing::debug!(path, kind = ?other, "open-at refused: not a regular file or folder");
            Some(wasi_fs::ErrorCode::Access)
        }
    }
}
