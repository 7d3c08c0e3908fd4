//! The configuration every node runs with, rendered as a `redis.conf`.
//!
//! The file is written afresh at every start from a [`NodeConfig`]: the
//! control-plane store is the source of truth, never the file. It holds the
//! access keys and the internal password, so it is created readable by its
//! owner only.

use std::fmt;
use std::fmt::Write as _;
use std::net::{Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};

use super::NodeError;
use crate::store::records::REDIS_PORT;

/// The ACL user the control plane and replication links authenticate as.
///
/// Applications use the `default` user, whose passwords are the cache's two
/// access keys; the internal user's password is the cache's own and never
/// changes with the keys, so regenerating a key never breaks replication.
pub const INTERNAL_USER: &str = "georep";

/// What an access key may run: everything an application needs, and none
/// of what Azure Cache for Redis disables for its users. `@admin` covers
/// CONFIG, REPLICAOF and SLAVEOF, FAILOVER, SHUTDOWN, DEBUG, SAVE, BGSAVE,
/// BGREWRITEAOF, SYNC, PSYNC, REPLCONF, MONITOR, MODULE, CLIENT KILL and
/// PAUSE, SLOWLOG and LATENCY; ACL (all but WHOAMI), MIGRATE and CLUSTER are
/// named on their own; ROLE, which clients use to find a primary, stays.
/// So a key can neither read the control plane's
/// credential (`CONFIG GET masterauth`) nor lock it out (`ACL SETUSER`).
pub const ACCESS_KEY_COMMANDS: &str =
    "+@all -@admin +role -acl +acl|whoami -migrate -cluster -debug -module -config";

/// The config file's name inside the node's directory.
pub const CONFIG_FILE: &str = "redis.conf";
/// Redis's own log, inside the node's directory.
pub const LOG_FILE: &str = "redis.log";
/// Where Redis writes its pid, inside the node's directory.
pub const PID_FILE: &str = "redis.pid";
/// Where the process's stderr goes (fatal config errors are printed there).
pub const STDERR_FILE: &str = "redis.stderr";
/// The node's unix socket, inside its directory: where the control plane
/// reaches it, whatever its ports, TLS and `bind` list say.
pub const SOCKET_FILE: &str = "redis.sock";

/// Everything needed to start one `redis-server` process.
///
/// `Debug` leaves the secrets out, so a config can be logged.
#[derive(Clone, PartialEq, Eq)]
pub struct NodeConfig {
    /// The node's own loopback address; it listens there, replicates from
    /// it and announces itself by it.
    pub addr: Ipv4Addr,
    /// Whether the plain port, 6379, listens (ARM's `enableNonSslPort`).
    /// Without TLS it always does: it is then the only way in.
    pub plain_port: bool,
    /// More addresses to listen on from the start: its cache's, and the
    /// geo-primary URLs', when this node is the one that serves them.
    pub extra_binds: Vec<Ipv4Addr>,
    /// The node's own directory: config, log and pid file live here.
    pub dir: PathBuf,
    /// The cache's primary and secondary access keys; both authenticate the `default` user.
    pub access_keys: [String; 2],
    /// The password of the [`INTERNAL_USER`]: the cache's own. The node also
    /// replicates with it, from its own cache's primary; pointing it at
    /// another cache sets `masterauth` at run time.
    pub internal_password: String,
    /// Start as a replica of this node (a cache's replica, or a geo-secondary's shard).
    pub replica_of: Option<SocketAddr>,
    /// Whether the node's cache has replicas (every tier but Basic), so that
    /// its nodes may fork to feed one, here or in a geo-secondary.
    pub replicated: bool,
    /// The TLS port's certificate, if the node offers one.
    pub tls: Option<NodeTls>,
}

/// What a node's TLS port, [`TLS_PORT`], presents and accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeTls {
    /// The node's certificate, issued by the server's local CA.
    pub cert_file: PathBuf,
    /// Its private key (owner-readable only).
    pub key_file: PathBuf,
    /// The local CA's certificate.
    pub ca_file: PathBuf,
    /// The lowest TLS version accepted, as ARM names it (`1.0`, `1.1`, `1.2`).
    pub minimum_version: String,
}

pub use crate::store::records::TLS_PORT;

/// How many times a second a node runs its housekeeping (Redis's `hz`).
///
/// A node of a cache with replicas keeps Redis's 10: a finished full sync's
/// fork is noticed, and the replica put online, only at that beat. A Basic
/// cache's node never forks (it saves in the foreground, and access keys
/// can't `BGSAVE`), so once a second is enough: at 10, each idle node's
/// refresh of its allocator's statistics made 1,100 idle nodes take 1.3 of
/// this machine's 2 cores, against 0.2 at 1. Keys still expire on access,
/// and a client-heavy node still beats faster (`dynamic-hz`, on by default).
pub fn housekeeping_hz(replicated: bool) -> u32 {
    if replicated {
        10
    } else {
        1
    }
}

