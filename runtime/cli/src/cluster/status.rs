//! `weir cluster status FILE`: which nodes of a cluster file are up, from
//! the heartbeats on the cluster's control subject. It only listens, so the
//! nodes see no peer come and go.

use super::config::{Cluster, Node, Role};
use super::transport;
use futures_util::StreamExt;
use std::collections::BTreeSet;
use std::path::Path;
use std::process::ExitCode;

/// Prints one line per node: name, role, host, up or down; the exit status
/// is 0 when every node is up, 1 otherwise.
pub fn status(file: &Path) -> anyhow::Result<ExitCode> {
    let cluster = Cluster::load(file)?;
    let me = Node { name: format!("status-{}", std::process::id()), role: Role::Manager, host: "localhost".into(), interface: None };
    let listen = cluster.heartbeat() * cluster.missed_heartbeats;
    let heard = transport::runtime()?.block_on(async {
        let client = transport::connect(&cluster, &me).await?;
        let mut sub = client.subscribe(cluster.subject("control")).await?;
        let mut heard = BTreeSet::new();
        let deadline = tokio::time::sleep(listen);
        tokio::pin!(deadline);
        loop {
            tokio::select! {
                _ = &mut deadline => break,
                Some(m) = sub.next() => {
                    if let Ok(v) = serde_json::from_slice::<serde_json::Value>(&m.payload) {
                        let live = matches!(v["kind"].as_str(), Some("heartbeat" | "hello"));
                        if let (true, Some(n)) = (live, v["node"].as_str()) {
                            heard.insert(n.to_string());
                        }
                    }
                }
            }
        }
        anyhow::Ok(heard)
    })?;
    let mut all_up = true;
    for n in &cluster.nodes {
        let up = heard.contains(&n.name);
        all_up &= up;
        println!("{}\t{}\t{}\t{}", n.name, n.role.name(), n.host, if up { "up" } else { "down" });
    }
    Ok(if all_up { ExitCode::SUCCESS } else { ExitCode::FAILURE })
}
