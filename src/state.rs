//! State shared by every page, provided once as context by [`crate::app::App`].

use leptos::prelude::*;

use crate::api::{Api, ApiError};

/// Whether the backend answers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Connectivity {
    /// Nothing has been asked yet.
    #[default]
    Unknown,
    /// The last call got an answer (even a refusal).
    Online,
    /// The last call could not reach the backend; `attempts` retries so far.
    Offline {
        /// Failed attempts since the backend was last seen.
        attempts: u32,
    },
}

/// The console's shared state.
///
/// Every field is `Copy` or cheap to clone, so components take it by value
/// from [`use_app`].
#[derive(Clone)]
pub struct AppState {
    /// The HTTP client.
    pub api: StoredValue<Api>,
    /// Whether the backend answers.
    pub connectivity: RwSignal<Connectivity>,
    /// Bumped whenever data should be fetched again (after the backend comes
    /// back, after an action). Resources read it to refetch.
    pub epoch: RwSignal<u64>,
}

impl AppState {
    /// State for a client; used by the app and by tests with a fake backend.
    pub fn new(api: Api) -> Self {
        Self {
            api: StoredValue::new(api),
            connectivity: RwSignal::new(Connectivity::Unknown),
            epoch: RwSignal::new(0),
        }
    }

    /// A clone of the HTTP client, to move into a future.
    pub fn api(&self) -> Api {
        self.api.get_value()
    }

    /// Records what a call's outcome says about the backend, and passes the
    /// outcome on.
    pub fn observe<T>(&self, result: Result<T, ApiError>) -> Result<T, ApiError> {
        match &result {
            Err(e) if e.is_unreachable() => self.connectivity.update(|c| {
                *c = match *c {
                    Connectivity::Offline { attempts } => Connectivity::Offline {
                        attempts: attempts + 1,
                    },
                    _ => Connectivity::Offline { attempts: 0 },
                }
            }),
            _ => {
                if self.connectivity.get_untracked() != Connectivity::Online {
                    self.connectivity.set(Connectivity::Online);
                }
            }
        }
        result
    }

    /// Asks every resource to fetch again.
    pub fn refresh(&self) {
        self.epoch.update(|e| *e += 1);
    }
}

/// The shared state. Panics outside [`crate::app::App`] or a test that
/// provided one; that is a programming error, not a runtime condition.
pub fn use_app() -> AppState {
    expect_context::<AppState>()
}
