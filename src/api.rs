//! Every HTTP call the console makes, in one place.
//!
//! The backend speaks Azure Resource Manager's `Microsoft.Cache/redis` API, so
//! URLs are built from ARM resource ids. Every request carries
//! `Authorization: Bearer <token>`; where the token comes from is
//! [`crate::session`]'s job.

use std::fmt;
use std::future::Future;
use std::pin::Pin;

use futures::future::join_all;
use georep_core::arm::{
    AccessKeys, ExportParameters, FirewallRuleResource, ImportParameters,
    LinkedServerCreateParameters, LinkedServerCreateProperties, LinkedServerResource, ListResult,
    MetricsResponse, RedisResource, RedisUpdateParameters, Subscription,
};
use georep_core::link::FailoverKind;
use georep_core::live::TimelineEntry;
use georep_core::metrics::GeoMetric;
use georep_core::model::{Cache, FirewallRule, ServerRole, SkuName};
use georep_core::CacheId;
use gloo_net::http::{Method, RequestBuilder, Response};
use serde::de::DeserializeOwned;
use serde::Serialize;
use wasm_bindgen::{JsCast, JsValue};

use crate::features::drills::wire::{Drill, DrillRequest, FaultRequest, Faults, Verification};
use crate::model::{CacheEntry, Fleet};

/// ARM api-version for subscription calls.
pub const SUBSCRIPTIONS_API_VERSION: &str = "2022-12-01";
/// ARM api-version for `Microsoft.Cache/redis` calls.
pub const REDIS_API_VERSION: &str = georep_core::names::API_VERSION;
/// Azure Monitor api-version for metrics.
pub const METRICS_API_VERSION: &str = "2023-10-01";

/// How a call failed, in the terms the UI needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ApiError {
    /// The backend could not be reached at all (network error, server down).
    Unreachable(String),
    /// The backend answered with an ARM error body (or a bare status).
    Arm {
        /// HTTP status.
        status: u16,
        /// ARM error code, e.g. `LinkedCacheCannotBeScaled`.
        code: String,
        /// ARM's human message, shown as is.
        message: String,
    },
    /// The backend answered 2xx with a body the console could not read.
    Decode(String),
}

impl ApiError {
    /// Whether the backend itself is down, as opposed to refusing a request.
    pub fn is_unreachable(&self) -> bool {
        matches!(self, ApiError::Unreachable(_))
    }
}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ApiError::Unreachable(why) => write!(f, "The backend is unreachable: {why}"),
            ApiError::Arm { message, code, .. } if message.is_empty() => f.write_str(code),
            ApiError::Arm { message, .. } => f.write_str(message),
            ApiError::Decode(why) => write!(f, "Unexpected response from the backend: {why}"),
        }
    }
}

/// `{}`, for POSTs without parameters (a struct, not `serde_json::json!`,
/// keeps `serde_json::Value` out of the console).
#[derive(Serialize)]
struct EmptyBody {}

/// `{"link": …}`, naming a link by its linked-server id.
#[derive(Serialize)]
struct LinkBody<'a> {
    link: &'a str,
}

/// A ticket for the live event stream.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct EventsTicket {
    /// The stream's path with the ticket, for `EventSource`.
    pub url: String,
}

/// The backend's address and the caller's token.
///
/// Cheap to clone; every page holds one through [`crate::state::AppState`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Api {
    base: String,
    token: Option<String>,
}

impl Api {
    /// A client for `base` (no trailing slash needed) with an optional token.
    pub fn new(base: impl Into<String>, token: Option<String>) -> Self {
        let base = base.into().trim_end_matches('/').to_owned();
        Self { base, token }
    }

    /// The client the page was opened for: the backend and token of the
    /// browser's session (see [`crate::session`]).
    pub fn from_browser() -> Self {
        let session = crate::session::from_browser();
        Self::new(session.base, session.token)
    }

    /// The backend's base URL.
    pub fn base(&self) -> &str {
        &self.base
    }

    /// Whether a token is known.
    pub fn has_token(&self) -> bool {
        self.token.is_some()
    }

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

