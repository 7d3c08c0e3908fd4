//! The figures of one run: the table printed at the end, and the same
//! figures as JSON (`target/bench/latest.json`).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::{Context, Result};
use serde_json::Value;

/// One figure of the issue, named by its JSON key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key {
    BundleGzipBytes,
    BundleAllGzipBytes,
    BundleBrotliBytes,
    FirstListMs,
    FirstList1000Ms,
    FilterMsP50,
    ClickFloorMsP50,
    FilterMsP95,
    ClickFloorMsP95,
    GeoRatioSet,
    HaproxyRatioSet,
    GeoRatioGet,
    HaproxyRatioGet,
    LinkMbPerS,
    RawReplicaofMbPerS,
    LinkRatio,
    FailoverMsP50,
    RawFailoverMsP50,
    FailoverMsMax,
    RawFailoverMsMax,
    FailoverLostWrites,
    HaRecoveryMsP50,
    HaRecoveryMsMax,
    HaLostWrites,
    ChaosEvents,
    ChaosAckedWrites,
    ChaosLostWrites,
    ChaosUnreportedLostWrites,
    KillpointRuns,
    KillpointFailures,
    ApiListMsP99,
    ApiCandidatesMsP99,
    ApiLinkedMsP99Loaded,
}

/// How a figure's number reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Unit {
    /// Bytes, shown in kB (1,000 bytes).
    Bytes,
    Millis,
    Ratio,
    MegabytesPerSecond,
    Count,
}

impl Key {
    /// Every key, in the issue's order (the table's and the JSON's): each
    /// figure beside its peer from the same run.
    pub const ALL: [Key; 33] = [
        Key::BundleGzipBytes,
        Key::BundleAllGzipBytes,
        Key::BundleBrotliBytes,
        Key::FirstListMs,
        Key::FirstList1000Ms,
        Key::FilterMsP50,
        Key::ClickFloorMsP50,
        Key::FilterMsP95,
        Key::ClickFloorMsP95,
        Key::GeoRatioSet,
        Key::HaproxyRatioSet,
        Key::GeoRatioGet,
        Key::HaproxyRatioGet,
        Key::LinkMbPerS,
        Key::RawReplicaofMbPerS,
        Key::LinkRatio,
        Key::FailoverMsP50,
        Key::RawFailoverMsP50,
        Key::FailoverMsMax,
        Key::RawFailoverMsMax,
        Key::FailoverLostWrites,
        Key::HaRecoveryMsP50,
        Key::HaRecoveryMsMax,
        Key::HaLostWrites,
        Key::ChaosEvents,
        Key::ChaosAckedWrites,
        Key::ChaosLostWrites,
        Key::ChaosUnreportedLostWrites,
        Key::KillpointRuns,
        Key::KillpointFailures,
        Key::ApiListMsP99,
        Key::ApiCandidatesMsP99,
        Key::ApiLinkedMsP99Loaded,
    ];

