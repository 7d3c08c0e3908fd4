//! Throughput through the geo-primary URL and through HAProxy, each
//! divided by the same `redis-benchmark -P 16 -c 50` run straight to the
//! primary node's own address, in the same rounds (the order alternating);
//! each ratio is the median of the rounds'.
//!
//! The geo-primary URL is one more address of the geo-primary's primary
//! `redis-server` itself, so its ratio should be about 1; HAProxy in TCP
//! mode is what a user would put in front of a primary instead.

use std::io::Read;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::report::{Figure, Figures, Key};
use crate::say;
use crate::stats::median;

/// The two tests, with the keys of the geo-primary URL's and HAProxy's
/// ratios.
const TESTS: [(&str, Key, Key); 2] = [
    ("set", Key::GeoRatioSet, Key::HaproxyRatioSet),
    ("get", Key::GeoRatioGet, Key::HaproxyRatioGet),
];

/// How one comparison runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Requests per `redis-benchmark` run.
    pub requests: u64,
    /// Rounds of (direct, geo, haproxy) runs per test.
    pub rounds: usize,
}

/// What the three ways in reach, as measured.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Way {
    Direct,
    Geo,
    Haproxy,
}

/// The order of round `round`: direct, geo-primary URL, HAProxy, and the
/// other way round every other round, so no way always gets the warmer
/// (or the busier) machine.
fn order(round: usize, with_haproxy: bool) -> Vec<Way> {
    let mut ways = vec![Way::Direct, Way::Geo];
    if with_haproxy {
        ways.push(Way::Haproxy);
    }
    if round % 2 == 1 {
        ways.reverse();
    }
    ways
}

/// The figures, the table's details and the notes of one comparison.
pub struct Compared {
    pub figures: Figures,
    pub details: Vec<(Key, String)>,
    pub notes: Vec<String>,
}

/// Compares `geo` and `haproxy` (or why there is none) with `direct`, all
/// reaching the same node with `key`.
pub fn compare(
    plan: Plan,
    direct: SocketAddr,
    geo: SocketAddr,
    haproxy: Result<SocketAddr, String>,
    key: &str,
) -> Result<Compared> {
    let mut out = Compared {
        figures: Vec::new(),
        details: Vec::new(),
        notes: Vec::new(),
    };
    for (test, geo_key, haproxy_key) in TESTS {
        let mut geo_ratios = Vec::new();
        let mut haproxy_ratios = Vec::new();
        let (mut direct_rps, mut geo_rps, mut haproxy_rps) = (Vec::new(), Vec::new(), Vec::new());
        for round in 0..plan.rounds {
            let (mut d, mut g, mut h) = (0.0, 0.0, None);
            for way in order(round, haproxy.is_ok()) {
                let addr = match (way, &haproxy) {
                    (Way::Direct, _) => direct,
                    (Way::Geo, _) => geo,
                    (Way::Haproxy, Ok(addr)) => *addr,
                    (Way::Haproxy, Err(_)) => continue,
                };
                let rps = ops_per_second(addr, key, test, plan.requests)?;
                match way {
                    Way::Direct => d = rps,
                    Way::Geo => g = rps,
                    Way::Haproxy => h = Some(rps),
                }
            }
            say(format!(
                "    {test} round {}: direct {d:.0} ops/s, geo-primary URL {g:.0} ops/s{}",
                round + 1,
                h.map_or(String::new(), |h| format!(", haproxy {h:.0} ops/s"))
            ));
            direct_rps.push(d);
            geo_rps.push(g);
            geo_ratios.push(g / d);
            if let Some(h) = h {
                haproxy_rps.push(h);
                haproxy_ratios.push(h / d);
            }
        }
        let m = |v: &[f64]| median(v).unwrap_or(f64::NAN);
        out.figures.push((
            geo_key,
            Figure::from_option(median(&geo_ratios), "no rounds ran"),
        ));
        out.details.push((
            geo_key,
            format!(
                "median {:.0} ops/s through the URL, {:.0} direct",
                m(&geo_rps),
                m(&direct_rps)
            ),
        ));
        match &haproxy {
            Ok(_) => {
                out.figures.push((
                    haproxy_key,
                    Figure::from_option(median(&haproxy_ratios), "no rounds ran"),
                ));
                out.details.push((
                    haproxy_key,
                    format!(
                        "median {:.0} ops/s through HAProxy, {:.0} direct",
                        m(&haproxy_rps),
                        m(&direct_rps)
                    ),
                ));
            }
            Err(reason) => out
                .figures
                .push((haproxy_key, Figure::missing(reason.clone()))),
        }
        out.notes.push(format!(
            "throughput {}: median {:.0} ops/s direct, {:.0} through the geo-primary URL{} ({} rounds of {} requests each, -P 16 -c 50, order alternating)",
            test.to_uppercase(),
            m(&direct_rps),
            m(&geo_rps),
            if haproxy.is_ok() {
                format!(", {:.0} through HAProxy", m(&haproxy_rps))
            } else {
                String::new()
            },
            plan.rounds,
            plan.requests
        ));
    }
    Ok(out)
}

/// One `redis-benchmark` run; its throughput.
fn ops_per_second(addr: SocketAddr, key: &str, test: &str, requests: u64) -> Result<f64> {
    let mut args: Vec<String> = vec![
        "-h".into(),
        addr.ip().to_string(),
        "-p".into(),
        addr.port().to_string(),
        "-t".into(),
        test.into(),
        "-n".into(),
        requests.to_string(),
        "-P".into(),
        "16".into(),
        "-c".into(),
        "50".into(),
        "--csv".into(),
    ];
    say(format!("$ redis-benchmark {} -a ***", args.join(" ")));
    args.extend(["-a".into(), key.into()]);
    let mut child = Command::new("redis-benchmark")
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .context("cannot start redis-benchmark (Debian's redis-tools)")?;
    // redis-benchmark retries forever when it cannot connect: bound it.
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Some(status) = child.try_wait()? {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            bail!("redis-benchmark against {addr} ran over 2 minutes; stopped it");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let mut output = String::new();
    if let Some(mut stdout) = child.stdout.take() {
        stdout.read_to_string(&mut output)?;
    }
    if !status.success() {
        bail!("redis-benchmark against {addr} failed ({status})");
    }
    parse_rps(&output, test)
        .with_context(|| format!("no {test} result in redis-benchmark's output: {output:?}"))
}

/// The `rps` column of `test`'s row in `redis-benchmark --csv` output.
fn parse_rps(csv: &str, test: &str) -> Option<f64> {
    csv.lines().find_map(|line| {
        let mut fields = line.split(',').map(|f| f.trim_matches('"'));
        let name = fields.next()?;
        if !name.eq_ignore_ascii_case(test) {
            return None;
        }
        fields.next()?.parse().ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_order_alternates() {
        assert_eq!(order(0, true), [Way::Direct, Way::Geo, Way::Haproxy]);
        assert_eq!(order(1, true), [Way::Haproxy, Way::Geo, Way::Direct]);
        assert_eq!(order(1, false), [Way::Geo, Way::Direct]);
    }

    #[test]
    fn reads_redis_benchmark_csv() {
        let csv = "\"test\",\"rps\",\"avg_latency_ms\"\n\"SET\",\"714285.69\",\"0.849\"\n\"GET\",\"680272.12\",\"0.833\"\n";
        assert_eq!(parse_rps(csv, "set"), Some(714_285.69));
        assert_eq!(parse_rps(csv, "get"), Some(680_272.12));
        assert_eq!(parse_rps(csv, "incr"), None);
        assert_eq!(parse_rps("", "set"), None);
    }
}
