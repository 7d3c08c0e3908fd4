//! Azure Monitor's metrics response.

use serde::{Deserialize, Serialize};

/// Azure Monitor's response to a metrics query.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricsResponse {
    /// Always 0 here.
    pub cost: u32,
    /// `start/end` in ISO 8601.
    pub timespan: String,
    /// The grain, e.g. `PT1M`.
    pub interval: String,
    /// One entry per metric asked for.
    pub value: Vec<Metric>,
    /// `Microsoft.Cache/redis`.
    pub namespace: String,
    /// The cache's region.
    pub resourceregion: String,
}

/// One metric's series.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Metric {
    /// The metric's id under the resource.
    pub id: String,
    /// `Microsoft.Insights/metrics`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Its name.
    pub name: LocalizableString,
    /// Its unit, e.g. `Bytes`.
    pub unit: String,
    /// The series; we emit one, with no dimensions.
    pub timeseries: Vec<TimeSeries>,
}

/// A name with its display form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LocalizableString {
    /// The invariant name.
    pub value: String,
    /// The display name.
    pub localized_value: String,
}

/// One dimension value of a series, in Azure Monitor's shape (a typed
/// struct rather than `serde_json::Value`, which would bring a JSON value
/// parser into the console's wasm).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct MetadataValue {
    /// The dimension, e.g. `ShardId`.
    pub name: LocalizableString,
    /// Its value for this series.
    pub value: String,
}

/// One series of data points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TimeSeries {
    /// Dimension values; none here.
    #[serde(default)]
    pub metadatavalues: Vec<MetadataValue>,
    /// The points, oldest first.
    pub data: Vec<MetricValue>,
}

/// One aggregated data point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MetricValue {
    /// The start of the interval (RFC 3339).
    pub time_stamp: String,
    /// The mean over the interval.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub average: Option<f64>,
    /// The smallest sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum: Option<f64>,
    /// The largest sample.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub maximum: Option<f64>,
    /// The sum of the samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total: Option<f64>,
    /// How many samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub count: Option<f64>,
}
