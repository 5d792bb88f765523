//! Log records across the cluster: a worker's writers render each row as
//! one weir does and hand it to a [`Publisher`], which puts it on the
//! cluster's JetStream stream; loggers take the rows from a durable consumer
//! they share ([`run_logger`]) and write them into the same files one weir
//! writes. A row is acknowledged once it is in its file, so rows published
//! while no logger runs wait in the stream.
//!
//! A record is one NATS message: the row as the payload, with its stream
//! (`Weir-Path`), format (`Weir-Format`) and columns (`Weir-Columns`,
//! `name:type,…`) in headers, and a message id the stream drops duplicates by.

use super::config::{Cluster, Node};
use super::transport;
use anyhow::Context;
use async_nats::jetstream;
use futures_util::StreamExt;
use std::collections::{HashMap, VecDeque};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use weir_logs::{Column, LogFormat, LogWriter, RecordSink, WriterOptions};

/// Records waiting for the publisher before a worker's writers wait.
const QUEUE: usize = 16 * 1024;
/// Records published and not yet acknowledged by the server.
const IN_FLIGHT: usize = 512;
/// How long one record is tried again (lost server, lost acknowledgement)
/// before it is counted lost.
const RETRY_FOR: Duration = Duration::from_secs(60);
/// Most records a logger takes at once.
const BATCH: usize = 1000;

/// One rendered row on its way to the publisher.
struct Record {
    path: String,
    format: LogFormat,
    columns: String,
    line: String,
}

/// The header value of a row's columns: `name:type,…`.
fn columns_header(columns: &[Column]) -> String {
    let mut s = String::new();
    for (i, c) in columns.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(&c.name);
        s.push(':');
        s.push_str(weir_logs::zeek_type_name(c.type_));
    }
    s
}

/// The columns of a `Weir-Columns` header.
fn parse_columns(header: &str) -> Result<Vec<Column>, String> {
    header
        .split(',')
        .map(|c| {
            let (name, ty) = c.split_once(':').ok_or_else(|| format!("column {c:?} has no type"))?;
            let type_ = weir_logs::zeek_type_from_name(ty).ok_or_else(|| format!("column {name}: unknown type {ty}"))?;
            Ok(Column { name: name.to_string(), type_ })
        })
        .collect()
}

fn format_name(f: LogFormat) -> &'static str {
    match f {
        LogFormat::Tsv => "tsv",
        LogFormat::Json => "json",
    }
}

/// What a worker's publisher did.
#[derive(Debug, Default, Clone, Copy)]
pub struct Published {
    /// Records the stream acknowledged.
    pub records: u64,
    /// Records given up on after [`RETRY_FOR`].
    pub lost: u64,
}

/// A worker's link to the loggers: the sandbox's writers hand it every row
/// ([`RecordSink`]); its thread publishes them to JetStream and waits for
/// the stream's acknowledgements.
pub struct Publisher {
    tx: Mutex<Option<tokio::sync::mpsc::Sender<Record>>>,
    /// Starts the node's peers layer with the events its handlers take.
    topics: Mutex<Option<tokio::sync::oneshot::Sender<Vec<String>>>>,
    thread: Mutex<Option<std::thread::JoinHandle<Published>>>,
}

impl RecordSink for Publisher {
    fn record(&self, path: &str, columns: &[Column], format: LogFormat, line: &str) {
        let tx = self.tx.lock().expect("publisher").clone();
        let Some(tx) = tx else {
            tracing::warn!("log {path}: a row after the cluster link closed is dropped");
            return;
        };
        let rec = Record { path: path.to_string(), format, columns: columns_header(columns), line: line.to_string() };
        if tx.blocking_send(rec).is_err() {
            tracing::warn!("log {path}: the cluster link is gone, a row is dropped");
        }
    }
}

