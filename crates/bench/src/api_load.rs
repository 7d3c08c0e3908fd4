//! The API under load: many clients reading a link's list (`GET
//! …/linkedServers`) at once, as fast as each gets its answers, while the
//! link's full sync runs.
//!
//! Each client is a tokio task on one shared, kept-alive HTTP client (its
//! own connection from the pool). The clients start before the link's
//! `PUT`, so their connections are open; a request counts if it started
//! while the link was `Creating`, timed until its whole body is read.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{bail, Result};
use reqwest::Method;

use crate::arm::Arm;

/// Concurrent clients.
pub const CLIENTS: usize = 200;
/// How often the link's state is read to know when `Creating` ends.
const STATE_POLL: Duration = Duration::from_millis(25);

/// Clients hammering one path until stopped.
pub struct Load {
    measuring: Arc<AtomicBool>,
    stop: Arc<AtomicBool>,
    errors: Arc<AtomicUsize>,
    tasks: Vec<tokio::task::JoinHandle<Vec<f64>>>,
}

/// What the clients measured.
#[derive(Debug, Clone, PartialEq)]
pub struct Measured {
    /// Each counted request's time (ms).
    pub millis: Vec<f64>,
    /// Requests that failed or answered other than 2xx.
    pub errors: usize,
    /// How long the window lasted.
    pub window: Duration,
}

impl Load {
    /// Starts `clients` tasks sending `GET path` in a loop; none is counted
    /// until [`Load::measure`].
    pub fn start(server: &Arm, path: String, clients: usize) -> Load {
        let measuring = Arc::new(AtomicBool::new(false));
        let stop = Arc::new(AtomicBool::new(false));
        let errors = Arc::new(AtomicUsize::new(0));
        let tasks = (0..clients)
            .map(|_| {
                let api = server.api().clone();
                let path = path.clone();
                let (measuring, stop, errors) = (measuring.clone(), stop.clone(), errors.clone());
                tokio::spawn(async move {
                    let mut millis = Vec::new();
                    while !stop.load(Ordering::Relaxed) {
                        let counted = measuring.load(Ordering::Relaxed);
                        let started = Instant::now();
                        let ok = match api.send(Method::GET, &path, None).await {
                            Ok(response) => {
                                let status = response.status();
                                response.bytes().await.is_ok() && status.is_success()
                            }
                            Err(_) => false,
                        };
                        let ms = started.elapsed().as_secs_f64() * 1000.0;
                        if !counted {
                            continue;
                        }
                        if ok {
                            millis.push(ms);
                        } else {
                            errors.fetch_add(1, Ordering::Relaxed);
                            tokio::time::sleep(Duration::from_millis(10)).await;
                        }
                    }
                    millis
                })
            })
            .collect();
        Load {
            measuring,
            stop,
            errors,
            tasks,
        }
    }

    /// Counts the requests that start from now until `cache`'s link to
    /// `peer` is no longer `Creating` (or `timeout`), then stops the
    /// clients.
    pub async fn measure_while_creating(
        self,
        server: &Arm,
        cache: &str,
        peer: &str,
        timeout: Duration,
    ) -> Result<Measured> {
        self.measuring.store(true, Ordering::Relaxed);
        let started = Instant::now();
        let outcome = loop {
            match server.link(cache, peer).await {
                Ok(Some(link)) if link["properties"]["provisioningState"] == "Creating" => {}
                Ok(_) => break Ok(()),
                Err(err) => break Err(err),
            }
            if started.elapsed() > timeout {
                break Ok(());
            }
            tokio::time::sleep(STATE_POLL).await;
        };
        let window = started.elapsed();
        self.stop.store(true, Ordering::Relaxed);
        let mut millis = Vec::new();
        for task in self.tasks {
            millis.extend(task.await.unwrap_or_default());
        }
        outcome?;
        if millis.is_empty() {
            bail!("no request completed while the link was Creating ({window:?})");
        }
        Ok(Measured {
            millis,
            errors: self.errors.load(Ordering::Relaxed),
            window,
        })
    }
}
