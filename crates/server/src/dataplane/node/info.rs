//! A small parser for Redis's `INFO` text.
//!
//! `INFO` answers `key:value` lines grouped under `# Section` headers. Only
//! the replication, stats, persistence and server fields the control plane
//! reads get typed accessors; [`Info::get`] reaches the rest.

use std::collections::HashMap;
use std::net::{IpAddr, SocketAddr};

/// A node's replication role.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Takes writes (`role:master`).
    Primary,
    /// Follows a primary (`role:slave`).
    Replica,
}

/// One connected replica, as its primary lists it (`slave0:ip=…,port=…,…`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReplicaEntry {
    /// The replica's address as the primary sees it.
    pub ip: String,
    /// The port the replica listens on.
    pub port: u16,
    /// `wait_bgsave`, `send_bulk` or `online`.
    pub state: String,
    /// The replication offset the replica has acknowledged.
    pub offset: u64,
    /// Seconds since its last acknowledgement.
    pub lag: u64,
}

impl ReplicaEntry {
    /// Whether this entry is the node at `addr`. Every node has an address
    /// of its own, so the address alone says which: the port is whichever
    /// one it replicates on (6380 over TLS), not the one it is named by.
    pub fn is(&self, addr: SocketAddr) -> bool {
        self.ip.parse::<IpAddr>().ok() == Some(addr.ip())
    }

    /// Whether the replica is streaming normally (not in a full sync).
    pub fn is_online(&self) -> bool {
        self.state == "online"
    }
}

/// The parsed answer to `INFO`, any sections.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Info {
    fields: HashMap<String, String>,
}

impl Info {
    /// Parses `INFO` text; lines that are not `key:value` are skipped.
    pub fn parse(text: &str) -> Info {
        let fields = text
            .lines()
            .map(str::trim)
            .filter(|line| !line.is_empty() && !line.starts_with('#'))
            .filter_map(|line| line.split_once(':'))
            .map(|(key, value)| (key.to_owned(), value.to_owned()))
            .collect();
        Info { fields }
    }