impl Publisher {
    /// Connects worker `node` and starts publishing; fails (one line) when
    /// the server cannot be reached or has no JetStream.
    pub fn start(cluster: &Cluster, node: &Node) -> anyhow::Result<Arc<Publisher>> {
        let (tx, rx) = tokio::sync::mpsc::channel(QUEUE);
        let (topics_tx, topics_rx) = tokio::sync::oneshot::channel::<Vec<String>>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        let (cluster, node) = (cluster.clone(), node.clone());
        let thread = std::thread::Builder::new()
            .name("weir-cluster-logs".into())
            .spawn(move || {
                let rt = match transport::runtime() {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(e));
                        return Published::default();
                    }
                };
                rt.block_on(async move {
                    let setup = async {
                        let client = transport::connect(&cluster, &node).await?;
                        let js = jetstream::new(client.clone());
                        transport::log_stream(&js, &cluster).await?;
                        anyhow::Ok((client, js))
                    };
                    match setup.await {
                        Ok((client, js)) => {
                            let _ = ready_tx.send(Ok(()));
                            let (bye_tx, bye_rx) = tokio::sync::oneshot::channel();
                            let (c, n, cl) = (cluster.clone(), node.clone(), client.clone());
                            let peers = tokio::spawn(async move {
                                if let Ok(topics) = topics_rx.await {
                                    super::peers::run(cl, c, n, topics, None, bye_rx).await;
                                }
                            });
                            let done = publish_all(&js, &cluster, &node, rx).await;
                            let _ = bye_tx.send(());
                            let _ = peers.await;
                            let _ = client.flush().await;
                            done
                        }
                        Err(e) => {
                            let _ = ready_tx.send(Err(e));
                            Published::default()
                        }
                    }
                })
            })
            .context("starting the cluster thread")?;
        match ready_rx.recv() {
            Ok(Ok(())) => Ok(Arc::new(Publisher {
                tx: Mutex::new(Some(tx)),
                topics: Mutex::new(Some(topics_tx)),
                thread: Mutex::new(Some(thread)),
            })),
            Ok(Err(e)) => Err(e),
            Err(_) => anyhow::bail!("the cluster thread stopped while connecting"),
        }
    }

    /// Says hello to the cluster's other nodes, with the events this worker's
    /// handlers take; from then on it sends heartbeats, and a goodbye at [`Publisher::finish`].
    pub fn announce(&self, topics: Vec<String>) {
        if let Some(t) = self.topics.lock().expect("publisher").take() {
            let _ = t.send(topics);
        }
    }

    /// No more rows: waits until every record is acknowledged by the stream
    /// (or given up on), and tells what was published.
    pub fn finish(&self) -> Published {
        drop(self.tx.lock().expect("publisher").take());
        let thread = self.thread.lock().expect("publisher").take();
        thread.map_or_else(Published::default, |t| t.join().unwrap_or_default())
    }
}

/// One record in flight: what to publish again if its acknowledgement does not come.
struct InFlight {
    id: String,
    rec: Record,
    ack: Option<jetstream::context::PublishAckFuture>,
    since: Instant,
}

async fn send(js: &jetstream::Context, subject: &str, id: &str, rec: &Record) -> Result<jetstream::context::PublishAckFuture, String> {
    let msg = jetstream::message::PublishMessage::build()
        .payload(rec.line.clone().into())
        .header("Weir-Path", rec.path.as_str())
        .header("Weir-Format", format_name(rec.format))
        .header("Weir-Columns", rec.columns.as_str())
        .message_id(id);
    js.send_publish(subject.to_string(), msg).await.map_err(|e| e.to_string())
}

/// Waits for `f`'s acknowledgement, publishing it again (same id) until it
/// comes or [`RETRY_FOR`] has passed. True when acknowledged.
async fn settle(js: &jetstream::Context, subject: &str, mut f: InFlight) -> bool {
    loop {
        let result = match f.ack.take() {
            Some(ack) => ack.await.map(drop).map_err(|e| e.to_string()),
            None => Err("not sent".to_string()),
        };
        match result {
            Ok(()) => return true,
            Err(e) if f.since.elapsed() >= RETRY_FOR => {
                tracing::error!("log {}: a record is lost after {}s of retries: {e}", f.rec.path, RETRY_FOR.as_secs());
                return false;
            }
            Err(e) => {
                tracing::debug!("log {}: publishing again: {e}", f.rec.path);
                tokio::time::sleep(Duration::from_millis(250)).await;
                f.ack = send(js, subject, &f.id, &f.rec).await.ok();
            }
        }
    }
}

async fn publish_all(js: &jetstream::Context, cluster: &Cluster, node: &Node, mut rx: tokio::sync::mpsc::Receiver<Record>) -> Published {
    let subject = cluster.subject(&format!("logs.{}", node.name));
    // Ids unique across restarts of the node within the duplicate window.
    let run = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    let mut done = Published::default();
    let mut inflight: VecDeque<InFlight> = VecDeque::new();
    let mut seq = 0u64;
    while let Some(rec) = rx.recv().await {
        seq += 1;
        let id = format!("{}.{run}.{seq}", node.name);
        let ack = send(js, &subject, &id, &rec).await.ok();
        inflight.push_back(InFlight { id, rec, ack, since: Instant::now() });
        while inflight.len() >= IN_FLIGHT {
            let f = inflight.pop_front().expect("in flight");
            if settle(js, &subject, f).await { done.records += 1 } else { done.lost += 1 }
        }
    }
    while let Some(f) = inflight.pop_front() {
        if settle(js, &subject, f).await { done.records += 1 } else { done.lost += 1 }
    }
    done
}

/// What a logger wrote.
#[derive(Debug, Default, Clone, Copy)]
pub struct Written {
    /// Rows written.
    pub records: u64,
    /// Records refused (bad headers, another stream's columns).
    pub refused: u64,
}

/// The files a logger writes, one per stream, opened at its first row.
struct Files<'a> {
    dir: &'a Path,
    options: &'a WriterOptions,
    writers: HashMap<String, LogWriter>,
    written: Written,
}

