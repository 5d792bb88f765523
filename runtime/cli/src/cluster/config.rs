//! The cluster file: one TOML file naming the cluster, its NATS server and
//! credentials, and its nodes (manager, loggers, workers), so that the same
//! file serves every machine a node runs on.

use anyhow::{bail, Context};
use serde::Deserialize;
use std::path::{Path, PathBuf};

/// What a node does in the cluster.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Sees the whole site: the peers' hellos and their events.
    Manager,
    /// Writes the logs the workers' records make.
    Logger,
    /// Captures and analyses; its log records go to the loggers.
    Worker,
}

impl Role {
    /// The role's name in the file.
    pub fn name(self) -> &'static str {
        match self {
            Role::Manager => "manager",
            Role::Logger => "logger",
            Role::Worker => "worker",
        }
    }
}

/// One node of the cluster file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Node {
    /// Its name (`worker-1`): letters, digits, '-' and '_'.
    pub name: String,
    /// What it does.
    pub role: Role,
    /// The machine it runs on (`weir cluster start` runs the local ones).
    #[serde(default = "localhost")]
    pub host: String,
    /// A worker's capture interface, unless `-i` or `-r` is given.
    pub interface: Option<String>,
}

fn default_heartbeat() -> f64 {
    1.0
}

fn default_missed() -> u32 {
    3
}

fn default_ping() -> f64 {
    10.0
}

fn localhost() -> String {
    "localhost".to_string()
}

/// The cluster file.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Cluster {
    /// The cluster's name: every subject is `weir.<name>.…`, and the JetStream
    /// stream `WEIR_<name>_LOGS`.
    pub name: String,
    /// The NATS server URL (`nats://host:4222`; `tls://` for TLS), or several
    /// separated by commas.
    pub nats: String,
    /// NATS user (with `password`).
    pub user: Option<String>,
    /// NATS password of `user`.
    pub password: Option<String>,
    /// A NATS credentials file (JWT and nkey seed), relative to the cluster file.
    pub credentials: Option<PathBuf>,
    /// A file holding an nkey seed (`SU…`), relative to the cluster file.
    pub nkey: Option<PathBuf>,
    /// A PEM file of the CA that signs the server's certificate: TLS is then required.
    pub tls_ca: Option<PathBuf>,
    /// Each worker keeps only its share of the packets it reads (the
    /// address-pair hash modulo the number of workers, by their order in this
    /// file), for workers that all see the same tap or trace.
    #[serde(default)]
    pub split: bool,
    /// Seconds between a node's heartbeats.
    #[serde(default = "default_heartbeat")]
    pub heartbeat_secs: f64,
    /// Heartbeats a peer may miss before it counts as gone.
    #[serde(default = "default_missed")]
    pub missed_heartbeats: u32,
    /// Seconds between the manager's pings of its peers (0: none).
    #[serde(default = "default_ping")]
    pub ping_secs: f64,
    /// The nodes.
    #[serde(rename = "node", default)]
    pub nodes: Vec<Node>,
}

/// Letters, digits, '-' and '_': safe in a NATS subject token and a stream name.
fn check_name(what: &str, name: &str) -> anyhow::Result<()> {
    if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        bail!("{what} {name:?}: use ASCII letters, digits, '-' and '_' only");
    }
    Ok(())
}

impl Cluster {
    /// Reads and checks the cluster file; relative paths in it are taken from its folder.
    pub fn load(file: &Path) -> anyhow::Result<Cluster> {
        let text = std::fs::read_to_string(file).with_context(|| format!("cannot read cluster file {}", file.display()))?;
        Self::parse(&text, file.parent().unwrap_or(Path::new("."))).with_context(|| format!("cluster file {}", file.display()))
    }

