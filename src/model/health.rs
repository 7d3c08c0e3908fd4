//! How a link is doing, for colours and badges.

use georep_core::link::LinkState;

/// How a link is doing, for colours and badges.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Health {
    /// Linked and replicating.
    Healthy,
    /// An operation (linking, failover, unlinking) is in progress.
    Busy,
    /// Failed, or the health metric says the link is down.
    Unhealthy,
}

impl Health {
    /// The CSS class suffix for this health.
    pub fn class(self) -> &'static str {
        match self {
            Health::Healthy => "healthy",
            Health::Busy => "busy",
            Health::Unhealthy => "unhealthy",
        }
    }

    /// A word for people.
    pub fn label(self) -> &'static str {
        match self {
            Health::Healthy => "Healthy",
            Health::Busy => "In progress",
            Health::Unhealthy => "Unhealthy",
        }
    }

    /// Health from the link's state and, when known, the latest
    /// `GeoReplicationHealthy` sample (1 up, 0 down).
    pub fn of(state: LinkState, healthy_metric: Option<f64>) -> Self {
        match state {
            LinkState::Failed | LinkState::PrimaryLost => Health::Unhealthy,
            s if s.is_busy() => Health::Busy,
            _ if healthy_metric.is_some_and(|v| v < 0.5) => Health::Unhealthy,
            _ => Health::Healthy,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg_attr(not(target_arch = "wasm32"), test)]
    #[cfg_attr(target_arch = "wasm32", wasm_bindgen_test::wasm_bindgen_test)]
    fn health_follows_state_then_metric() {
        assert_eq!(Health::of(LinkState::Linked, None), Health::Healthy);
        assert_eq!(Health::of(LinkState::Linked, Some(0.0)), Health::Unhealthy);
        assert_eq!(Health::of(LinkState::Linking, Some(0.0)), Health::Busy);
        assert_eq!(Health::of(LinkState::Failed, Some(1.0)), Health::Unhealthy);
    }
}
