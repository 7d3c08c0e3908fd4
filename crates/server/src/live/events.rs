//! The live-status hub: every [`LiveEvent`] the server publishes (link
//! state changes, full-sync progress, metric samples, timeline steps) goes
//! to each open event stream.
//!
//! Publishing never waits: a stream that falls too far behind misses events
//! and is told so (the API's stream handler).

use std::sync::Arc;

use georep_core::live::LiveEvent;
use tokio::sync::{broadcast, watch};

/// How many events a slow stream may fall behind before it misses some.
const CAPACITY: usize = 1024;

/// The hub. Cheap to clone; clones share everything.
#[derive(Clone)]
pub struct Events {
    sender: broadcast::Sender<LiveEvent>,
    closing: Arc<watch::Sender<bool>>,
}

impl Default for Events {
    fn default() -> Self {
        Self::new()
    }
}

impl Events {
    /// A hub with no subscriber yet.
    pub fn new() -> Events {
        let (sender, _) = broadcast::channel(CAPACITY);
        let (closing, _) = watch::channel(false);
        Events {
            sender,
            closing: Arc::new(closing),
        }
    }

    /// Sends `event` to every open stream (none is fine).
    pub fn publish(&self, event: LiveEvent) {
        let _ = self.sender.send(event);
    }

    /// Every event published from now on.
    pub fn subscribe(&self) -> broadcast::Receiver<LiveEvent> {
        self.sender.subscribe()
    }

    /// Ends every stream, for a graceful shutdown (an open stream would
    /// otherwise keep the server waiting forever).
    pub fn close(&self) {
        self.closing.send_replace(true);
    }

    /// Resolves once [`Events::close`] has been called.
    pub fn closed(&self) -> impl std::future::Future<Output = ()> + Send + 'static {
        let mut closing = self.closing.subscribe();
        async move {
            let _ = closing.wait_for(|closed| *closed).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use georep_core::arm::SyncProgress;
    use georep_core::live::{LinkRef, SyncProgressEvent};

    #[tokio::test]
    async fn subscribers_get_what_is_published_and_close_ends_them() {
        let events = Events::new();
        let mut stream = events.subscribe();
        let event = LiveEvent::SyncProgress(SyncProgressEvent {
            link: LinkRef {
                id: "a".into(),
                peer_id: "b".into(),
                primary: "p".into(),
                secondary: "s".into(),
            },
            progress: SyncProgress {
                bytes_read: 1,
                bytes_total: 2,
            },
        });
        events.publish(event.clone());
        assert_eq!(stream.recv().await.unwrap(), event);
        let closed = events.closed();
        events.close();
        closed.await;
        events.closed().await;
    }
}