/// Redis's `port` for a node whose plain port is `open`: 6379, or 0, which
/// listens on no plain port at all.
pub fn plain_port(open: bool) -> u16 {
    if open {
        REDIS_PORT
    } else {
        0
    }
}

/// The port a node replicates from, given whether nodes replicate over TLS
/// and the upstream's plain port: replication follows the nodes' transport.
pub fn replication_port(tls: bool, plain_port: u16) -> u16 {
    if tls {
        TLS_PORT
    } else {
        plain_port
    }
}

/// Redis's `tls-protocols` for a minimum TLS version as ARM names it
/// (`1.0`, `1.1`, `1.2`): it and every later one.
pub fn tls_protocols(minimum_version: &str) -> &'static str {
    match minimum_version {
        "1.0" => "TLSv1 TLSv1.1 TLSv1.2 TLSv1.3",
        "1.1" => "TLSv1.1 TLSv1.2 TLSv1.3",
        _ => "TLSv1.2 TLSv1.3",
    }
}

impl fmt::Debug for NodeConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NodeConfig")
            .field("addr", &self.addr)
            .field("plain_port", &self.plain_port)
            .field("extra_binds", &self.extra_binds)
            .field("dir", &self.dir)
            .field("access_keys", &"<redacted>")
            .field("internal_password", &"<redacted>")
            .field("replica_of", &self.replica_of)
            .field("replicated", &self.replicated)
            .field("tls", &self.tls)
            .finish()
    }
}

impl NodeConfig {
    /// The node's own address: how the data plane names it.
    pub fn socket(&self) -> SocketAddr {
        SocketAddr::from((self.addr, REDIS_PORT))
    }

    /// The path of the node's unix socket, where the control plane reaches it.
    pub fn socket_path(&self) -> PathBuf {
        self.dir.join(SOCKET_FILE)
    }

    /// Whether port 6379 listens: as asked, and always without TLS.
    fn listens_plain(&self) -> bool {
        self.plain_port || self.tls.is_none()
    }

    /// The path of the config file.
    pub fn config_path(&self) -> PathBuf {
        self.dir.join(CONFIG_FILE)
    }

    /// The path of Redis's log.
    pub fn log_path(&self) -> PathBuf {
        self.dir.join(LOG_FILE)
    }