    /// One cache with its linked servers, and the firewall rules `known`
    /// has for it (see [`Api::with_firewall_rules`]).
    pub async fn load_entry(
        &self,
        resource: RedisResource,
        known: &Fleet,
    ) -> Result<Option<CacheEntry>, ApiError> {
        let Ok(id) = resource.id.parse::<CacheId>() else {
            return Ok(None);
        };
        let links = if resource.properties.linked_servers.is_empty() {
            Vec::new()
        } else {
            self.linked_servers(&id).await?
        };
        let rules = known
            .get(&id)
            .map(|e| e.cache.firewall_rules.clone())
            .unwrap_or_default();
        Ok(CacheEntry::new(resource, rules, links))
    }

    /// Every cache in every subscription, joined with its linked servers:
    /// what the lists need, in one request per subscription and one per
    /// linked cache. Firewall rules are carried over from `known` (a
    /// previous load) and fetched by [`Api::with_firewall_rules`], so a
    /// thousand caches show without a thousand requests first.
    pub async fn load_fleet_quick(&self, known: &Fleet) -> Result<Fleet, ApiError> {
        let subscriptions = self.list_subscriptions().await?;
        let mut lists: Vec<Vec<RedisResource>> = slots(subscriptions.len());
        all(lists.iter_mut().zip(&subscriptions).map(|(list, s)| {
            Box::pin(async move {
                *list = self.list_caches(&s.subscription_id).await?;
                Ok(())
            }) as Step<'_>
        }))
        .await?;
        let resources: Vec<RedisResource> = lists.into_iter().flatten().collect();
        let mut entries: Vec<Option<CacheEntry>> = slots(resources.len());
        all(entries.iter_mut().zip(resources).map(|(entry, r)| {
            Box::pin(async move {
                *entry = self.load_entry(r, known).await?;
                Ok(())
            }) as Step<'_>
        }))
        .await?;
        Ok(Fleet::new(entries.into_iter().flatten().collect()))
    }

    /// `fleet` with the firewall rules of its Premium caches. Only Premium
    /// caches geo-replicate, and the rules only matter to linking and
    /// failover (the checks compare them), so the others are not asked.
    pub async fn with_firewall_rules(&self, fleet: Fleet) -> Result<Fleet, ApiError> {
        let mut caches = fleet.caches;
        all(caches
            .iter_mut()
            .filter(|e| e.cache.sku.name == SkuName::Premium)
            .map(|entry| {
                Box::pin(async move {
                    entry.cache.firewall_rules = self.firewall_rules(entry.id()).await?;
                    Ok(())
                }) as Step<'_>
            }))
        .await?;
        Ok(Fleet::new(caches))
    }

    /// Every cache in every subscription, joined with its firewall rules and
    /// linked servers.
    pub async fn load_fleet(&self) -> Result<Fleet, ApiError> {
        let fleet = self.load_fleet_quick(&Fleet::default()).await?;
        self.with_firewall_rules(fleet).await
    }

    /// Links `secondary` to `primary`: `PUT {primary}/linkedServers/{secondary}`
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

    /// `POST /x-georep/events/ticket`: a single-use ticket for the live
    /// event stream (`EventSource` can't send the token).
    pub async fn events_ticket(&self) -> Result<EventsTicket, ApiError> {
        self.post("/x-georep/events/ticket", &EmptyBody {}).await
    }

    /// `GET /x-georep/timeline?link={linkedServerId}`: a link's steps,
    /// oldest first, named from either side.
    pub async fn timeline(&self, linked_server_id: &str) -> Result<Vec<TimelineEntry>, ApiError> {
        let url = format!(
            "/x-georep/timeline?link={}",
            String::from(js_sys::encode_uri_component(linked_server_id))
        );
        self.get_all(&url).await
    }

    /// `POST /x-georep/verify`: whether the link's two sides hold the same
    /// data.
    pub async fn verify(&self, link: &str) -> Result<Verification, ApiError> {
        self.post("/x-georep/verify", &LinkBody { link }).await
    }

