//! Azure Monitor's metrics query: parsing its parameters and aggregating
//! samples into its response shape.
//!
//! `GET …/providers/Microsoft.Insights/metrics?metricnames=…&timespan=…&interval=…&aggregation=…`
//! - `metricnames`: comma-separated; default every geo-replication metric.
//! - `timespan`: `start/end` (ISO 8601 / RFC 3339), `start/duration`, or a
//!   duration ending now (`PT1H`); default the last hour.
//! - `interval`: an ISO 8601 duration (`PT1S`, `PT1M`, `PT5M`, `PT1H`, `P1D`)
//!   or `FULL` for one point; default `PT1M`.
//! - `aggregation`: comma-separated of `average`, `minimum`, `maximum`,
//!   `total`, `count`; default all five.

use georep_core::arm::{LocalizableString, Metric, MetricValue, MetricsResponse, TimeSeries};
use georep_core::metrics::{GeoMetric, Unit};
use thiserror::Error;
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use super::Sample;

/// The most points one series may have.
pub const MAX_POINTS: i64 = 10_000;

/// Why a metrics query is refused (a 400 for the API).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum QueryError {
    /// Not a geo-replication metric.
    #[error("Unknown metric name '{0}'. Valid names: GeoReplicationHealthy, GeoReplicationConnectivityLag, GeoReplicationDataSyncOffset, GeoReplicationFullSyncEventStarted, GeoReplicationFullSyncEventFinished.")]
    UnknownMetric(String),
    /// The timespan is not `start/end`, `start/duration` or a duration.
    #[error("Invalid timespan '{0}': expected 'start/end' in ISO 8601, e.g. 2024-05-01T10:00:00Z/2024-05-01T11:00:00Z.")]
    BadTimespan(String),
    /// The interval is not an ISO 8601 duration of at least a second, nor `FULL`.
    #[error("Invalid interval '{0}': expected an ISO 8601 duration such as PT1M, or FULL.")]
    BadInterval(String),
    /// An aggregation we do not know.
    #[error("Invalid aggregation '{0}': expected average, minimum, maximum, total or count.")]
    BadAggregation(String),
    /// The timespan holds more intervals than one response may.
    #[error("The query asks for {points} points per series; at most {MAX_POINTS} are allowed. Use a shorter timespan or a longer interval.")]
    TooManyPoints {
        /// How many the query would produce.
        points: i64,
    },
}

/// How samples are grouped in time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interval {
    /// Fixed-size intervals, aligned to multiples of their size since the epoch.
    Every(Duration),
    /// One interval covering the whole timespan.
    Full,
}

/// One of Azure Monitor's aggregations.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Aggregation {
    /// The mean.
    Average,
    /// The smallest sample.
    Minimum,
    /// The largest sample.
    Maximum,
    /// The sum.
    Total,
    /// How many samples.
    Count,
}

impl Aggregation {
    /// All five, in Azure's order.
    pub const ALL: [Aggregation; 5] = [
        Aggregation::Average,
        Aggregation::Minimum,
        Aggregation::Maximum,
        Aggregation::Total,
        Aggregation::Count,
    ];

    fn parse(name: &str) -> Option<Aggregation> {
        Some(match name.trim().to_ascii_lowercase().as_str() {
            "average" | "avg" | "mean" => Aggregation::Average,
            "minimum" | "min" => Aggregation::Minimum,
            "maximum" | "max" => Aggregation::Maximum,
            "total" | "sum" => Aggregation::Total,
            "count" => Aggregation::Count,
            _ => return None,
        })
    }
}

/// A parsed metrics query.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricsQuery {
    /// The metrics, in the order asked.
    pub metrics: Vec<GeoMetric>,
    /// The start of the timespan (inclusive).
    pub start: OffsetDateTime,
    /// The end of the timespan (exclusive).
    pub end: OffsetDateTime,
    /// The grain.
    pub interval: Interval,
    /// The aggregations to fill in.
    pub aggregations: Vec<Aggregation>,
}

