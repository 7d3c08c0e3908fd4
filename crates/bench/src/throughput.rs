//! Proxy cost: `redis-benchmark -P 16 -c 50` through the link's geo-primary
//! endpoint divided by the same run straight to the primary node, the two
//! alternating, several rounds; the ratio is the median of the rounds'.

use std::io::Read;
use std::net::SocketAddr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};

use crate::report::{Figure, Figures, Key};
use crate::say;
use crate::stats::median;

/// The two tests, with their keys.
const TESTS: [(&str, Key); 2] = [("set", Key::ProxyRatioSet), ("get", Key::ProxyRatioGet)];

/// How one comparison runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Plan {
    /// Requests per `redis-benchmark` run.
    pub requests: u64,
    /// Rounds of (direct, geo) pairs per test.
    pub rounds: usize,
}

/// Compares `geo` with `direct`, both reaching the same node with `key`.
pub fn compare(
    plan: Plan,
    direct: SocketAddr,
    geo: SocketAddr,
    key: &str,
) -> Result<(Figures, Vec<String>)> {
    let mut figures = Vec::new();
    let mut notes = Vec::new();
    for (test, figure_key) in TESTS {
        let mut ratios = Vec::new();
        let mut direct_rps = Vec::new();
        let mut geo_rps = Vec::new();
        for round in 0..plan.rounds {
            // Alternate which goes first, so neither always gets the warmer machine.
            let geo_first = round % 2 == 1;
            let (first, second) = if geo_first {
                (geo, direct)
            } else {
                (direct, geo)
            };
            let a = ops_per_second(first, key, test, plan.requests)?;
            let b = ops_per_second(second, key, test, plan.requests)?;
            let (d, g) = if geo_first { (b, a) } else { (a, b) };
            say(format!(
                "    {test} round {}: direct {d:.0} ops/s, geo endpoint {g:.0} ops/s",
                round + 1
            ));
            direct_rps.push(d);
            geo_rps.push(g);
            ratios.push(g / d);
        }
        figures.push((
            figure_key,
            Figure::from_option(median(&ratios), "no rounds ran"),
        ));
        notes.push(format!(
            "proxy {}: median {:.0} ops/s direct, {:.0} ops/s through the geo endpoint ({} rounds of {} requests, -P 16 -c 50)",
            test.to_uppercase(),
            median(&direct_rps).unwrap_or(0.0),
            median(&geo_rps).unwrap_or(0.0),
            plan.rounds,
            plan.requests
        ));
    }
    Ok((figures, notes))
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
    fn reads_redis_benchmark_csv() {
        let csv = "\"test\",\"rps\",\"avg_latency_ms\"\n\"SET\",\"714285.69\",\"0.849\"\n\"GET\",\"680272.12\",\"0.833\"\n";
        assert_eq!(parse_rps(csv, "set"), Some(714_285.69));
        assert_eq!(parse_rps(csv, "get"), Some(680_272.12));
        assert_eq!(parse_rps(csv, "incr"), None);
        assert_eq!(parse_rps("", "set"), None);
    }
}