    /// `GET /x-georep/faults?link=…`: the faults active on a link.
    pub async fn faults(&self, link: &str) -> Result<Faults, ApiError> {
        self.get(&format!("/x-georep/faults?link={}", encode(link)))
            .await
    }

    /// `POST /x-georep/faults`: injects (or undoes) a fault on purpose.
    pub async fn inject_fault(&self, fault: &FaultRequest) -> Result<Faults, ApiError> {
        self.post("/x-georep/faults", fault).await
    }

    /// `POST /x-georep/drills`: starts a drill; it answers at once, running.
    pub async fn start_drill(&self, drill: &DrillRequest) -> Result<Drill, ApiError> {
        self.post("/x-georep/drills", drill).await
    }

    /// `GET /x-georep/drills/{id}`.
    pub async fn drill(&self, id: &str) -> Result<Drill, ApiError> {
        self.get(&format!("/x-georep/drills/{}", encode(id))).await
    }

    /// `GET /x-georep/drills?link=…`: a link's drills, newest first.
    pub async fn drills(&self, link: &str) -> Result<Vec<Drill>, ApiError> {
        self.get_all(&format!("/x-georep/drills?link={}", encode(link)))
            .await
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

    /// Every page of an ARM list.
    pub async fn get_all<T: DeserializeOwned>(&self, path: &str) -> Result<Vec<T>, ApiError> {
        let mut items = Vec::new();
        self.each_page(path, &mut |page| {
            let page: ListResult<T> = read(page)?;
            items.extend(page.value);
            Ok(page.next_link)
        })
        .await?;
        Ok(items)
    }

    /// `GET` a JSON resource.
    pub async fn get<T: DeserializeOwned>(&self, path: &str) -> Result<T, ApiError> {
        read(self.call(Method::GET, path, None).await?)
    }

    /// `PUT` a JSON body and read the resource back.
    pub async fn put<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ApiError> {
        read(self.call(Method::PUT, path, Some(json(body)?)).await?)
    }

    /// `PATCH` a JSON body and read the resource back.
    pub async fn patch<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ApiError> {
        read(self.call(Method::PATCH, path, Some(json(body)?)).await?)
    }

    /// `POST` a JSON body and read the answer.
    pub async fn post<B: Serialize, T: DeserializeOwned>(
        &self,
        path: &str,
        body: &B,
    ) -> Result<T, ApiError> {
        read(self.call(Method::POST, path, Some(json(body)?)).await?)
    }

    /// `DELETE` a resource; 200, 202 and 204 all count as accepted.
    pub async fn delete(&self, path: &str) -> Result<(), ApiError> {
        self.send(Method::DELETE, path, None).await.map(drop)
    }

    /// Where the server serves its local CA's certificate, which TLS clients
    /// of the caches check them against. Public: a plain link downloads it.
    pub fn ca_certificate_url(&self) -> String {
        self.url("/x-georep/ca.pem")
    }

    /// The absolute URL of `path`, which is either already absolute (ARM's
    /// `nextLink`) or relative to the backend's base.
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("http://") || path.starts_with("https://") {
            path.to_owned()
        } else {
            format!("{}{path}", self.base)
        }
    }

    /// Pages through an ARM list from `path`: `take` reads each page and
    /// says where the next one is. Not generic, so the requests' code is
    /// compiled once for every item type (README, console size notes).
    async fn each_page(
        &self,
        path: &str,
        take: &mut dyn FnMut(JsValue) -> Result<Option<String>, ApiError>,
    ) -> Result<(), ApiError> {
        let mut next = Some(path.to_owned());
        while let Some(url) = next.take() {
            next = take(self.call(Method::GET, &url, None).await?)?;
        }
        Ok(())
    }