    /// The JSON key.
    pub fn name(self) -> &'static str {
        match self {
            Key::BundleGzipBytes => "bundle_gzip_bytes",
            Key::BundleAllGzipBytes => "bundle_all_gzip_bytes",
            Key::BundleBrotliBytes => "bundle_brotli_bytes",
            Key::FirstListMs => "first_list_ms",
            Key::FirstList1000Ms => "first_list_1000_ms",
            Key::FilterMsP50 => "filter_ms_p50",
            Key::FilterMsP95 => "filter_ms_p95",
            Key::ClickFloorMsP50 => "click_floor_ms_p50",
            Key::ClickFloorMsP95 => "click_floor_ms_p95",
            Key::GeoRatioSet => "geo_ratio_set",
            Key::HaproxyRatioSet => "haproxy_ratio_set",
            Key::GeoRatioGet => "geo_ratio_get",
            Key::HaproxyRatioGet => "haproxy_ratio_get",
            Key::LinkMbPerS => "link_mb_per_s",
            Key::RawReplicaofMbPerS => "raw_replicaof_mb_per_s",
            Key::LinkRatio => "link_ratio",
            Key::FailoverMsP50 => "failover_ms_p50",
            Key::RawFailoverMsP50 => "raw_failover_ms_p50",
            Key::FailoverMsMax => "failover_ms_max",
            Key::RawFailoverMsMax => "raw_failover_ms_max",
            Key::FailoverLostWrites => "failover_lost_writes",
            Key::HaRecoveryMsP50 => "ha_recovery_ms_p50",
            Key::HaRecoveryMsMax => "ha_recovery_ms_max",
            Key::HaLostWrites => "ha_lost_writes",
            Key::ChaosEvents => "chaos_events",
            Key::ChaosAckedWrites => "chaos_acked_writes",
            Key::ChaosLostWrites => "chaos_lost_writes",
            Key::ChaosUnreportedLostWrites => "chaos_unreported_lost_writes",
            Key::KillpointRuns => "killpoint_runs",
            Key::KillpointFailures => "killpoint_failures",
            Key::ApiListMsP99 => "api_list_ms_p99",
            Key::ApiCandidatesMsP99 => "api_candidates_ms_p99",
            Key::ApiLinkedMsP99Loaded => "api_linked_ms_p99_loaded",
        }
    }

    /// What the figure is, in a few words.
    fn label(self) -> &'static str {
        match self {
            Key::BundleGzipBytes => "console size, first page (cache list), gzip -9",
            Key::BundleAllGzipBytes => "peer: console size, every page's chunk too, gzip -9",
            Key::BundleBrotliBytes => "console size, first page (cache list), brotli q11",
            Key::FirstListMs => "console start to cache list (median)",
            Key::FirstList1000Ms => "console start to cache list, 1,000 caches (median)",
            Key::FilterMsP50 => "region filter, click to paint (p50)",
            Key::FilterMsP95 => "region filter, click to paint (p95)",
            Key::ClickFloorMsP50 => "peer: a click that recolours one dot, click to paint (p50)",
            Key::ClickFloorMsP95 => "peer: a click that recolours one dot, click to paint (p95)",
            Key::GeoRatioSet => "geo-primary URL / direct, SET ops/s",
            Key::HaproxyRatioSet => "peer: HAProxy (mode tcp) / direct, SET ops/s",
            Key::GeoRatioGet => "geo-primary URL / direct, GET ops/s",
            Key::HaproxyRatioGet => "peer: HAProxy (mode tcp) / direct, GET ops/s",
            Key::LinkMbPerS => "link full sync throughput",
            Key::RawReplicaofMbPerS => "peer: raw REPLICAOF throughput (Redis defaults)",
            Key::LinkRatio => "link full sync / raw REPLICAOF time",
            Key::FailoverMsP50 => "planned failover, longest write gap (p50)",
            Key::RawFailoverMsP50 => "peer: raw FAILOVER TO, longest write gap (p50)",
            Key::FailoverMsMax => "planned failover, longest write gap (max)",
            Key::RawFailoverMsMax => "peer: raw FAILOVER TO, longest write gap (max)",
            Key::FailoverLostWrites => "planned failover, acknowledged writes lost",
            Key::HaRecoveryMsP50 => "primary node killed, kill to first write (p50)",
            Key::HaRecoveryMsMax => "primary node killed, kill to first write (max)",
            Key::HaLostWrites => {
                "primary node killed, acknowledged writes lost (the last one before each kill excluded)"
            }
            Key::ChaosEvents => "chaos: faults and operations on a linked pair",
            Key::ChaosAckedWrites => "chaos: writes acknowledged through the geo-primary URL",
            Key::ChaosLostWrites => {
                "chaos: acknowledged writes missing at the end (each in a reported loss window)"
            }
            Key::ChaosUnreportedLostWrites => {
                "chaos: acknowledged writes missing that no failover or node loss reported"
            }
            Key::KillpointRuns => {
                "kill points: the server killed and restarted mid-operation on a linked pair"
            }
            Key::KillpointFailures => {
                "kill points: runs after which the pair did not converge or lost a write"
            }
            Key::ApiListMsP99 => "API list caches (p99)",
            Key::ApiCandidatesMsP99 => "API candidates (p99)",
            Key::ApiLinkedMsP99Loaded => "API GET linkedServers, 200 clients, during a full sync (p99)",
        }
    }

    fn unit(self) -> Unit {
        match self {
            Key::BundleGzipBytes | Key::BundleAllGzipBytes | Key::BundleBrotliBytes => Unit::Bytes,
            Key::FirstListMs
            | Key::FirstList1000Ms
            | Key::FilterMsP50
            | Key::FilterMsP95
            | Key::ClickFloorMsP50
            | Key::ClickFloorMsP95
            | Key::FailoverMsP50
            | Key::FailoverMsMax
            | Key::RawFailoverMsP50
            | Key::RawFailoverMsMax
            | Key::HaRecoveryMsP50
            | Key::HaRecoveryMsMax
            | Key::ApiListMsP99
            | Key::ApiCandidatesMsP99
            | Key::ApiLinkedMsP99Loaded => Unit::Millis,
            Key::GeoRatioSet
            | Key::GeoRatioGet
            | Key::HaproxyRatioSet
            | Key::HaproxyRatioGet
            | Key::LinkRatio => Unit::Ratio,
            Key::LinkMbPerS | Key::RawReplicaofMbPerS => Unit::MegabytesPerSecond,
            Key::FailoverLostWrites
            | Key::HaLostWrites
            | Key::ChaosEvents
            | Key::ChaosAckedWrites
            | Key::ChaosLostWrites
            | Key::ChaosUnreportedLostWrites
            | Key::KillpointRuns
            | Key::KillpointFailures => Unit::Count,
        }
    }

    /// The issue's goal for the figure, if it sets one.
    fn goal(self) -> &'static str {
        match self {
            Key::BundleGzipBytes => "≤ 250 kB",
            Key::FirstListMs | Key::FirstList1000Ms => "≤ 1,000 ms",
            Key::FilterMsP50 | Key::FilterMsP95 => "< 16 ms",
            Key::GeoRatioSet | Key::GeoRatioGet => "≥ 0.95",
            Key::LinkMbPerS => "≥ 150 MB/s",
            Key::LinkRatio => "≤ 1.0",
            Key::FailoverMsP50 => "≤ 50 ms",
            Key::FailoverMsMax => "≤ 200 ms",
            Key::FailoverLostWrites | Key::ChaosUnreportedLostWrites | Key::KillpointFailures => {
                "0"
            }
            Key::ChaosEvents => "≥ 50",
            Key::ApiListMsP99 | Key::ApiLinkedMsP99Loaded => "≤ 50 ms",
            Key::ApiCandidatesMsP99 => "≤ 10 ms",
            _ => "",
        }
    }
}

