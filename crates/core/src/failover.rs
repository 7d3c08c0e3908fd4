//! What to check before a geo-failover, from the checklist in Azure's passive geo-replication guide.

use serde::Serialize;

use crate::model::Cache;

/// Azure's passive geo-replication guide advises: fail over only when fewer than this many bytes remain to replicate.
pub const SAFE_OFFSET_BYTES: u64 = 14;

/// Whether a data sync offset is small enough to fail over with minimal loss.
pub fn offset_is_safe(offset_bytes: u64) -> bool {
    offset_bytes < SAFE_OFFSET_BYTES
}

/// One item of the pre-failover checklist.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum CheckItem {
    /// Both caches have the same firewall rules.
    FirewallParity,
    /// Both caches have the same non-TLS port setting and minimum TLS version.
    PortAndTlsParity,
    /// The caches have different access keys, so clients must switch keys.
    AccessKeysDiffer,
}

/// The outcome of one checklist item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Check {
    /// Which item.
    pub item: CheckItem,
    /// Whether it needs no action.
    pub ok: bool,
    /// What was found, in plain words.
    pub detail: String,
}

/// The "settings to check before initiating geo-failover" for a pair.
///
/// `keys_differ` says whether the two caches' access keys differ; the rules
/// never see the keys themselves.
pub fn preflight(primary: &Cache, secondary: &Cache, keys_differ: bool) -> Vec<Check> {
    vec![
        firewall_parity(primary, secondary),
        port_and_tls_parity(primary, secondary),
        access_keys(keys_differ),
    ]
}

fn firewall_parity(primary: &Cache, secondary: &Cache) -> Check {
    let mut a = primary.firewall_rules.clone();
    let mut b = secondary.firewall_rules.clone();
    let key = |r: &crate::model::FirewallRule| (r.start_ip.clone(), r.end_ip.clone());
    a.sort_by_key(key);
    b.sort_by_key(key);
    let same = a.iter().map(key).eq(b.iter().map(key));
    let detail = if same {
        "Both caches allow the same client addresses.".to_owned()
    } else {
        format!(
            "{} has {} and {} has {}, and they differ: clients allowed by one may be refused by the other.",
            primary.name(),
            firewall_rules(a.len()),
            secondary.name(),
            firewall_rules(b.len())
        )
    };
    Check {
        item: CheckItem::FirewallParity,
        ok: same,
        detail,
    }
}

/// "no firewall rules", "1 firewall rule", "3 firewall rules".
fn firewall_rules(count: usize) -> String {
    match count {
        0 => "no firewall rules".to_owned(),
        n => crate::words::count(n, "firewall rule"),
    }
}

fn port_and_tls_parity(primary: &Cache, secondary: &Cache) -> Check {
    let same_port = primary.enable_non_ssl_port == secondary.enable_non_ssl_port;
    let same_tls = primary.minimum_tls_version == secondary.minimum_tls_version;
    let detail = match (same_port, same_tls) {
        (true, true) => "Both caches use the same ports and TLS settings.".to_owned(),
        (false, _) => format!(
            "The non-TLS port is {} on {} but {} on {}.",
            on_off(primary.enable_non_ssl_port),
            primary.name(),
            on_off(secondary.enable_non_ssl_port),
            secondary.name()
        ),
        (true, false) => format!(
            "The minimum TLS version is {} on {} but {} on {}.",
            primary.minimum_tls_version,
            primary.name(),
            secondary.minimum_tls_version,
            secondary.name()
        ),
    };
    Check {
        item: CheckItem::PortAndTlsParity,
        ok: same_port && same_tls,
        detail,
    }
}

fn access_keys(keys_differ: bool) -> Check {
    let detail = if keys_differ {
        "The caches have different access keys: after failover, clients must use the new geo-primary's key."
    } else {
        "Both caches accept the same credentials."
    };
    Check {
        item: CheckItem::AccessKeysDiffer,
        ok: !keys_differ,
        detail: detail.to_owned(),
    }
}

fn on_off(on: bool) -> &'static str {
    if on {
        "enabled"
    } else {
        "disabled"
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::fixtures::premium;
    use crate::model::FirewallRule;

    fn item(checks: &[Check], item: CheckItem) -> &Check {
        checks.iter().find(|c| c.item == item).unwrap()
    }

    #[test]
    fn fewer_than_14_bytes_is_safe() {
        assert!(offset_is_safe(0));
        assert!(offset_is_safe(13));
        assert!(!offset_is_safe(14));
        assert!(!offset_is_safe(1 << 20));
    }

    #[test]
    fn identical_settings_pass_firewall_and_port_checks() {
        let checks = preflight(&premium("a"), &premium("b"), true);
        assert!(item(&checks, CheckItem::FirewallParity).ok);
        assert!(item(&checks, CheckItem::PortAndTlsParity).ok);
    }

    #[test]
    fn differing_firewalls_are_flagged() {
        let mut a = premium("a");
        a.firewall_rules.push(FirewallRule {
            name: "x".into(),
            start_ip: "1.1.1.1".into(),
            end_ip: "1.1.1.1".into(),
        });
        let checks = preflight(&a, &premium("b"), true);
        let firewall = item(&checks, CheckItem::FirewallParity);
        assert!(!firewall.ok);
        assert!(
            firewall
                .detail
                .starts_with("a has 1 firewall rule and b has no firewall rules, and they differ"),
            "{}",
            firewall.detail
        );
    }

    #[test]
    fn firewall_rule_names_and_order_do_not_matter() {
        let rule = |name: &str, ip: &str| FirewallRule {
            name: name.into(),
            start_ip: ip.into(),
            end_ip: ip.into(),
        };
        let mut a = premium("a");
        a.firewall_rules = vec![rule("one", "1.1.1.1"), rule("two", "2.2.2.2")];
        let mut b = premium("b");
        b.firewall_rules = vec![rule("deux", "2.2.2.2"), rule("un", "1.1.1.1")];
        assert!(item(&preflight(&a, &b, true), CheckItem::FirewallParity).ok);
    }

    #[test]
    fn differing_port_or_tls_is_flagged() {
        let mut a = premium("a");
        a.enable_non_ssl_port = true;
        assert!(
            !item(
                &preflight(&a, &premium("b"), true),
                CheckItem::PortAndTlsParity
            )
            .ok
        );
        let mut b = premium("b");
        b.minimum_tls_version = "1.0".into();
        assert!(
            !item(
                &preflight(&premium("a"), &b, true),
                CheckItem::PortAndTlsParity
            )
            .ok
        );
    }

    #[test]
    fn differing_keys_need_attention() {
        assert!(
            !item(
                &preflight(&premium("a"), &premium("b"), true),
                CheckItem::AccessKeysDiffer
            )
            .ok
        );
        assert!(
            item(
                &preflight(&premium("a"), &premium("b"), false),
                CheckItem::AccessKeysDiffer
            )
            .ok
        );
    }
}