    /// The config file's text.
    ///
    /// Fails when a secret could not be written into a config line safely, or
    /// when the directory's path is not UTF-8.
    pub fn render(&self) -> Result<String, NodeError> {
        check_secret("primary access key", &self.access_keys[0])?;
        check_secret("secondary access key", &self.access_keys[1])?;
        check_secret("internal password", &self.internal_password)?;
        let dir = quote_path(&self.dir)?;
        let file = |name: &str| quote_path(&self.dir.join(name));

        let mut conf = String::new();
        // `writeln!` into a String cannot fail.
        let mut line = |text: String| {
            let _ = writeln!(conf, "{text}");
        };
        line("# Written by georep-server at every start; edits are lost.".into());
        line("# It holds secrets: keep it readable by its owner only.".into());
        let binds: Vec<String> = std::iter::once(self.addr)
            .chain(self.extra_binds.iter().copied())
            .map(|a| a.to_string())
            .collect();
        line(format!("bind {}", binds.join(" ")));
        // Port 0 listens on no plain port at all: with `enableNonSslPort`
        // off, as Azure's default has it, only TLS clients get in.
        line(format!("port {}", plain_port(self.listens_plain())));
        // The control plane's own way in: a socket only this user can open,
        // which no port, TLS or `bind` setting a cache is given can close.
        line(format!("unixsocket {}", file(SOCKET_FILE)?));
        line("unixsocketperm 700".into());
        // Replicate from, and be known by, the node's own address, so that
        // `FAILOVER TO`, `INFO` and the metrics name nodes the same way.
        line(format!("bind-source-addr {}", self.addr));
        line(format!("replica-announce-ip {}", self.addr));
        line("protected-mode no".into());
        line("daemonize no".into());
        line(format!("hz {}", housekeeping_hz(self.replicated)));
        line(format!("dir {dir}"));
        line(format!("logfile {}", file(LOG_FILE)?));
        line(format!("pidfile {}", file(PID_FILE)?));
        // Persistence is off while geo-replicated (Azure's passive geo-replication guide's rule), and the
        // RDB files a full sync writes are removed once used.
        line("save \"\"".into());
        line("appendonly no".into());
        line("rdb-del-sync-files yes".into());
        // A secondary refuses writes, and refuses everything while its full
        // sync runs: that is the `MASTERDOWN` Azure's passive geo-replication guide describes.
        line("replica-read-only yes".into());
        line("replica-serve-stale-data no".into());
        // Stream the snapshot straight to the socket, at once. Redis does not
        // know the size of a streamed snapshot; the replication module
        // estimates it from the primary's snapshot progress.
        line("repl-diskless-sync yes".into());
        line("repl-diskless-sync-delay 0".into());
        // And load it straight from the socket: a secondary's old data is
        // being replaced anyway (Azure's passive geo-replication guide says
        // so), and `swapdb` keeps serving it from memory until the new data
        // is in, never from disk.
        line("repl-diskless-load swapdb".into());
        // A full sync's snapshot goes from socket to socket and is never
        // stored, so compressing it only costs the primary's fork CPU.
        line("rdbcompression no".into());
        // While it loads, it answers clients (`LOADING`, the error Azure's
        // guide says a syncing secondary gives) and the control plane every
        // 256 kB, not every 2 MB.
        line("loading-process-events-interval-bytes 262144".into());
        // The primary pings its replicas every second rather than every ten,
        // so `master_last_io_seconds_ago` (the connectivity lag metric) stays
        // near zero on an idle, healthy link.
        line("repl-ping-replica-period 1".into());
        // Replication authenticates as the internal user, so access keys can
        // change freely. Its password is the cache's own, which is right for
        // the cache's own primary; a geo-secondary is pointed at the other
        // cache's password when it is pointed at that cache.
        line(format!("masteruser {INTERNAL_USER}"));
        line(format!("masterauth {}", self.internal_password));
        line(format!(
            "user default on >{} >{} ~* &* {ACCESS_KEY_COMMANDS}",
            self.access_keys[0], self.access_keys[1]
        ));
        line(format!(
            "user {INTERNAL_USER} on >{} ~* &* +@all",
            self.internal_password
        ));
        if let Some(tls) = &self.tls {
            // Clients may connect with TLS on every address the node binds,
            // checking its certificate against the local CA; they need no
            // certificate of their own, as on Azure. Replication runs over
            // TLS too (the replica checks the primary's certificate against
            // the same CA), so it works with the plain port closed.
            line(format!("tls-port {TLS_PORT}"));
            line("tls-replication yes".into());
            line(format!("tls-cert-file {}", quote_path(&tls.cert_file)?));
            line(format!("tls-key-file {}", quote_path(&tls.key_file)?));
            line(format!("tls-ca-cert-file {}", quote_path(&tls.ca_file)?));
            line("tls-auth-clients no".into());
            line(format!(
                "tls-protocols \"{}\"",
                tls_protocols(&tls.minimum_version)
            ));
        }
        if let Some(primary) = self.replica_of {
            let port = replication_port(self.tls.is_some(), primary.port());
            line(format!("replicaof {} {port}", primary.ip()));
        }
        Ok(conf)
    }

    /// Writes the config file into the node's directory, creating the
    /// directory if needed, with owner-only permissions.
    pub fn write(&self) -> Result<PathBuf, NodeError> {
        let text = self.render()?;
        let path = self.config_path();
        let io_err = |source| NodeError::Config {
            path: path.clone(),
            source,
        };
        std::fs::create_dir_all(&self.dir).map_err(io_err)?;
        write_private(&path, text.as_bytes()).map_err(io_err)?;
        Ok(path)
    }
}

/// Writes `bytes` to `path`, readable and writable by the owner only.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)?;
    // An existing file keeps its old mode through `open`: tighten it.
    file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Refuses a secret that cannot be written as one bare word of a config line.
///
/// Azure's access keys are base64, which passes. Quotes, backslashes, spaces
/// and control characters would change how Redis splits the line.
pub(crate) fn check_secret(what: &'static str, secret: &str) -> Result<(), NodeError> {
    let reason = if secret.is_empty() {
        Some("it is empty")
    } else if secret.len() > 512 {
        Some("it is longer than 512 bytes")
    } else if !secret
        .bytes()
        .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b'\\'))
    {
        Some("it may hold only printable ASCII without spaces, quotes or backslashes")
    } else {
        None
    };
    match reason {
        Some(reason) => Err(NodeError::InvalidSecret { what, reason }),
        None => Ok(()),
    }
}