/// Figures a benchmark produced, by key.
pub type Figures = Vec<(Key, Figure)>;

/// A figure: measured, or not, and why not.
#[derive(Debug, Clone, PartialEq)]
pub enum Figure {
    Measured(f64),
    Missing(String),
}

impl Figure {
    /// A figure that could not be measured, with the reason.
    pub fn missing(reason: impl Into<String>) -> Self {
        Figure::Missing(reason.into())
    }

    /// `value`, or missing with `reason` if there is none.
    pub fn from_option(value: Option<f64>, reason: &str) -> Self {
        value.map_or_else(|| Figure::missing(reason), Figure::Measured)
    }

    fn show(&self, unit: Unit) -> String {
        let value = match self {
            Figure::Missing(reason) => return format!("n/a ({reason})"),
            Figure::Measured(value) => *value,
        };
        match unit {
            Unit::Bytes => format!("{:.1} kB", value / 1000.0),
            Unit::Millis if value < 10.0 => format!("{value:.2} ms"),
            Unit::Millis => format!("{value:.0} ms"),
            Unit::Ratio => format!("{value:.2}"),
            Unit::MegabytesPerSecond => format!("{value:.0} MB/s"),
            Unit::Count => format!("{value:.0}"),
        }
    }

    fn to_json(&self) -> Value {
        match self {
            // Whole numbers (bytes, counts) are written as integers.
            Figure::Measured(v) if v.fract() == 0.0 && v.abs() < 1e15 => Value::from(*v as i64),
            Figure::Measured(v) => serde_json::Number::from_f64((v * 1000.0).round() / 1000.0)
                .map_or(Value::Null, Value::Number),
            Figure::Missing(_) => Value::Null,
        }
    }
}

/// Every figure of a run, and notes on how they came about.
#[derive(Debug, Default)]
pub struct Report {
    figures: Vec<(Key, Figure)>,
    /// What each figure was made of in this run (its raw numbers).
    details: Vec<(Key, String)>,
    notes: Vec<String>,
}

impl Report {
    /// Records what one benchmark produced: its figures, or, if it failed,
    /// the reason for every figure it was to produce.
    pub fn record(&mut self, keys: &[Key], outcome: Result<Figures>) {
        let figures = match outcome {
            Ok(figures) => figures,
            Err(err) => {
                let reason = format!("{err:#}");
                keys.iter()
                    .map(|&key| (key, Figure::missing(reason.clone())))
                    .collect()
            }
        };
        for (key, figure) in figures {
            self.figures.retain(|(k, _)| *k != key);
            self.figures.push((key, figure));
        }
    }