impl MetricsQuery {
    /// Parses the query parameters as Azure Monitor takes them; `None` takes
    /// the default. `now` ends default and duration-only timespans.
    pub fn parse(
        metricnames: Option<&str>,
        timespan: Option<&str>,
        interval: Option<&str>,
        aggregation: Option<&str>,
        now: OffsetDateTime,
    ) -> Result<MetricsQuery, QueryError> {
        let metrics = match non_empty(metricnames) {
            None => GeoMetric::ALL.to_vec(),
            Some(names) => names
                .split(',')
                .map(|name| {
                    GeoMetric::from_name(name)
                        .ok_or_else(|| QueryError::UnknownMetric(name.trim().into()))
                })
                .collect::<Result<_, _>>()?,
        };
        let now = whole_seconds(now);
        let (start, end) = match non_empty(timespan) {
            None => (now - Duration::HOUR, now),
            Some(text) => parse_timespan(text, now)?,
        };
        let interval = match non_empty(interval) {
            None => Interval::Every(Duration::MINUTE),
            Some(text) if text.trim().eq_ignore_ascii_case("FULL") => Interval::Full,
            Some(text) => match parse_duration(text) {
                Some(d) if d >= Duration::SECOND => Interval::Every(d),
                _ => return Err(QueryError::BadInterval(text.into())),
            },
        };
        let aggregations = match non_empty(aggregation) {
            None => Aggregation::ALL.to_vec(),
            Some(names) => names
                .split(',')
                .map(|name| {
                    Aggregation::parse(name)
                        .ok_or_else(|| QueryError::BadAggregation(name.trim().into()))
                })
                .collect::<Result<_, _>>()?,
        };
        let query = MetricsQuery {
            metrics,
            start,
            end,
            interval,
            aggregations,
        };
        let points = query.points();
        if points > MAX_POINTS {
            return Err(QueryError::TooManyPoints { points });
        }
        Ok(query)
    }

    /// The interval's length.
    fn step(&self) -> Duration {
        match self.interval {
            Interval::Every(step) => step,
            Interval::Full => (self.end - self.start).max(Duration::SECOND),
        }
    }

    /// The first interval's start: the timespan's start, rounded down to a
    /// multiple of the interval (Azure aligns points to the grain).
    fn first_bucket(&self) -> OffsetDateTime {
        match self.interval {
            Interval::Full => self.start,
            Interval::Every(step) => {
                let step = step.whole_seconds().max(1);
                let start = self.start.unix_timestamp();
                let aligned = start - start.rem_euclid(step);
                OffsetDateTime::from_unix_timestamp(aligned).unwrap_or(self.start)
            }
        }
    }

    /// How many points each series has.
    fn points(&self) -> i64 {
        if self.end <= self.start {
            return 0;
        }
        let span = (self.end - self.first_bucket()).whole_seconds();
        let step = self.step().whole_seconds().max(1);
        (span + step - 1) / step
    }
}

/// Aggregates `samples` (in time order) into Azure Monitor's response for
/// the resource `resource_id` in `region`.
pub fn build_response(
    samples: &[Sample],
    query: &MetricsQuery,
    resource_id: &str,
    region: &str,
) -> MetricsResponse {
    let in_span_from = samples.partition_point(|s| s.time < query.start);
    let in_span_to = samples.partition_point(|s| s.time < query.end);
    let samples = &samples[in_span_from..in_span_to.max(in_span_from)];
    let step = query.step();
    let first = query.first_bucket();
    let points = query.points();

    let value = query
        .metrics
        .iter()
        .map(|&metric| {
            let mut data = Vec::with_capacity(usize::try_from(points).unwrap_or(0));
            let mut rest = samples;
            for i in 0..points {
                let bucket_start = first + step * i32::try_from(i).unwrap_or(i32::MAX);
                let bucket_end = bucket_start + step;
                let split = rest.partition_point(|s| s.time < bucket_end);
                let (bucket, after) = rest.split_at(split);
                rest = after;
                data.push(aggregate(
                    bucket.iter().map(|s| s.value(metric)),
                    bucket_start,
                    &query.aggregations,
                ));
            }
            Metric {
                id: format!(
                    "{resource_id}/providers/Microsoft.Insights/metrics/{}",
                    metric.name()
                ),
                kind: "Microsoft.Insights/metrics".into(),
                name: LocalizableString {
                    value: metric.name().into(),
                    localized_value: metric.display_name().into(),
                },
                unit: unit_name(metric.unit()).into(),
                timeseries: vec![TimeSeries {
                    metadatavalues: vec![],
                    data,
                }],
            }
        })
        .collect();

    MetricsResponse {
        cost: 0,
        timespan: format!("{}/{}", format_time(query.start), format_time(query.end)),
        interval: format_duration(step),
        value,
        namespace: "Microsoft.Cache/redis".into(),
        resourceregion: region.into(),
    }
}