    /// One request with an optional JSON body, answered with its body as
    /// the browser parsed it.
    async fn call(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Result<JsValue, ApiError> {
        decode(self.send(method, path, body).await?).await
    }

    async fn send(
        &self,
        method: Method,
        path: &str,
        body: Option<String>,
    ) -> Result<Response, ApiError> {
        let mut builder = RequestBuilder::new(&self.url(path))
            .method(method)
            .header("Accept", "application/json");
        if let Some(token) = &self.token {
            builder = builder.header("Authorization", &format!("Bearer {token}"));
        }
        let request = match body {
            Some(body) => builder
                .header("Content-Type", "application/json")
                .body(body),
            None => builder.build(),
        }
        .map_err(|e| ApiError::Decode(e.to_string()))?;
        let response = request
            .send()
            .await
            .map_err(|e| ApiError::Unreachable(e.to_string()))?;
        if response.ok() {
            Ok(response)
        } else {
            Err(error_from(response).await)
        }
    }
}

/// Requests run side by side, each writing its answer where it belongs;
/// the first failure in their order is the answer. One future type for
/// every caller, so `join_all` is compiled once.
type Step<'a> = Pin<Box<dyn Future<Output = Result<(), ApiError>> + 'a>>;

fn slots<T: Default>(n: usize) -> Vec<T> {
    std::iter::repeat_with(T::default).take(n).collect()
}

async fn all<'a>(steps: impl IntoIterator<Item = Step<'a>>) -> Result<(), ApiError> {
    join_all(steps).await.into_iter().collect()
}

/// The URL of a cache resource, or of something under it (`suffix`).
pub fn redis_url(id: &CacheId, suffix: &str) -> String {
    format!("{id}{suffix}?api-version={REDIS_API_VERSION}")
}

/// `value` as one URL query or path component.
fn encode(value: &str) -> String {
    js_sys::encode_uri_component(value).into()
}

fn link_body(linked: &Cache, role: ServerRole) -> LinkedServerCreateParameters {
    LinkedServerCreateParameters {
        properties: LinkedServerCreateProperties {
            linked_redis_cache_id: linked.id.to_string(),
            linked_redis_cache_location: linked.location.clone(),
            server_role: role,
        },
    }
}

/// `body` as JSON, written by the browser's `JSON.stringify` (so the wasm
/// carries no JSON writer either): the same text as serde_json's, `None`
/// as `null` and maps as objects.
fn json<B: Serialize>(body: &B) -> Result<String, ApiError> {
    let serializer = serde_wasm_bindgen::Serializer::json_compatible();
    let value = body
        .serialize(&serializer)
        .map_err(|e| ApiError::Decode(e.to_string()))?;
    js_sys::JSON::stringify(&value)
        .map(String::from)
        .map_err(|_| ApiError::Decode("not JSON".to_owned()))
}

/// A response's body as the browser's `JSON.parse` reads it.
async fn decode(response: Response) -> Result<JsValue, ApiError> {
    let text = response
        .text()
        .await
        .map_err(|e| ApiError::Decode(e.to_string()))?;
    // Long-running operations may answer 202 with no body; let `T = ()`
    // and `Option<_>` callers accept that.
    let text = if text.trim().is_empty() {
        "null"
    } else {
        &text
    };
    parse(text).map_err(ApiError::Decode)
}

/// Reads a parsed answer as a `T`.
fn read<T: DeserializeOwned>(value: JsValue) -> Result<T, ApiError> {
    serde_wasm_bindgen::from_value(value).map_err(|e| ApiError::Decode(e.to_string()))
}

/// Reads JSON `text` as a `T`: the browser's `JSON.parse`, then serde over
/// the parsed value, so the wasm carries no JSON parser of its own (see
/// README's console size notes).
pub fn from_json<T: DeserializeOwned>(text: &str) -> Result<T, String> {
    serde_wasm_bindgen::from_value(parse(text)?).map_err(|e| e.to_string())
}

fn parse(text: &str) -> Result<JsValue, String> {
    js_sys::JSON::parse(text).map_err(|e| {
        e.dyn_ref::<js_sys::Error>()
            .map_or_else(|| "not JSON".to_owned(), |e| e.message().into())
    })
}

async fn error_from(response: Response) -> ApiError {
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    match from_json::<georep_core::arm::ErrorResponse>(&text) {
        Ok(body) => ApiError::Arm {
            status,
            code: body.error.code,
            message: body.error.message,
        },
        Err(_) => ApiError::Arm {
            status,
            code: format!("Http{status}"),
            message: format!("{} {}", status, response.status_text()),
        },
    }
}