    /// Says what `key`'s figure was made of in this run (the table's
    /// "this run" column), e.g. the ops/s behind a ratio.
    pub fn detail(&mut self, key: Key, text: impl Into<String>) {
        self.details.retain(|(k, _)| *k != key);
        self.details.push((key, text.into()));
    }

    /// Adds a line to the notes under the table.
    pub fn note(&mut self, line: impl Into<String>) {
        self.notes.push(line.into());
    }

    /// The figure for `key` (missing if nothing recorded it).
    pub fn figure(&self, key: Key) -> Figure {
        self.figures
            .iter()
            .find(|(k, _)| *k == key)
            .map_or_else(|| Figure::missing("not measured"), |(_, f)| f.clone())
    }

    /// The table, as Markdown, followed by the notes.
    pub fn table(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "| figure | key | value | goal | this run |");
        let _ = writeln!(out, "|---|---|---|---|---|");
        for key in Key::ALL {
            let detail = self
                .details
                .iter()
                .find(|(k, _)| *k == key)
                .map_or("", |(_, d)| d.as_str());
            let _ = writeln!(
                out,
                "| {} | `{}` | {} | {} | {detail} |",
                key.label(),
                key.name(),
                self.figure(key).show(key.unit()),
                key.goal()
            );
        }
        if !self.notes.is_empty() {
            out.push('\n');
            for note in &self.notes {
                let _ = writeln!(out, "- {note}");
            }
        }
        out
    }

    /// The figures as one JSON object with exactly the issue's keys, in the
    /// issue's order; a figure that could not be measured is `null`.
    pub fn json(&self) -> String {
        let fields: Vec<String> = Key::ALL
            .iter()
            .map(|&key| format!("  \"{}\": {}", key.name(), self.figure(key).to_json()))
            .collect();
        format!("{{\n{}\n}}\n", fields.join(",\n"))
    }

    /// Writes [`Report::json`] to `path`, creating its directory.
    pub fn write_json(&self, path: &Path) -> Result<()> {
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir)
                .with_context(|| format!("cannot create {}", dir.display()))?;
        }
        std::fs::write(path, self.json())
            .with_context(|| format!("cannot write {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use anyhow::anyhow;

    use super::*;

    #[test]
    fn json_has_exactly_the_issue_keys_in_order() {
        let mut report = Report::default();
        report.record(
            &[Key::BundleGzipBytes],
            Ok(vec![(Key::BundleGzipBytes, Figure::Measured(187_654.0))]),
        );
        report.record(&[Key::GeoRatioSet], Err(anyhow!("no geo endpoint")));
        let text = report.json();
        let keys: Vec<&str> = text
            .lines()
            .filter_map(|line| line.trim().strip_prefix('"')?.split('"').next())
            .collect();
        let expected: Vec<&str> = Key::ALL.iter().map(|k| k.name()).collect();
        assert_eq!(keys, expected);
        let json: Value = serde_json::from_str(&text).unwrap();
        assert_eq!(json.as_object().unwrap().len(), Key::ALL.len());
        assert_eq!(json["bundle_gzip_bytes"], 187_654);
        assert!(json["geo_ratio_set"].is_null());
        assert!(json.get("proxy_ratio_set").is_none());
        assert!(json["link_ratio"].is_null());
    }

    #[test]
    fn table_shows_values_units_and_reasons() {
        let mut report = Report::default();
        report.record(
            &[Key::FilterMsP50, Key::HaproxyRatioGet],
            Ok(vec![
                (Key::FilterMsP50, Figure::Measured(4.256)),
                (
                    Key::HaproxyRatioGet,
                    Figure::missing("haproxy is not installed"),
                ),
            ]),
        );
        report.detail(Key::FilterMsP50, "50 clicks");
        report.note("direct 100k ops/s");
        let table = report.table();
        assert!(
            table.contains("| `filter_ms_p50` | 4.26 ms | < 16 ms | 50 clicks |"),
            "{table}"
        );
        assert!(table.contains("n/a (haproxy is not installed)"), "{table}");
        assert!(table.contains("n/a (not measured)"), "{table}");
        assert!(table.ends_with("- direct 100k ops/s\n"), "{table}");
    }

    #[test]
    fn fractional_figures_are_rounded_whole_ones_are_integers() {
        assert_eq!(
            Figure::Measured(0.912_345).to_json(),
            serde_json::json!(0.912)
        );
        assert_eq!(Figure::Measured(3.0).to_json(), serde_json::json!(3));
        assert_eq!(Figure::missing("x").to_json(), Value::Null);
    }
}