/// One point: the requested aggregations of `values`, or only a timestamp
/// when the interval holds no sample (as Azure Monitor does).
fn aggregate(
    values: impl Iterator<Item = f64>,
    at: OffsetDateTime,
    wanted: &[Aggregation],
) -> MetricValue {
    let (mut count, mut total) = (0u64, 0.0);
    let (mut min, mut max) = (f64::INFINITY, f64::NEG_INFINITY);
    for v in values {
        count += 1;
        total += v;
        min = min.min(v);
        max = max.max(v);
    }
    let mut point = MetricValue {
        time_stamp: format_time(at),
        average: None,
        minimum: None,
        maximum: None,
        total: None,
        count: None,
    };
    if count == 0 {
        return point;
    }
    for aggregation in wanted {
        match aggregation {
            Aggregation::Average => point.average = Some(total / count as f64),
            Aggregation::Minimum => point.minimum = Some(min),
            Aggregation::Maximum => point.maximum = Some(max),
            Aggregation::Total => point.total = Some(total),
            Aggregation::Count => point.count = Some(count as f64),
        }
    }
    point
}

/// Azure Monitor's name for a unit.
pub fn unit_name(unit: Unit) -> &'static str {
    match unit {
        Unit::Count => "Count",
        Unit::Seconds => "Seconds",
        Unit::Bytes => "Bytes",
    }
}

/// `2024-05-01T10:00:00Z`.
fn format_time(time: OffsetDateTime) -> String {
    time.format(&Rfc3339).unwrap_or_default()
}

fn whole_seconds(time: OffsetDateTime) -> OffsetDateTime {
    time.replace_nanosecond(0).unwrap_or(time)
}

fn non_empty(text: Option<&str>) -> Option<&str> {
    text.map(str::trim).filter(|t| !t.is_empty())
}

/// `start/end`, `start/duration`, or `duration` (ending `now`).
fn parse_timespan(
    text: &str,
    now: OffsetDateTime,
) -> Result<(OffsetDateTime, OffsetDateTime), QueryError> {
    let bad = || QueryError::BadTimespan(text.into());
    let time = |t: &str| OffsetDateTime::parse(t.trim(), &Rfc3339).ok();
    let (start, end) = match text.split_once('/') {
        Some((start, end)) => {
            let start = time(start).ok_or_else(bad)?;
            let end = match time(end) {
                Some(end) => end,
                None => start + parse_duration(end).ok_or_else(bad)?,
            };
            (start, end)
        }
        None => (now - parse_duration(text).ok_or_else(bad)?, now),
    };
    if end <= start {
        return Err(bad());
    }
    Ok((start, end))
}

/// An ISO 8601 duration of days, hours, minutes and seconds: `P1D`, `PT1H30M`, `PT0.5S`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let upper = text.trim().to_ascii_uppercase();
    let rest = upper.strip_prefix('P')?;
    let (days, time) = match rest.split_once('T') {
        Some((days, time)) => (days, Some(time)),
        None => (rest, None),
    };
    let mut total = Duration::ZERO;
    let mut any = false;
    if !days.is_empty() {
        let (n, unit) = days.split_at(days.len() - 1);
        if unit != "D" {
            return None;
        }
        total += Duration::days(n.parse().ok()?);
        any = true;
    }
    if let Some(mut time) = time {
        if time.is_empty() {
            return None;
        }
        while !time.is_empty() {
            let at = time.find(['H', 'M', 'S'])?;
            let n: f64 = time[..at].parse().ok()?;
            if !n.is_finite() || n < 0.0 {
                return None;
            }
            total += match &time[at..=at] {
                "H" => Duration::seconds_f64(n * 3600.0),
                "M" => Duration::seconds_f64(n * 60.0),
                _ => Duration::seconds_f64(n),
            };
            time = &time[at + 1..];
            any = true;
        }
    }
    (any && total > Duration::ZERO).then_some(total)
}

