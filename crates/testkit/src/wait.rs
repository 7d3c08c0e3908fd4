//! Explicit, bounded waits: poll a condition until it holds or a deadline
//! passes. Nothing here measures or asserts how long something took; the
//! bounds are generous and only stop a test that would otherwise hang.

use std::fmt::{self, Debug};
use std::future::Future;
use std::time::Duration;

use tokio::time::{sleep, Instant};

/// How often [`until`] polls.
pub const POLL: Duration = Duration::from_millis(150);

/// What one poll saw: done with a value, or not yet (with what was seen,
/// for the message if it never is).
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

/// A condition that did not hold in time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimedOut {
    /// What was waited for.
    pub what: String,
    /// For how long.
    pub timeout: Duration,
    /// The last thing seen.
    pub seen: String,
}

impl fmt::Display for TimedOut {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "timed out after {:?} waiting for {}; last saw: {}",
            self.timeout, self.what, self.seen
        )
    }
}

impl std::error::Error for TimedOut {}

/// Polls `check` every `every` until it is ready, for at most `timeout`
/// (it is always polled at least once); the value, or [`TimedOut`].
pub async fn poll<T, F, Fut>(
    what: &str,
    timeout: Duration,
    every: Duration,
    mut check: F,
) -> Result<T, TimedOut>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Poll<T>>,
{
    let deadline = Instant::now() + timeout;
    loop {
        let seen = match check().await {
            Poll::Ready(value) => return Ok(value),
            Poll::Pending(seen) => seen,
        };
        if Instant::now() >= deadline {
            return Err(TimedOut {
                what: what.to_owned(),
                timeout,
                seen,
            });
        }
        sleep(every).await;
    }
}

/// Polls `check` every [`POLL`] until it is ready, for at most `timeout`;
/// panics with `what` and the last thing seen if it never is.
pub async fn until<T, F, Fut>(what: &str, timeout: Duration, check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Poll<T>>,
{
    poll(what, timeout, POLL, check)
        .await
        .unwrap_or_else(|timed_out| panic!("{timed_out}"))
}

/// Polls `probe` every 100 ms until it returns `Some`, for at most
/// `timeout`; panics naming `what` if it never does.
pub async fn eventually<T, F, Fut>(what: &str, timeout: Duration, mut probe: F) -> T
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Option<T>>,
{
    let check = || {
        let probed = probe();
        async move { Poll::from_option(probed.await, "nothing yet") }
    };
    poll(what, timeout, Duration::from_millis(100), check)
        .await
        .unwrap_or_else(|timed_out| panic!("{timed_out}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "current_thread")]
    async fn polls_until_ready_or_says_what_it_saw() {
        let mut n = 0;
        let got = poll(
            "n to reach 3",
            Duration::from_secs(5),
            Duration::ZERO,
            || {
                n += 1;
                let now = n;
                async move { Poll::from_option((now >= 3).then_some(now), now) }
            },
        )
        .await;
        assert_eq!(got, Ok(3));

        let timed_out = poll("never", Duration::ZERO, Duration::ZERO, || async {
            Poll::<()>::Pending("still no".into())
        })
        .await
        .unwrap_err();
        assert_eq!(timed_out.seen, "still no");
        assert!(timed_out.to_string().contains("waiting for never"));
    }
}
