//! Firewall rules as ARM carries them.

use serde::{Deserialize, Serialize};

/// A firewall rule resource.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirewallRuleResource {
    /// The ARM id.
    pub id: String,
    /// The rule's name.
    pub name: String,
    /// `Microsoft.Cache/Redis/firewallRules`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The address range.
    pub properties: FirewallRuleProperties,
}

/// The body of a firewall rule create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirewallRuleParameters {
    /// The address range.
    pub properties: FirewallRuleProperties,
}

/// A firewall rule's address range.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FirewallRuleProperties {
    /// First allowed IPv4 address.
    #[serde(rename = "startIP")]
    pub start_ip: String,
    /// Last allowed IPv4 address.
    #[serde(rename = "endIP")]
    pub end_ip: String,
}
