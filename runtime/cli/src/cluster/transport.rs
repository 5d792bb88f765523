//! The node's link to NATS: connecting with the cluster file's credentials
//! and TLS, the tokio runtime async-nats runs on, and the JetStream stream
//! of log records.

use super::config::{Cluster, Node};
use anyhow::Context;
use async_nats::jetstream;
use std::time::Duration;

/// How long a node waits for the NATS server when it starts.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The single-threaded tokio runtime a node's NATS work runs on.
pub fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread().enable_all().build().context("cannot start the NATS runtime")
}

/// Connects node `node` to the cluster's NATS server, with the file's
/// credentials; later losses of the server are reconnected by the client.
pub async fn connect(cluster: &Cluster, node: &Node) -> anyhow::Result<async_nats::Client> {
    let mut opts = async_nats::ConnectOptions::new()
        .name(format!("weir {}/{} ({})", cluster.name, node.name, node.role.name()))
        .connection_timeout(CONNECT_TIMEOUT)
        .event_callback(|event| async move {
            match event {
                async_nats::Event::Connected => tracing::info!("NATS: connected"),
                async_nats::Event::Disconnected => tracing::warn!("NATS: lost the server, reconnecting"),
                e => tracing::info!("NATS: {e}"),
            }
        });
    if let (Some(user), Some(password)) = (&cluster.user, &cluster.password) {
        opts = opts.user_and_password(user.clone(), password.clone());
    }
    if let Some(creds) = &cluster.credentials {
        opts = opts.credentials_file(creds).await.with_context(|| format!("NATS credentials {}", creds.display()))?;
    }
    if let Some(nkey) = &cluster.nkey {
        let seed = std::fs::read_to_string(nkey).with_context(|| format!("cannot read nkey seed {}", nkey.display()))?;
        opts = opts.nkey(seed.trim().to_string());
    }
    if let Some(ca) = &cluster.tls_ca {
        opts = opts.add_root_certificates(ca.clone()).require_tls(true);
    }
    let servers = cluster
        .nats
        .split(',')
        .map(|s| s.trim().parse::<async_nats::ServerAddr>().with_context(|| format!("NATS URL {s:?}")))
        .collect::<anyhow::Result<Vec<_>>>()?;
    opts.connect(servers).await.with_context(|| format!("cannot connect to NATS at {}", cluster.nats))
}

/// The stream every log record goes through (created by the first node that
/// needs it): a work queue on `weir.<cluster>.logs.>`, kept on disk, so that
/// records wait for a logger that is down, and each is written by one logger.
pub async fn log_stream(js: &jetstream::Context, cluster: &Cluster) -> anyhow::Result<jetstream::stream::Stream> {
    js.get_or_create_stream(jetstream::stream::Config {
        name: cluster.log_stream(),
        subjects: vec![cluster.subject("logs.>")],
        retention: jetstream::stream::RetentionPolicy::WorkQueue,
        storage: jetstream::stream::StorageType::File,
        // A record published again after a lost acknowledgement is dropped
        // by its message id within this window.
        duplicate_window: Duration::from_secs(120),
        ..Default::default()
    })
    .await
    .with_context(|| format!("JetStream stream {} (is JetStream enabled on the server, -js?)", cluster.log_stream()))
}