    /// Parses and checks a cluster file's text; `base` is its folder.
    pub fn parse(text: &str, base: &Path) -> anyhow::Result<Cluster> {
        let mut c: Cluster = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |s| text[..s.start.min(text.len())].matches('\n').count() + 1);
            anyhow::anyhow!("line {line}: {}", e.message().trim())
        })?;
        check_name("cluster name", &c.name)?;
        if c.nats.trim().is_empty() {
            bail!("nats: no server URL");
        }
        if !(c.heartbeat_secs.is_finite() && c.heartbeat_secs >= 0.01) {
            bail!("heartbeat_secs: at least 0.01");
        }
        if c.missed_heartbeats == 0 {
            bail!("missed_heartbeats: at least 1");
        }
        if !(c.ping_secs.is_finite() && c.ping_secs >= 0.0) {
            bail!("ping_secs: 0 or more");
        }
        if c.user.is_some() != c.password.is_some() {
            bail!("user and password go together");
        }
        let auths = [c.user.is_some(), c.credentials.is_some(), c.nkey.is_some()].iter().filter(|b| **b).count();
        if auths > 1 {
            bail!("give one of user/password, credentials and nkey");
        }
        for p in [&mut c.credentials, &mut c.nkey, &mut c.tls_ca].into_iter().flatten() {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        let mut seen = std::collections::HashSet::new();
        for n in &c.nodes {
            check_name("node name", &n.name)?;
            if !seen.insert(n.name.as_str()) {
                bail!("node {} is named twice", n.name);
            }
            if n.interface.is_some() && n.role != Role::Worker {
                bail!("node {}: only a worker has an interface", n.name);
            }
        }
        Ok(c)
    }

    /// The node named `name`.
    pub fn node(&self, name: &str) -> anyhow::Result<&Node> {
        self.nodes.iter().find(|n| n.name == name).with_context(|| {
            let names: Vec<&str> = self.nodes.iter().map(|n| n.name.as_str()).collect();
            format!("no node {name} in cluster {} (its nodes: {})", self.name, names.join(", "))
        })
    }

    /// The workers, in the file's order.
    pub fn workers(&self) -> impl Iterator<Item = &Node> {
        self.nodes.iter().filter(|n| n.role == Role::Worker)
    }

    /// Worker `name`'s share `(i, n)` of the packets when the file splits them.
    pub fn share(&self, name: &str) -> Option<(u64, u64)> {
        if !self.split {
            return None;
        }
        let i = self.workers().position(|n| n.name == name)?;
        Some((i as u64, self.workers().count() as u64))
    }

    /// The subject prefix of everything this cluster sends: `weir.<name>`.
    pub fn subject(&self, rest: &str) -> String {
        format!("weir.{}.{rest}", self.name)
    }

    /// Time between heartbeats.
    pub fn heartbeat(&self) -> std::time::Duration {
        std::time::Duration::from_secs_f64(self.heartbeat_secs)
    }

    /// Time between the manager's pings, if it pings.
    pub fn ping(&self) -> Option<std::time::Duration> {
        (self.ping_secs > 0.0).then(|| std::time::Duration::from_secs_f64(self.ping_secs))
    }

    /// The JetStream stream the log records go through.
    pub fn log_stream(&self) -> String {
        format!("WEIR_{}_LOGS", self.name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const FILE: &str = r#"
name = "site"
nats = "nats://127.0.0.1:4222"
split = true
[[node]]
name = "manager"
role = "manager"
[[node]]
name = "logger-1"
role = "logger"
[[node]]
name = "worker-1"
role = "worker"
interface = "eth0"
[[node]]
name = "worker-2"
role = "worker"
host = "tap2"
"#;

    #[test]
    fn parses_nodes_and_shares() {
        let c = Cluster::parse(FILE, Path::new("/etc/weir")).unwrap();
        assert_eq!(c.node("worker-2").unwrap().host, "tap2");
        assert_eq!(c.node("manager").unwrap().host, "localhost");
        assert_eq!(c.share("worker-1"), Some((0, 2)));
        assert_eq!(c.share("worker-2"), Some((1, 2)));
        assert_eq!(c.share("logger-1"), None);
        assert_eq!(c.subject("logs.worker-1"), "weir.site.logs.worker-1");
        assert!(c.node("worker-3").unwrap_err().to_string().contains("its nodes: manager, logger-1, worker-1, worker-2"));
    }

    #[test]
    fn refuses_bad_files() {
        let bad = |text: &str| Cluster::parse(text, Path::new(".")).unwrap_err().to_string();
        assert!(bad("name = \"a.b\"\nnats = \"x\"").contains("cluster name \"a.b\""));
        assert!(bad("name = \"a\"\nnats = \"x\"\n[[node]]\nname = \"w\"\nrole = \"boss\"").starts_with("line 5"));
        assert!(bad("name = \"a\"\nnats = \"x\"\nuser = \"u\"").contains("user and password"));
        let twice = "name = \"a\"\nnats = \"x\"\n[[node]]\nname = \"w\"\nrole = \"worker\"\n[[node]]\nname = \"w\"\nrole = \"logger\"";
        assert!(bad(twice).contains("named twice"));
        let relative = Cluster::parse("name = \"a\"\nnats = \"x\"\ncredentials = \"n.creds\"", Path::new("/etc/weir")).unwrap();
        assert_eq!(relative.credentials.unwrap(), Path::new("/etc/weir/n.creds"));
    }
}
