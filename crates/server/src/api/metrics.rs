//! `GET …/redis/{cache}/providers/Microsoft.Insights/metrics`: a cache's
//! geo-replication metrics in Azure Monitor's shape.
//!
//! Both caches of a link serve the link's series (the guide's metrics are
//! each emitted by one side; here every sample reads both). A cache that
//! isn't linked has the metrics, with no data.

use axum::extract::{Query, State};
use axum::Json;
use georep_core::arm::MetricsResponse;
use serde::Deserialize;
use time::OffsetDateTime;

use super::extract::CachePath;
use super::ApiError;
use crate::control::app::SharedApp;
use crate::dataplane::sampler::MetricsQuery;

/// The Azure Monitor metrics api-versions accepted.
pub const MONITOR_API_VERSIONS: [&str; 5] = [
    "2018-01-01",
    "2019-07-01",
    "2021-05-01",
    "2023-10-01",
    "2024-02-01",
];

/// The namespace of the metrics served.
const NAMESPACE: &str = "Microsoft.Cache/redis";

/// Azure Monitor's query parameters; others are ignored.
#[derive(Deserialize)]
pub struct MetricsParams {
    #[serde(rename = "api-version")]
    api_version: Option<String>,
    metricnames: Option<String>,
    timespan: Option<String>,
    interval: Option<String>,
    aggregation: Option<String>,
    metricnamespace: Option<String>,
}

/// The handler.
pub async fn query(
    State(app): State<SharedApp>,
    CachePath(id): CachePath,
    params: Result<Query<MetricsParams>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<MetricsResponse>, ApiError> {
    let Query(params) = params?;
    check_api_version(params.api_version.as_deref())?;
    if let Some(namespace) = params.metricnamespace.as_deref() {
        if !namespace.trim().eq_ignore_ascii_case(NAMESPACE) {
            return Err(ApiError::invalid(
                "metricnamespace",
                format!("Unknown metric namespace '{namespace}'; the only one is {NAMESPACE}."),
            ));
        }
    }
    let query = MetricsQuery::parse(
        params.metricnames.as_deref(),
        params.timespan.as_deref(),
        params.interval.as_deref(),
        params.aggregation.as_deref(),
        OffsetDateTime::now_utc(),
    )?;
    let cache = app.cache(&id)?;
    let link = app.store.link_of(&id)?;
    Ok(Json(app.monitor.query(
        link.as_ref().map(|l| l.key()).as_deref(),
        &query,
        &cache.id.to_string(),
        &cache.location,
    )))
}

fn check_api_version(version: Option<&str>) -> Result<(), ApiError> {
    let version = version.ok_or(ApiError::MissingApiVersion)?;
    if MONITOR_API_VERSIONS.contains(&version) {
        return Ok(());
    }
    Err(ApiError::bad_request(
        "InvalidApiVersionParameter",
        format!(
            "The api-version '{version}' is not supported for metrics. Supported versions: {}.",
            MONITOR_API_VERSIONS.join(", ")
        ),
    ))
}