    /// A field's raw value.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields.get(key).map(String::as_str)
    }

    /// A field as a signed integer.
    pub fn get_i64(&self, key: &str) -> Option<i64> {
        self.get(key)?.parse().ok()
    }

    /// A field as an unsigned integer; negative values (Redis's "unknown",
    /// usually -1) read as `None`.
    pub fn get_u64(&self, key: &str) -> Option<u64> {
        u64::try_from(self.get_i64(key)?).ok()
    }

    /// `role`.
    pub fn role(&self) -> Option<Role> {
        match self.get("role")? {
            "master" => Some(Role::Primary),
            "slave" => Some(Role::Replica),
            _ => None,
        }
    }

    /// `master_host:master_port`, for a replica whose primary is named by IP.
    pub fn master_addr(&self) -> Option<SocketAddr> {
        let ip: IpAddr = self.get("master_host")?.parse().ok()?;
        let port: u16 = self.get("master_port")?.parse().ok()?;
        Some(SocketAddr::new(ip, port))
    }

    /// Whether this node is a replica of the node at `primary`: of its
    /// address, on whichever port it replicates (see [`ReplicaEntry::is`]).
    pub fn is_replica_of(&self, primary: SocketAddr) -> bool {
        self.role() == Some(Role::Replica)
            && self.master_addr().map(|a| a.ip()) == Some(primary.ip())
    }

    /// `master_link_status:up`; false for a primary.
    pub fn master_link_up(&self) -> bool {
        self.get("master_link_status") == Some("up")
    }

    /// `master_last_io_seconds_ago`, when known.
    pub fn master_last_io_seconds_ago(&self) -> Option<u64> {
        self.get_u64("master_last_io_seconds_ago")
    }

    /// `master_link_down_since_seconds`, when the link is down and Redis knows since when.
    pub fn master_link_down_since_seconds(&self) -> Option<u64> {
        self.get_u64("master_link_down_since_seconds")
    }

    /// `master_sync_in_progress:1`: a full sync is being received.
    pub fn master_sync_in_progress(&self) -> bool {
        self.get("master_sync_in_progress") == Some("1")
    }

    /// `master_sync_total_bytes`, when known: a streamed (diskless)
    /// snapshot reports 0 or -1, which read as `None`.
    pub fn master_sync_total_bytes(&self) -> Option<u64> {
        self.get_u64("master_sync_total_bytes").filter(|&n| n > 0)
    }

    /// `master_sync_read_bytes`, 0 when no sync runs.
    pub fn master_sync_read_bytes(&self) -> u64 {
        self.get_u64("master_sync_read_bytes").unwrap_or(0)
    }

    /// `master_repl_offset`: how far this node's replication stream has come.
    pub fn master_repl_offset(&self) -> Option<u64> {
        self.get_u64("master_repl_offset")
    }

    /// `slave_repl_offset`: how much of its primary's stream a replica has processed.
    pub fn slave_repl_offset(&self) -> Option<u64> {
        self.get_u64("slave_repl_offset")
    }

    /// `second_repl_offset`: after a promotion, one past the last offset
    /// shared with the old primary; `None` (-1) when never promoted.
    pub fn second_repl_offset(&self) -> Option<u64> {
        self.get_u64("second_repl_offset")
    }

    /// `master_failover_state`: `no-failover`, `waiting-for-sync` or `failover-in-progress`.
    pub fn failover_state(&self) -> Option<&str> {
        self.get("master_failover_state")
    }

    /// `sync_full`: full syncs this node has served as a primary (stats).
    pub fn sync_full(&self) -> Option<u64> {
        self.get_u64("sync_full")
    }

    /// `sync_partial_ok`: partial resyncs this node has accepted (stats).
    pub fn sync_partial_ok(&self) -> Option<u64> {
        self.get_u64("sync_partial_ok")
    }

    /// `connected_slaves`.
    pub fn connected_slaves(&self) -> Option<u64> {
        self.get_u64("connected_slaves")
    }

    /// The connected replicas (`slave0`, `slave1`, …), in order.
    pub fn replicas(&self) -> Vec<ReplicaEntry> {
        (0..)
            .map_while(|i| self.get(&format!("slave{i}")))
            .filter_map(parse_replica_entry)
            .collect()
    }

    /// The entry for the replica listening at `addr`, if connected.
    pub fn replica(&self, addr: SocketAddr) -> Option<ReplicaEntry> {
        self.replicas().into_iter().find(|r| r.is(addr))
    }

    /// `current_save_keys_processed` and `current_save_keys_total`: how far
    /// the running snapshot (for a full sync or a save) has come, in keys.
    pub fn snapshot_keys(&self) -> Option<(u64, u64)> {
        if self.get("rdb_bgsave_in_progress") != Some("1") {
            return None;
        }
        Some((
            self.get_u64("current_save_keys_processed")?,
            self.get_u64("current_save_keys_total")?,
        ))
    }

    /// `process_id` (server section).
    pub fn process_id(&self) -> Option<u32> {
        self.get("process_id")?.parse().ok()
    }

    /// `tcp_port` (server section).
    pub fn tcp_port(&self) -> Option<u16> {
        self.get("tcp_port")?.parse().ok()
    }
}