/// A path as a double-quoted config argument.
fn quote_path(path: &Path) -> Result<String, NodeError> {
    let text = path
        .to_str()
        .ok_or_else(|| NodeError::InvalidDir(path.to_owned()))?;
    if text.chars().any(char::is_control) {
        return Err(NodeError::InvalidDir(path.to_owned()));
    }
    let mut quoted = String::with_capacity(text.len() + 2);
    quoted.push('"');
    for c in text.chars() {
        if matches!(c, '"' | '\\') {
            quoted.push('\\');
        }
        quoted.push(c);
    }
    quoted.push('"');
    Ok(quoted)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config() -> NodeConfig {
        NodeConfig {
            addr: Ipv4Addr::new(127, 3, 0, 7),
            plain_port: true,
            extra_binds: vec![Ipv4Addr::new(127, 3, 0, 8)],
            dir: PathBuf::from("/tmp/a node"),
            access_keys: ["KEY1+/=".into(), "KEY2".into()],
            internal_password: "internal".into(),
            replica_of: None,
            replicated: true,
            tls: None,
        }
    }

    fn with_tls() -> NodeConfig {
        let mut with_tls = config();
        with_tls.tls = Some(NodeTls {
            cert_file: "/tmp/a node/tls.crt".into(),
            key_file: "/tmp/a node/tls.key".into(),
            ca_file: "/data/ca.pem".into(),
            minimum_version: "1.2".into(),
        });
        with_tls
    }

    #[test]
    fn a_tls_port_presents_its_certificate_from_the_minimum_version_up() {
        let text = with_tls().render().unwrap();
        for expected in [
            "tls-port 6380\n",
            "tls-cert-file \"/tmp/a node/tls.crt\"\n",
            "tls-key-file \"/tmp/a node/tls.key\"\n",
            "tls-ca-cert-file \"/data/ca.pem\"\n",
            "tls-auth-clients no\n",
            "tls-protocols \"TLSv1.2 TLSv1.3\"\n",
            "tls-replication yes\n",
            "port 6379\n",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
        let plain = config().render().unwrap();
        assert!(!plain.contains("tls-port"));
        assert!(!plain.contains("tls-replication"));
    }

    #[test]
    fn without_the_plain_port_only_tls_and_the_socket_listen() {
        let mut tls_only = with_tls();
        tls_only.plain_port = false;
        tls_only.replica_of = Some("127.3.0.9:6379".parse().unwrap());
        let text = tls_only.render().unwrap();
        for expected in [
            "port 0\n",
            "tls-port 6380\n",
            "unixsocket \"/tmp/a node/redis.sock\"\n",
            "unixsocketperm 700\n",
            // A replica follows its primary over TLS.
            "replicaof 127.3.0.9 6380\n",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
        // Without TLS the plain port is the only way in, whatever was asked.
        let mut plain_only = config();
        plain_only.plain_port = false;
        assert!(plain_only.render().unwrap().contains("port 6379\n"));
    }

    #[test]
    fn renders_the_team_conventions() {
        let text = config().render().unwrap();
        for expected in [
            "bind 127.3.0.7 127.3.0.8\n",
            "port 6379\n",
            "bind-source-addr 127.3.0.7\n",
            "replica-announce-ip 127.3.0.7\n",
            "repl-diskless-load swapdb\n",
            "save \"\"\n",
            "appendonly no\n",
            "replica-read-only yes\n",
            "replica-serve-stale-data no\n",
            "repl-diskless-sync-delay 0\n",
            "protected-mode no\n",
            "daemonize no\n",
            "hz 10\n",
            "dir \"/tmp/a node\"\n",
            "logfile \"/tmp/a node/redis.log\"\n",
            "masteruser georep\n",
            "masterauth internal\n",
            "user default on >KEY1+/= >KEY2 ~* &* +@all -@admin +role -acl +acl|whoami",
            "user georep on >internal ~* &* +@all\n",
        ] {
            assert!(text.contains(expected), "missing {expected:?} in\n{text}");
        }
        assert!(!text.contains("replicaof"));
    }

    #[test]
    fn a_node_without_replicas_keeps_house_once_a_second() {
        let mut alone = config();
        alone.replicated = false;
        let text = alone.render().unwrap();
        assert!(text.contains("hz 1\n"), "{text}");
        assert!(!text.contains("hz 10\n"), "{text}");
    }

    #[test]
    fn a_replica_names_its_primary() {
        let mut config = config();
        config.replica_of = Some("127.3.0.9:6379".parse().unwrap());
        assert!(config
            .render()
            .unwrap()
            .contains("replicaof 127.3.0.9 6379\n"));
    }

    #[test]
    fn debug_hides_the_secrets() {
        let text = format!("{:?}", config());
        assert!(!text.contains("KEY1"));
        assert!(!text.contains("internal\""));
        assert!(text.contains("127.3.0.7"));
    }

    #[test]
    fn refuses_secrets_that_would_break_the_line() {
        for bad in ["", "two words", "quo\"te", "back\\slash", "new\nline"] {
            let mut config = config();
            config.access_keys[1] = bad.into();
            assert!(
                matches!(config.render(), Err(NodeError::InvalidSecret { .. })),
                "{bad:?} was accepted"
            );
        }
    }

    #[test]
    fn quotes_odd_directories() {
        assert_eq!(
            quote_path(Path::new("/a \"b\"\\c")).unwrap(),
            r#""/a \"b\"\\c""#
        );
    }
}