/// `PT1M`, `PT1H`, `P1D`, `PT1H30M`: an interval as Azure Monitor writes it.
pub fn format_duration(duration: Duration) -> String {
    let mut seconds = duration.whole_seconds().max(0);
    let days = seconds / 86_400;
    seconds %= 86_400;
    let (hours, minutes, secs) = (seconds / 3600, seconds % 3600 / 60, seconds % 60);
    let mut text = String::from("P");
    if days > 0 {
        text += &format!("{days}D");
    }
    if hours + minutes + secs > 0 || days == 0 {
        text.push('T');
        if hours > 0 {
            text += &format!("{hours}H");
        }
        if minutes > 0 {
            text += &format!("{minutes}M");
        }
        if secs > 0 || hours + minutes == 0 {
            text += &format!("{secs}S");
        }
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    fn sample(time: OffsetDateTime, healthy: bool, offset: u64) -> Sample {
        Sample {
            time,
            healthy,
            connectivity_lag_seconds: 0.0,
            data_sync_offset_bytes: offset,
            full_sync_started: 0,
            full_sync_finished: 0,
            primary_reachable: true,
            secondary_reachable: true,
            full_sync_in_progress: false,
        }
    }

    fn now() -> OffsetDateTime {
        datetime!(2024-05-01 11:00:00.75 UTC)
    }

    #[test]
    fn defaults_are_every_metric_over_the_last_hour_per_minute() {
        let q = MetricsQuery::parse(None, None, None, None, now()).unwrap();
        assert_eq!(q.metrics, GeoMetric::ALL.to_vec());
        assert_eq!(q.start, datetime!(2024-05-01 10:00:00 UTC));
        assert_eq!(q.end, datetime!(2024-05-01 11:00:00 UTC));
        assert_eq!(q.interval, Interval::Every(Duration::MINUTE));
        assert_eq!(q.aggregations, Aggregation::ALL.to_vec());
        assert_eq!(q.points(), 60);
    }

    #[test]
    fn parses_azure_monitor_parameters() {
        let q = MetricsQuery::parse(
            Some("GeoReplicationHealthy, georeplicationdatasyncoffset"),
            Some("2024-05-01T10:00:00Z/2024-05-01T10:00:10Z"),
            Some("PT1S"),
            Some("Average,Maximum"),
            now(),
        )
        .unwrap();
        assert_eq!(
            q.metrics,
            vec![
                GeoMetric::GeoReplicationHealthy,
                GeoMetric::GeoReplicationDataSyncOffset
            ]
        );
        assert_eq!(q.points(), 10);
        assert_eq!(
            q.aggregations,
            vec![Aggregation::Average, Aggregation::Maximum]
        );

        let q = MetricsQuery::parse(None, Some("2024-05-01T10:00:00Z/PT30M"), None, None, now())
            .unwrap();
        assert_eq!(q.end, datetime!(2024-05-01 10:30:00 UTC));
        let q = MetricsQuery::parse(None, Some("PT5M"), Some("full"), None, now()).unwrap();
        assert_eq!(q.start, datetime!(2024-05-01 10:55:00 UTC));
        assert_eq!(q.points(), 1);
    }

    #[test]
    fn refuses_bad_parameters() {
        let parse = |m, t, i, a| MetricsQuery::parse(m, t, i, a, now());
        assert!(
            matches!(parse(Some("UsedMemory"), None, None, None), Err(QueryError::UnknownMetric(n)) if n == "UsedMemory")
        );
        assert!(matches!(
            parse(None, Some("yesterday"), None, None),
            Err(QueryError::BadTimespan(_))
        ));
        assert!(matches!(
            parse(
                None,
                Some("2024-05-01T11:00:00Z/2024-05-01T10:00:00Z"),
                None,
                None
            ),
            Err(QueryError::BadTimespan(_))
        ));
        assert!(matches!(
            parse(None, None, Some("PT0S"), None),
            Err(QueryError::BadInterval(_))
        ));
        assert!(matches!(
            parse(None, None, Some("PT0.5S"), None),
            Err(QueryError::BadInterval(_))
        ));
        assert!(matches!(
            parse(None, None, Some("1m"), None),
            Err(QueryError::BadInterval(_))
        ));
        assert!(matches!(
            parse(None, None, None, Some("median")),
            Err(QueryError::BadAggregation(_))
        ));
        assert!(matches!(
            parse(None, Some("P30D"), Some("PT1S"), None),
            Err(QueryError::TooManyPoints { .. })
        ));
    }

    #[test]
    fn durations_round_trip() {
        for (text, seconds) in [
            ("PT1S", 1),
            ("PT1M", 60),
            ("PT5M", 300),
            ("PT1H", 3600),
            ("PT1H30M", 5400),
            ("P1D", 86_400),
            ("P1DT2H", 93_600),
        ] {
            assert_eq!(
                parse_duration(text),
                Some(Duration::seconds(seconds)),
                "{text}"
            );
            assert_eq!(format_duration(Duration::seconds(seconds)), text);
        }
        assert_eq!(parse_duration("pt1m"), Some(Duration::MINUTE));
        for bad in ["", "P", "PT", "1M", "PT1X", "PTM", "P1H", "PT-1S"] {
            assert_eq!(parse_duration(bad), None, "{bad}");
        }
    }

    #[test]
    fn aggregates_samples_into_aligned_intervals() {
        let base = datetime!(2024-05-01 10:00:00 UTC);
        let samples: Vec<Sample> = (0..120)
            .map(|i| sample(base + Duration::seconds(i), i % 4 != 0, i as u64))
            .collect();
        // A timespan that starts mid-minute: points are still on the minute.
        let q = MetricsQuery::parse(
            None,
            Some("2024-05-01T10:00:30Z/2024-05-01T10:03:00Z"),
            Some("PT1M"),
            None,
            now(),
        )
        .unwrap();
        let response = build_response(
            &samples,
            &q,
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Cache/Redis/a",
            "westeurope",
        );
        assert_eq!(
            response.timespan,
            "2024-05-01T10:00:30Z/2024-05-01T10:03:00Z"
        );
        assert_eq!(response.interval, "PT1M");
        assert_eq!(response.namespace, "Microsoft.Cache/redis");
        assert_eq!(response.resourceregion, "westeurope");
        assert_eq!(response.value.len(), 5);

        let healthy = &response.value[0];
        assert_eq!(healthy.name.value, "GeoReplicationHealthy");
        assert_eq!(healthy.unit, "Count");
        assert!(healthy
            .id
            .ends_with("/Redis/a/providers/Microsoft.Insights/metrics/GeoReplicationHealthy"));
        let data = &healthy.timeseries[0].data;
        let stamps: Vec<&str> = data.iter().map(|p| p.time_stamp.as_str()).collect();
        assert_eq!(
            stamps,
            [
                "2024-05-01T10:00:00Z",
                "2024-05-01T10:01:00Z",
                "2024-05-01T10:02:00Z"
            ]
        );
        // First minute: only the samples inside the timespan (30..60) count.
        assert_eq!(data[0].count, Some(30.0));
        assert_eq!(data[0].minimum, Some(0.0));
        assert_eq!(data[0].maximum, Some(1.0));
        assert_eq!(data[0].average, Some(23.0 / 30.0));
        assert_eq!(data[1].count, Some(60.0));
        assert_eq!(data[1].total, Some(45.0));
        // No samples after 10:02: a point with only its timestamp.
        assert_eq!(data[2].count, None);
        assert_eq!(data[2].average, None);

        let offset = &response.value[2];
        assert_eq!(offset.unit, "Bytes");
        assert_eq!(offset.timeseries[0].data[1].maximum, Some(119.0));
        assert_eq!(response.value[1].unit, "Seconds");
    }

    #[test]
    fn only_the_aggregations_asked_for_are_filled() {
        let base = datetime!(2024-05-01 10:00:00 UTC);
        let samples = vec![sample(base, true, 7)];
        let q = MetricsQuery::parse(
            Some("GeoReplicationDataSyncOffset"),
            Some("2024-05-01T10:00:00Z/2024-05-01T10:01:00Z"),
            Some("FULL"),
            Some("maximum"),
            now(),
        )
        .unwrap();
        let response = build_response(&samples, &q, "/r", "eastus");
        let point = &response.value[0].timeseries[0].data[0];
        assert_eq!(point.maximum, Some(7.0));
        assert_eq!((point.average, point.count), (None, None));
        assert_eq!(response.interval, "PT1M");
        let json = serde_json::to_value(&response).unwrap();
        assert_eq!(
            json["value"][0]["timeseries"][0]["data"][0]["timeStamp"],
            "2024-05-01T10:00:00Z"
        );
        assert_eq!(
            json["value"][0]["name"]["localizedValue"],
            "Geo Replication Data Sync Offset"
        );
    }
}