impl Files<'_> {
    fn write(&mut self, msg: &async_nats::Message) -> Result<(), String> {
        let headers = msg.headers.as_ref().ok_or("a record without headers")?;
        let get = |name: &str| headers.get(name).map(|v| v.as_str().to_string()).ok_or(format!("a record without {name}"));
        let path = get("Weir-Path")?;
        let format = match get("Weir-Format")?.as_str() {
            "tsv" => LogFormat::Tsv,
            "json" => LogFormat::Json,
            f => return Err(format!("log {path}: unknown format {f}")),
        };
        let columns = parse_columns(&get("Weir-Columns")?).map_err(|e| format!("log {path}: {e}"))?;
        let line = std::str::from_utf8(&msg.payload).map_err(|_| format!("log {path}: a row that is not UTF-8"))?;
        let w = match self.writers.entry(path.clone()) {
            std::collections::hash_map::Entry::Occupied(o) => o.into_mut(),
            std::collections::hash_map::Entry::Vacant(v) => {
                let w = LogWriter::create_with(self.dir, &path, columns.clone(), format, self.options).map_err(|e| format!("log {path}: {e}"))?;
                tracing::info!("writing {}", w.file().display());
                v.insert(w)
            }
        };
        if w.columns() != columns.as_slice() || w.format() != format {
            return Err(format!("log {path}: a record with other columns or format than the file's"));
        }
        w.write_rendered(line)
    }

    fn flush(&mut self) {
        for w in self.writers.values_mut() {
            if let Err(e) = w.flush() {
                tracing::error!("writing {}: {e}", w.file().display());
            }
        }
    }
}

/// Logger `node`: writes the workers' rows into `dir` until `stop`, then
/// takes what the stream still holds, closes the files and returns.
pub fn run_logger(cluster: &Cluster, node: &Node, dir: &Path, options: &WriterOptions, stop: &AtomicBool) -> anyhow::Result<Written> {
    let rt = transport::runtime()?;
    rt.block_on(async {
        let client = transport::connect(cluster, node).await?;
        let js = jetstream::new(client.clone());
        let stream = transport::log_stream(&js, cluster).await?;
        let consumer: jetstream::consumer::PullConsumer = stream
            .get_or_create_consumer(
                "loggers",
                jetstream::consumer::pull::Config {
                    durable_name: Some("loggers".to_string()),
                    ack_policy: jetstream::consumer::AckPolicy::Explicit,
                    ack_wait: Duration::from_secs(30),
                    max_ack_pending: 20_000,
                    ..Default::default()
                },
            )
            .await
            .context("the loggers' JetStream consumer")?;
        tracing::info!("logger {} of cluster {}: taking records from {}", node.name, cluster.name, cluster.log_stream());
        let (bye_tx, bye_rx) = tokio::sync::oneshot::channel();
        let peers = tokio::spawn(super::peers::run(client.clone(), cluster.clone(), node.clone(), Vec::new(), None, bye_rx));
        let mut files = Files { dir, options, writers: HashMap::new(), written: Written::default() };
        loop {
            let draining = stop.load(Ordering::Relaxed);
            let wait = if draining { Duration::from_millis(300) } else { Duration::from_secs(1) };
            let mut batch = match consumer.batch().max_messages(BATCH).expires(wait).messages().await {
                Ok(b) => b,
                Err(e) if draining => {
                    tracing::error!("taking the last log records: {e}");
                    break;
                }
                Err(e) => {
                    tracing::warn!("taking log records: {e}");
                    tokio::time::sleep(Duration::from_millis(500)).await;
                    continue;
                }
            };
            let mut taken = Vec::new();
            while let Some(m) = batch.next().await {
                match m {
                    Ok(m) => {
                        match files.write(&m) {
                            Ok(()) => files.written.records += 1,
                            Err(e) => {
                                files.written.refused += 1;
                                tracing::warn!("{e}");
                            }
                        }
                        taken.push(m);
                    }
                    Err(e) => tracing::debug!("log records: {e}"),
                }
            }
            // Written first, acknowledged after: a logger killed in between
            // writes those rows again when it comes back, never loses them.
            files.flush();
            for m in &taken {
                if let Err(e) = m.ack().await {
                    tracing::warn!("acknowledging a log record: {e}");
                }
            }
            if draining && taken.is_empty() {
                break;
            }
        }
        let _ = bye_tx.send(());
        let _ = peers.await;
        client.flush().await.context("sending the last acknowledgements")?;
        let written = files.written;
        for (_, w) in files.writers.drain() {
            let file = w.file().display().to_string();
            w.close().with_context(|| format!("closing {file}"))?;
        }
        Ok(written)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use weir_logs::LogType;

    #[test]
    fn columns_round_trip() {
        let cols = vec![
            Column { name: "ts".into(), type_: LogType::Time },
            Column { name: "id.orig_h".into(), type_: LogType::Addr },
            Column { name: "tunnel_parents".into(), type_: LogType::SetOfString },
        ];
        let h = columns_header(&cols);
        assert_eq!(h, "ts:time,id.orig_h:addr,tunnel_parents:set[string]");
        assert_eq!(parse_columns(&h).unwrap(), cols);
        assert!(parse_columns("ts:clock").unwrap_err().contains("unknown type clock"));
        assert!(parse_columns("ts").unwrap_err().contains("no type"));
    }
}
