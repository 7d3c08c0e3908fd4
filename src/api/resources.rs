//! Azure Resource Manager's calls: subscriptions, caches, their firewall
//! rules, links, keys, export and import, and Azure Monitor's metrics.

use georep_core::arm::{
    AccessKeys, ExportParameters, FirewallRuleResource, ImportParameters,
    LinkedServerCreateParameters, LinkedServerCreateProperties, LinkedServerResource,
    MetricsResponse, RedisResource, RedisUpdateParameters, Subscription,
};
use georep_core::link::FailoverKind;
use georep_core::metrics::GeoMetric;
use georep_core::model::{Cache, FirewallRule, ServerRole};
use georep_core::CacheId;
use serde::Serialize;

use super::{Api, ApiError, METRICS_API_VERSION, REDIS_API_VERSION, SUBSCRIPTIONS_API_VERSION};

/// `{}`, for POSTs without parameters (a struct, not `serde_json::json!`,
/// keeps `serde_json::Value` out of the console).
#[derive(Serialize)]
pub(super) struct EmptyBody {}

impl Api {
    /// `GET /subscriptions`.
    pub async fn list_subscriptions(&self) -> Result<Vec<Subscription>, ApiError> {
        let url = format!("/subscriptions?api-version={SUBSCRIPTIONS_API_VERSION}");
        self.get_all(&url).await
    }

    /// A cheap call that tells whether the backend is up and accepts us.
    pub async fn ping(&self) -> Result<(), ApiError> {
        self.list_subscriptions().await.map(drop)
    }

    /// `GET /subscriptions/{sub}/providers/Microsoft.Cache/redis`.
    pub async fn list_caches(&self, subscription: &str) -> Result<Vec<RedisResource>, ApiError> {
        let url = format!(
            "/subscriptions/{subscription}/providers/Microsoft.Cache/redis?api-version={REDIS_API_VERSION}"
        );
        self.get_all(&url).await
    }

    /// `GET {cache}`.
    pub async fn get_cache(&self, id: &CacheId) -> Result<RedisResource, ApiError> {
        self.get(&redis_url(id, "")).await
    }

    /// `GET {cache}/firewallRules`, as the rules' model.
    pub async fn firewall_rules(&self, id: &CacheId) -> Result<Vec<FirewallRule>, ApiError> {
        let rules: Vec<FirewallRuleResource> =
            self.get_all(&redis_url(id, "/firewallRules")).await?;
        Ok(rules
            .into_iter()
            .map(|r| FirewallRule {
                name: r.name,
                start_ip: r.properties.start_ip,
                end_ip: r.properties.end_ip,
            })
            .collect())
    }

    /// `GET {cache}/linkedServers`.
    pub async fn linked_servers(
        &self,
        id: &CacheId,
    ) -> Result<Vec<LinkedServerResource>, ApiError> {
        self.get_all(&redis_url(id, "/linkedServers")).await
    }

    /// with `serverRole: Secondary`. Long-running; the link starts `Creating`.
    pub async fn create_link(
        &self,
        primary: &CacheId,
        secondary: &Cache,
    ) -> Result<LinkedServerResource, ApiError> {
        let url = redis_url(primary, &format!("/linkedServers/{}", secondary.id.name));
        self.put(&url, &link_body(secondary, ServerRole::Secondary))
            .await
    }

    /// Fails over: the link created in reverse on the current geo-secondary,
    /// naming the current geo-primary as `Secondary` (what the Azure CLI
    /// does). The kind travels as the `x-georep-failover` query extension.
    pub async fn failover(
        &self,
        current_secondary: &CacheId,
        current_primary: &Cache,
        kind: FailoverKind,
    ) -> Result<LinkedServerResource, ApiError> {
        let kind = match kind {
            FailoverKind::Planned => "planned",
            FailoverKind::Forced => "forced",
        };
        let url = format!(
            "{}&x-georep-failover={kind}",
            redis_url(
                current_secondary,
                &format!("/linkedServers/{}", current_primary.id.name)
            )
        );
        self.put(&url, &link_body(current_primary, ServerRole::Secondary))
            .await
    }

    /// Unlinks: `DELETE {primary}/linkedServers/{secondary}`.
    pub async fn unlink(&self, primary: &CacheId, secondary: &CacheId) -> Result<(), ApiError> {
        self.delete(&redis_url(
            primary,
            &format!("/linkedServers/{}", secondary.name),
        ))
        .await
    }

    /// `POST {cache}/listKeys`.
    pub async fn list_keys(&self, id: &CacheId) -> Result<AccessKeys, ApiError> {
        self.post(&redis_url(id, "/listKeys"), &EmptyBody {}).await
    }

    /// `PATCH {cache}`.
    pub async fn update_cache(
        &self,
        id: &CacheId,
        update: &RedisUpdateParameters,
    ) -> Result<RedisResource, ApiError> {
        self.patch(&redis_url(id, ""), update).await
    }

    /// `POST {cache}/export`: one RDB file per shard into `container`.
    pub async fn export(&self, id: &CacheId, params: &ExportParameters) -> Result<(), ApiError> {
        self.post(&redis_url(id, "/export"), params).await
    }

    /// `POST {cache}/import`: the files a previous export wrote.
    pub async fn import(&self, id: &CacheId, params: &ImportParameters) -> Result<(), ApiError> {
        self.post(&redis_url(id, "/import"), params).await
    }

    /// `DELETE {cache}`.
    pub async fn delete_cache(&self, id: &CacheId) -> Result<(), ApiError> {
        self.delete(&redis_url(id, "")).await
    }

    /// The geo-replication metrics of a cache over the last `timespan`
    /// (an ISO 8601 duration ending now, so the browser's clock doesn't
    /// matter), one point per `interval`, with these `aggregations`: Azure
    /// Monitor's query shape.
    pub async fn geo_metrics(
        &self,
        id: &CacheId,
        timespan: &str,
        interval: &str,
        aggregations: &str,
    ) -> Result<MetricsResponse, ApiError> {
        let names: Vec<&str> = GeoMetric::ALL.iter().map(|m| m.name()).collect();
        let url = format!(
            "{id}/providers/Microsoft.Insights/metrics?api-version={METRICS_API_VERSION}&metricnames={}&timespan={timespan}&interval={interval}&aggregation={aggregations}",
            names.join(","),
        );
        self.get(&url).await
    }
}

/// The URL of a cache resource, or of something under it (`suffix`).
pub fn redis_url(id: &CacheId, suffix: &str) -> String {
    format!("{id}{suffix}?api-version={REDIS_API_VERSION}")
}

pub(super) fn link_body(linked: &Cache, role: ServerRole) -> LinkedServerCreateParameters {
    LinkedServerCreateParameters {
        properties: LinkedServerCreateProperties {
            linked_redis_cache_id: linked.id.to_string(),
            linked_redis_cache_location: linked.location.clone(),
            server_role: role,
        },
    }
}
