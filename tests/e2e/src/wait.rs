//! Explicit, bounded waits: poll a condition until it holds or a deadline
//! passes. Tests never assert how long something took, only that it happens
//! within a generous bound.

use std::fmt::Debug;
use std::future::Future;
use std::time::Duration;

use tokio::time::{sleep, Instant};

/// How often a condition is polled.
const POLL: Duration = Duration::from_millis(150);

/// What a poll saw: done with a value, or not yet (with what was seen, for
/// the failure message).
pub enum Poll<T> {
    /// The condition holds.
    Ready(T),
    /// Not yet; says what was seen instead.
    Pending(String),
}

impl<T> Poll<T> {
    /// `Ready(value)` if `value` is `Some`, else `Pending` with `seen`.
    pub fn from_option(value: Option<T>, seen: impl Debug) -> Self {
        match value {
            Some(value) => Poll::Ready(value),
            None => Poll::Pending(format!("{seen:?}")),
        }
    }
}

/// Polls `check` until it is ready, for at most `timeout`; panics with
/// `what` and the last thing seen if it never is.
pub async fn until<T, F, Fut>(what: &str, timeout: Duration, mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Poll<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        let seen = match check().await {
            Poll::Ready(value) => return value,
            Poll::Pending(seen) => seen,
        };
        assert!(
            Instant::now() < deadline,
            "timed out after {timeout:?} waiting for {what}; last saw: {seen}"
        );
        sleep(POLL).await;
    }
}
