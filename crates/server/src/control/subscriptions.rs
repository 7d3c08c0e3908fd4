//! The subscriptions the server knows: one made on first start, those the
//! demo adds, and any a cache was created in.

use georep_core::arm::Subscription;
use serde::{Deserialize, Serialize};

use crate::control::app::App;
use crate::control::ControlError;

const META_KEY: &str = "subscriptions";
/// The tenant every local subscription belongs to.
pub const TENANT: &str = "00000000-0000-0000-0000-000000000000";

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Known {
    id: String,
    display_name: String,
}

fn known(app: &App) -> Result<Vec<Known>, ControlError> {
    Ok(app.store.meta_record(META_KEY)?.unwrap_or_default())
}

/// Registers a subscription with a display name, if it is new.
pub fn register(app: &App, id: &str, display_name: &str) -> Result<(), ControlError> {
    let mut all = known(app)?;
    if all.iter().any(|k| k.id.eq_ignore_ascii_case(id)) {
        return Ok(());
    }
    all.push(Known {
        id: id.to_owned(),
        display_name: display_name.to_owned(),
    });
    app.store.set_meta_record(META_KEY, &all)?;
    Ok(())
}

/// Makes sure at least one subscription exists, so a fresh server can be used.
pub fn ensure_default(app: &App) -> Result<(), ControlError> {
    if known(app)?.is_empty() {
        let id = new_guid();
        register(app, &id, "Local")?;
    }
    Ok(())
}

/// A random GUID.
pub fn new_guid() -> String {
    let hex = crate::secrets::random_hex(16);
    format!(
        "{}-{}-4{}-a{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[13..16],
        &hex[17..20],
        &hex[20..32]
    )
}

/// Every subscription, in ARM's shape.
pub fn all(app: &App) -> Result<Vec<Subscription>, ControlError> {
    let mut all = known(app)?;
    for cache in app.store.caches(None, None)? {
        let sub = &cache.id.subscription;
        if !all.iter().any(|k| k.id.eq_ignore_ascii_case(sub)) {
            all.push(Known {
                id: sub.clone(),
                display_name: format!("Subscription {}", &sub[..sub.len().min(8)]),
            });
        }
    }
    Ok(all
        .into_iter()
        .map(|k| Subscription {
            id: format!("/subscriptions/{}", k.id),
            subscription_id: k.id,
            display_name: k.display_name,
            state: "Enabled".into(),
            tenant_id: Some(TENANT.into()),
        })
        .collect())
}

#[cfg(test)]
mod tests {
    #[test]
    fn guids_are_valid_subscription_ids() {
        let id = super::new_guid();
        assert!(
            georep_core::names::validate_subscription(&id).is_ok(),
            "{id}"
        );
    }
}
