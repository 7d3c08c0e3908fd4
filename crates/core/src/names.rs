//! ARM's naming rules for the resources the API accepts.

use thiserror::Error;

/// The oldest `api-version` of `Microsoft.Cache/redis` we accept.
pub const OLDEST_API_VERSION: &str = "2022-06-01";
/// The `api-version` we implement and report.
pub const API_VERSION: &str = "2024-11-01";
/// The `Microsoft.Cache/redis` api-versions published since the oldest we accept.
pub const API_VERSIONS: [&str; 8] = [
    "2022-06-01",
    "2023-04-01",
    "2023-05-01-preview",
    "2023-08-01",
    "2024-03-01",
    "2024-04-01-preview",
    "2024-11-01",
    "2025-04-01",
];

/// A name or version the API refuses.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum NameError {
    /// A cache name breaking Azure's rules.
    #[error("'{0}' is not a valid cache name: use 1 to 63 letters, digits and single hyphens, starting and ending with a letter or digit.")]
    Cache(String),
    /// A resource group name breaking Azure's rules.
    #[error("'{0}' is not a valid resource group name: use 1 to 90 letters, digits, underscores, hyphens, periods and parentheses, not ending in a period.")]
    ResourceGroup(String),
    /// A subscription id that is not a GUID.
    #[error("'{0}' is not a valid subscription id: it must be a GUID.")]
    Subscription(String),
    /// A firewall rule name breaking Azure's rules.
    #[error(
        "'{0}' is not a valid firewall rule name: use 1 to 80 letters, digits and underscores."
    )]
    FirewallRule(String),
    /// An api-version this service doesn't implement.
    #[error("The api-version '{0}' is not supported. Supported versions: {versions}.", versions = API_VERSIONS.join(", "))]
    ApiVersion(String),
}

/// Checks a cache name: 1–63 letters, digits and hyphens, no leading,
/// trailing or doubled hyphen.
pub fn validate_cache_name(name: &str) -> Result<(), NameError> {
    let ok = (1..=63).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
        && !name.contains("--");
    ok.then_some(())
        .ok_or_else(|| NameError::Cache(name.to_owned()))
}

/// Checks a resource group name: 1–90 of letters, digits, `_-.()`, not ending in `.`.
pub fn validate_resource_group(name: &str) -> Result<(), NameError> {
    let ok = (1..=90).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "_-.()".contains(c))
        && !name.ends_with('.');
    ok.then_some(())
        .ok_or_else(|| NameError::ResourceGroup(name.to_owned()))
}

/// Checks that a subscription id is a GUID (8-4-4-4-12 hex digits).
pub fn validate_subscription(id: &str) -> Result<(), NameError> {
    let groups: Vec<&str> = id.split('-').collect();
    let lengths = [8, 4, 4, 4, 12];
    let ok = groups.len() == lengths.len()
        && groups
            .iter()
            .zip(lengths)
            .all(|(g, n)| g.len() == n && g.chars().all(|c| c.is_ascii_hexdigit()));
    ok.then_some(())
        .ok_or_else(|| NameError::Subscription(id.to_owned()))
}

/// Checks a firewall rule name: 1–80 letters, digits and underscores.
pub fn validate_firewall_rule_name(name: &str) -> Result<(), NameError> {
    let ok = (1..=80).contains(&name.len())
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    ok.then_some(())
        .ok_or_else(|| NameError::FirewallRule(name.to_owned()))
}

/// Checks that `version` is a `Microsoft.Cache/redis` api-version we serve.
pub fn validate_api_version(version: &str) -> Result<(), NameError> {
    API_VERSIONS
        .contains(&version)
        .then_some(())
        .ok_or_else(|| NameError::ApiVersion(version.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_names() {
        for good in ["a", "orders-eu", "Cache01", &"x".repeat(63)] {
            assert!(validate_cache_name(good).is_ok(), "{good}");
        }
        for bad in ["", "-a", "a-", "a--b", "a_b", "a.b", "ünï", &"x".repeat(64)] {
            assert!(validate_cache_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn resource_groups() {
        for good in ["rg", "my_rg-(prod).1"] {
            assert!(validate_resource_group(good).is_ok(), "{good}");
        }
        for bad in ["", "rg.", "a/b", &"r".repeat(91)] {
            assert!(validate_resource_group(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn subscriptions_are_guids() {
        assert!(validate_subscription("6b4e1c2a-0d3f-4a9b-8c7d-1e2f3a4b5c6d").is_ok());
        for bad in [
            "",
            "sub",
            "6b4e1c2a-0d3f-4a9b-8c7d-1e2f3a4b5c6",
            "zzzzzzzz-0d3f-4a9b-8c7d-1e2f3a4b5c6d",
        ] {
            assert!(validate_subscription(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn api_versions_since_2022_06_01() {
        assert!(validate_api_version(API_VERSION).is_ok());
        assert!(validate_api_version(OLDEST_API_VERSION).is_ok());
        for bad in ["", "2021-06-01", "latest", "2024-11-01 "] {
            assert!(validate_api_version(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn firewall_rule_names() {
        assert!(validate_firewall_rule_name("office_1").is_ok());
        assert!(validate_firewall_rule_name("office-1").is_err());
    }
}