/// Parses `ip=127.0.0.1,port=7001,state=online,offset=42,lag=0`.
fn parse_replica_entry(text: &str) -> Option<ReplicaEntry> {
    let mut fields: HashMap<&str, &str> = HashMap::new();
    for pair in text.split(',') {
        let (key, value) = pair.split_once('=')?;
        fields.insert(key, value);
    }
    Some(ReplicaEntry {
        ip: (*fields.get("ip")?).to_owned(),
        port: fields.get("port")?.parse().ok()?,
        state: (*fields.get("state")?).to_owned(),
        offset: fields.get("offset")?.parse().ok()?,
        lag: fields.get("lag").and_then(|l| l.parse().ok()).unwrap_or(0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    // Verbatim from redis-server 7.0.15.
    const PRIMARY: &str = "# Replication\r\nrole:master\r\nconnected_slaves:2\r\n\
        slave0:ip=127.0.0.2,port=6380,state=online,offset=4880051,lag=0\r\n\
        slave1:ip=127.0.0.4,port=6380,state=wait_bgsave,offset=0,lag=0\r\n\
        master_failover_state:no-failover\r\n\
        master_replid:a61819b364f7e5e7b9e6f21c83711b786764aea9\r\n\
        master_replid2:0000000000000000000000000000000000000000\r\n\
        master_repl_offset:4880051\r\nsecond_repl_offset:-1\r\nrepl_backlog_active:1\r\n\
        \r\n# Stats\r\nsync_full:3\r\nsync_partial_ok:0\r\nsync_partial_err:0\r\n\
        \r\n# Persistence\r\nrdb_bgsave_in_progress:1\r\ncurrent_save_keys_processed:4097\r\n\
        current_save_keys_total:12623\r\n";

    const SYNCING_REPLICA: &str = "# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\n\
        master_port:6380\r\nmaster_link_status:down\r\nmaster_last_io_seconds_ago:-1\r\n\
        master_sync_in_progress:1\r\nslave_read_repl_offset:1\r\nslave_repl_offset:1\r\n\
        master_sync_total_bytes:0\r\nmaster_sync_read_bytes:626952\r\n\
        master_sync_left_bytes:-626952\r\nmaster_sync_perc:0.00\r\n\
        master_sync_last_io_seconds_ago:0\r\nmaster_link_down_since_seconds:-1\r\n\
        slave_priority:100\r\nslave_read_only:1\r\nconnected_slaves:0\r\n\
        master_failover_state:no-failover\r\nmaster_repl_offset:0\r\nsecond_repl_offset:-1\r\n";

    const HEALTHY_REPLICA: &str = "# Replication\r\nrole:slave\r\nmaster_host:127.0.0.1\r\n\
        master_port:6380\r\nmaster_link_status:up\r\nmaster_last_io_seconds_ago:3\r\n\
        master_sync_in_progress:0\r\nslave_repl_offset:4880037\r\n\
        master_repl_offset:4880037\r\n";

    #[test]
    fn reads_a_primary() {
        let info = Info::parse(PRIMARY);
        assert_eq!(info.role(), Some(Role::Primary));
        assert_eq!(info.master_repl_offset(), Some(4_880_051));
        assert_eq!(info.second_repl_offset(), None);
        assert_eq!(info.sync_full(), Some(3));
        assert_eq!(info.connected_slaves(), Some(2));
        assert_eq!(info.failover_state(), Some("no-failover"));
        assert!(!info.master_link_up());
        assert_eq!(info.snapshot_keys(), Some((4097, 12623)));
        let replicas = info.replicas();
        assert_eq!(replicas.len(), 2);
        assert_eq!(
            replicas[1],
            ReplicaEntry {
                ip: "127.0.0.4".into(),
                port: 6380,
                state: "wait_bgsave".into(),
                offset: 0,
                lag: 0
            }
        );
        // A node is named by its address and port 6379, whichever port it
        // replicates on.
        let addr: SocketAddr = "127.0.0.2:6379".parse().unwrap();
        assert!(info.replica(addr).unwrap().is_online());
        assert!(info.replica("127.0.0.3:6380".parse().unwrap()).is_none());
    }

    #[test]
    fn reads_a_replica_in_full_sync() {
        let info = Info::parse(SYNCING_REPLICA);
        assert_eq!(info.role(), Some(Role::Replica));
        assert!(info.is_replica_of("127.0.0.1:6379".parse().unwrap()));
        assert!(!info.is_replica_of("127.0.0.2:6379".parse().unwrap()));
        assert!(!info.master_link_up());
        assert!(info.master_sync_in_progress());
        assert_eq!(info.master_last_io_seconds_ago(), None);
        assert_eq!(info.master_link_down_since_seconds(), None);
        // A streamed snapshot has no known size.
        assert_eq!(info.master_sync_total_bytes(), None);
        assert_eq!(info.master_sync_read_bytes(), 626_952);
        assert_eq!(info.slave_repl_offset(), Some(1));
    }

    #[test]
    fn reads_a_healthy_replica() {
        let info = Info::parse(HEALTHY_REPLICA);
        assert!(info.master_link_up());
        assert!(!info.master_sync_in_progress());
        assert_eq!(info.master_last_io_seconds_ago(), Some(3));
        assert_eq!(info.slave_repl_offset(), Some(4_880_037));
        assert_eq!(info.master_sync_read_bytes(), 0);
        assert_eq!(info.snapshot_keys(), None);
    }

    #[test]
    fn tolerates_junk() {
        let info = Info::parse("garbage\n\n# Server\nprocess_id:42\ntcp_port:x\nrole:leader\n");
        assert_eq!(info.process_id(), Some(42));
        assert_eq!(info.tcp_port(), None);
        assert_eq!(info.role(), None);
        assert_eq!(info.master_addr(), None);
        assert!(info.replicas().is_empty());
    }

    #[test]
    fn keeps_colons_in_values() {
        let info = Info::parse("executable:/usr/bin/redis-server\nconfig_file:/a:b\n");
        assert_eq!(info.get("config_file"), Some("/a:b"));
    }
}