#[cfg(all(test, target_arch = "wasm32"))]
mod tests {
    use super::*;
    use wasm_bindgen_test::wasm_bindgen_test;

    /// A cache as Azure returns it, with a field the console doesn't know,
    /// a map, nulls, and numbers of several kinds.
    const CACHE: &str = r#"{
        "id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Cache/Redis/a",
        "name": "a", "type": "Microsoft.Cache/Redis", "location": "West Europe",
        "tags": {"team": "x"},
        "properties": {
            "sku": {"name": "Premium", "family": "P", "capacity": 1},
            "redisVersion": "6.0.14", "provisioningState": "Succeeded",
            "hostName": "a.redis.cache.windows.net", "port": 6379, "sslPort": 6380,
            "enableNonSslPort": false, "replicasPerMaster": 1, "accessKeys": null,
            "redisConfiguration": {"rdb-backup-enabled": "true", "maxmemory-reserved": "30"},
            "linkedServers": [{"id": "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Cache/Redis/a/linkedServers/b"}],
            "instances": [{"sslPort": 15000, "isMaster": true, "isPrimary": true}],
            "someFutureField": {"x": 1.5}
        }
    }"#;

    #[wasm_bindgen_test]
    fn answers_read_as_serde_json_reads_them() {
        let ours: RedisResource = from_json(CACHE).unwrap();
        let theirs: RedisResource = serde_json::from_str(CACHE).unwrap();
        assert_eq!(ours, theirs);
        assert_eq!(ours.properties.linked_servers.len(), 1);

        let timeline = r#"{"value": [{"id": 9007199254740991, "time": "2026-12-01T10:00:00Z",
            "kind": "Promoted", "message": "m", "primary": "p", "secondary": "s"}]}"#;
        let ours: ListResult<TimelineEntry> = from_json(timeline).unwrap();
        let theirs: ListResult<TimelineEntry> = serde_json::from_str(timeline).unwrap();
        assert_eq!(ours.value, theirs.value);
        assert_eq!(ours.value[0].id, 9_007_199_254_740_991);
    }

    #[wasm_bindgen_test]
    fn bodies_are_written_as_serde_json_writes_them() {
        use crate::features::drills::wire::{DrillKind, FaultKind};
        use georep_core::arm::{RedisConfiguration, RedisUpdateProperties};
        use georep_core::model::Sku;

        fn same<B: Serialize>(body: &B) {
            assert_eq!(json(body).unwrap(), serde_json::to_string(body).unwrap());
        }
        let cache: RedisResource = from_json(CACHE).unwrap();
        same(&link_body(
            &CacheEntry::new(cache, Vec::new(), Vec::new())
                .unwrap()
                .cache,
            ServerRole::Secondary,
        ));
        same(&EmptyBody {});
        same(&LinkBody {
            link: "a/linkedServers/b",
        });
        same(&RedisUpdateParameters {
            tags: Some([("team".to_owned(), "x".to_owned())].into()),
            properties: Some(RedisUpdateProperties {
                sku: Some(Sku::premium(2)),
                redis_configuration: Some(RedisConfiguration {
                    rdb_backup_enabled: Some("true".to_owned()),
                    ..Default::default()
                }),
                enable_non_ssl_port: Some(false),
                ..Default::default()
            }),
        });
        same(&RedisUpdateParameters::default());
        same(&ExportParameters {
            prefix: "p".to_owned(),
            container: "c".to_owned(),
            format: None,
        });
        same(&DrillRequest {
            link: "l".to_owned(),
            kind: DrillKind::Forced,
            seconds: 5,
            failback: true,
        });
        same(&FaultRequest::new("l", FaultKind::KillNode));
    }

    #[wasm_bindgen_test]
    fn what_is_not_json_or_not_the_type_is_an_error() {
        assert!(from_json::<RedisResource>("<html>").is_err());
        assert!(from_json::<RedisResource>(r#"{"name": 1}"#).is_err());
        assert_eq!(from_json::<Option<u32>>("null"), Ok(None));
    }
}
