//! The demonstration fleet `--demo` seeds on first start: two compatible
//! Premium pairs to link, and caches that are incompatible for each of the
//! reasons in Azure's passive geo-replication guide, across several regions and two subscriptions.

use std::time::Duration;

use georep_core::arm::{RedisConfiguration, RedisCreateParameters, RedisCreateProperties};
use georep_core::{CacheId, ProvisioningState, Sku};

use crate::control::app::SharedApp;
use crate::control::caches;
use crate::control::subscriptions;
use crate::server::Error;

const SEEDED: &str = "demo-seeded";
/// The demo's main subscription.
pub const PRODUCTION: &str = "6b4e1c2a-0d3f-4a9b-8c7d-1e2f3a4b5c6d";
/// The demo's other subscription.
pub const STAGING: &str = "9f8e7d6c-5b4a-4c3d-9e2f-1a0b9c8d7e6f";
/// The resource group every demo cache is in.
pub const GROUP: &str = "rg-georep-demo";
/// How often [`wait_until_up`] looks at the demo caches' states.
const UP_POLL: Duration = Duration::from_millis(100);

/// One demo cache.
struct Seed {
    subscription: &'static str,
    name: &'static str,
    location: &'static str,
    sku: Sku,
    redis_version: &'static str,
    replicas: u32,
    shards: u32,
    rdb: bool,
}

const fn premium(name: &'static str, location: &'static str) -> Seed {
    Seed {
        subscription: PRODUCTION,
        name,
        location,
        sku: Sku::premium(1),
        redis_version: "6",
        replicas: 1,
        shards: 0,
        rdb: false,
    }
}

impl Seed {
    fn id(&self) -> CacheId {
        CacheId::new(self.subscription, GROUP, self.name)
    }
}

fn seeds() -> Vec<Seed> {
    vec![
        // Compatible pair 1: same size, so it can also fail over.
        premium("orders-weu", "westeurope"),
        premium("orders-neu", "northeurope"),
        // Compatible pair 2, P2; the P1 caches above are smaller than these.
        Seed {
            sku: Sku::premium(2),
            ..premium("sessions-eus", "eastus")
        },
        Seed {
            sku: Sku::premium(2),
            ..premium("sessions-wus", "westus2")
        },
        // Incompatible, one reason each.
        Seed {
            sku: Sku::standard(3),
            ..premium("catalog-std", "eastus")
        },
        Seed {
            redis_version: "4",
            ..premium("legacy-v4", "southeastasia")
        },
        Seed {
            rdb: true,
            ..premium("audit-rdb", "japaneast")
        },
        Seed {
            replicas: 2,
            ..premium("reports-2r", "uksouth")
        },
        Seed {
            shards: 1,
            ..premium("cart-c1", "francecentral")
        },
        Seed {
            shards: 2,
            ..premium("cart-c2", "westeurope")
        },
        Seed {
            subscription: STAGING,
            ..premium("orders-stg", "westeurope")
        },
    ]
}

/// Seeds the demo fleet, once: later starts find the marker and do nothing.
pub async fn seed(app: &SharedApp) -> Result<(), Error> {
    if app.store.meta(SEEDED)?.is_some() {
        tracing::info!("demo fleet already seeded");
        return Ok(());
    }
    subscriptions::register(app, PRODUCTION, "Contoso Production")?;
    subscriptions::register(app, STAGING, "Contoso Staging")?;
    let all = seeds();
    for seed in &all {
        let id = seed.id();
        let params = RedisCreateParameters {
            location: seed.location.into(),
            tags: [("purpose".to_owned(), "georep demo".to_owned())].into(),
            zones: vec![],
            properties: RedisCreateProperties {
                sku: seed.sku,
                redis_version: Some(seed.redis_version.into()),
                enable_non_ssl_port: Some(true),
                minimum_tls_version: Some("1.2".into()),
                replicas_per_master: None,
                replicas_per_primary: (seed.sku.name == georep_core::SkuName::Premium)
                    .then_some(seed.replicas),
                shard_count: (seed.shards > 0).then_some(seed.shards),
                redis_configuration: Some(RedisConfiguration {
                    rdb_backup_enabled: seed.rdb.then(|| "true".into()),
                    ..RedisConfiguration::default()
                }),
                public_network_access: None,
                subnet_id: None,
            },
        };
        caches::put(app, &id, params)
            .await
            .map_err(|e| e.to_string())?;
    }
    app.store.set_meta(SEEDED, "1")?;
    tracing::info!(caches = all.len(), "seeded the demo fleet");
    Ok(())
}

/// Waits until no demo cache is still being created (each is `Succeeded`,
/// or `Failed` with its reason in the log), so what is printed next comes
/// after the fleet is up. A demo cache deleted since it was seeded is not
/// waited for.
pub async fn wait_until_up(app: &SharedApp) -> Result<(), Error> {
    loop {
        let mut creating = 0;
        let mut failed = Vec::new();
        for seed in seeds() {
            match app.store.cache(&seed.id())? {
                Some(c) if c.provisioning_state == ProvisioningState::Creating => creating += 1,
                Some(c) if c.provisioning_state == ProvisioningState::Failed => {
                    failed.push(seed.name)
                }
                _ => {}
            }
        }
        if creating == 0 {
            if failed.is_empty() {
                tracing::info!("the demo fleet is up");
            } else {
                tracing::warn!(
                    ?failed,
                    "the demo fleet is up, but some caches failed to start"
                );
            }
            return Ok(());
        }
        tokio::time::sleep(UP_POLL).await;
    }
}
