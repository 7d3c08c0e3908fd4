//! The geo-replication metrics, with Azure Monitor's names and units.

use serde::{Deserialize, Serialize};

/// An Azure Monitor unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Unit {
    /// A plain number, such as 1 for healthy.
    Count,
    /// Seconds.
    Seconds,
    /// Bytes.
    Bytes,
}

/// A geo-replication health metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum GeoMetric {
    /// 1 when the link is up, 0 when either cache is down.
    GeoReplicationHealthy,
    /// Seconds since the last successful sync between the caches.
    GeoReplicationConnectivityLag,
    /// Bytes not yet replicated to the geo-secondary.
    GeoReplicationDataSyncOffset,
    /// Full syncs started.
    GeoReplicationFullSyncEventStarted,
    /// Full syncs finished.
    GeoReplicationFullSyncEventFinished,
}

impl GeoMetric {
    /// Every geo-replication metric, in the order the portal lists them.
    pub const ALL: [GeoMetric; 5] = [
        GeoMetric::GeoReplicationHealthy,
        GeoMetric::GeoReplicationConnectivityLag,
        GeoMetric::GeoReplicationDataSyncOffset,
        GeoMetric::GeoReplicationFullSyncEventStarted,
        GeoMetric::GeoReplicationFullSyncEventFinished,
    ];

    /// The metric's name in Azure Monitor.
    pub fn name(self) -> &'static str {
        match self {
            GeoMetric::GeoReplicationHealthy => "GeoReplicationHealthy",
            GeoMetric::GeoReplicationConnectivityLag => "GeoReplicationConnectivityLag",
            GeoMetric::GeoReplicationDataSyncOffset => "GeoReplicationDataSyncOffset",
            GeoMetric::GeoReplicationFullSyncEventStarted => "GeoReplicationFullSyncEventStarted",
            GeoMetric::GeoReplicationFullSyncEventFinished => "GeoReplicationFullSyncEventFinished",
        }
    }

    /// The metric's display name in the portal.
    pub fn display_name(self) -> &'static str {
        match self {
            GeoMetric::GeoReplicationHealthy => "Geo Replication Healthy",
            GeoMetric::GeoReplicationConnectivityLag => "Geo Replication Connectivity Lag",
            GeoMetric::GeoReplicationDataSyncOffset => "Geo Replication Data Sync Offset",
            GeoMetric::GeoReplicationFullSyncEventStarted => {
                "Geo Replication Full Sync Event Started"
            }
            GeoMetric::GeoReplicationFullSyncEventFinished => {
                "Geo Replication Full Sync Event Finished"
            }
        }
    }

    /// The metric's unit.
    pub fn unit(self) -> Unit {
        match self {
            GeoMetric::GeoReplicationConnectivityLag => Unit::Seconds,
            GeoMetric::GeoReplicationDataSyncOffset => Unit::Bytes,
            _ => Unit::Count,
        }
    }

    /// Looks a metric up by its Azure Monitor name, ignoring case.
    pub fn from_name(name: &str) -> Option<GeoMetric> {
        GeoMetric::ALL
            .into_iter()
            .find(|m| m.name().eq_ignore_ascii_case(name.trim()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip() {
        for metric in GeoMetric::ALL {
            assert_eq!(GeoMetric::from_name(metric.name()), Some(metric));
            assert_eq!(
                GeoMetric::from_name(&metric.name().to_lowercase()),
                Some(metric)
            );
        }
        assert_eq!(GeoMetric::from_name("UsedMemory"), None);
    }

    #[test]
    fn units_match_azure_monitor() {
        assert_eq!(
            GeoMetric::GeoReplicationConnectivityLag.unit(),
            Unit::Seconds
        );
        assert_eq!(GeoMetric::GeoReplicationDataSyncOffset.unit(), Unit::Bytes);
        assert_eq!(GeoMetric::GeoReplicationHealthy.unit(), Unit::Count);
    }
}
