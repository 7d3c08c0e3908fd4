//! State shared by every page, provided once as context by [`crate::app::App`].

use std::collections::HashMap;

use georep_core::link::LinkState;
use leptos::prelude::*;

use crate::api::{Api, ApiError};
use crate::model::{Fleet, LinkView, PrimaryOffset};

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

/// Where loading the fleet stands.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Load {
    /// Not loaded yet.
    #[default]
    Loading,
    /// Loaded at least once; `fleet` is current.
    Ready,
    /// The last load failed with an answer from the backend (not a network
    /// error: those show the offline banner instead).
    Failed(ApiError),
}

/// A state the console shows before the server confirms it: set on a click,
/// dropped as soon as the server reports the link in any other state or with
/// another primary than at the click (a fast failover can come back to
/// `Linked` between two polls, with the roles swapped), or after
/// [`OPTIMISTIC_TTL_MS`] at the latest.
#[derive(Debug, Clone, PartialEq)]
pub struct Optimistic {
    /// The link's state when the user clicked.
    pub from: LinkState,
    /// The geo-primary when the user clicked.
    pub primary: georep_core::CacheId,
    /// The state the click leads to, per `georep-core`'s state machine.
    pub to: LinkState,
    /// When the user clicked (ms since the epoch).
    pub since: f64,
}

/// How long an optimistic state may stand without the server moving.
pub const OPTIMISTIC_TTL_MS: f64 = 30_000.0;

/// A message for the user about an action's outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    /// Whether it reports a failure.
    pub error: bool,
    /// What to say.
    pub text: String,
}

/// The console's shared state.
///
/// Every field is an arena handle, so the state is `Copy` and components
/// take it by value from [`use_app`].
#[derive(Clone, Copy)]
pub struct AppState {
    /// The HTTP client.
    pub api: StoredValue<Api>,
    /// Whether the backend answers.
    pub connectivity: RwSignal<Connectivity>,
    /// Bumped whenever data should be fetched again (after the backend comes
    /// back, after an action). Resources read it to refetch.
    pub epoch: RwSignal<u64>,
    /// Every cache and link the caller can see.
    pub fleet: RwSignal<Fleet>,
    /// Where loading `fleet` stands.
    pub load: RwSignal<Load>,
    /// Link states shown ahead of the server, by pair key.
    pub optimistic: RwSignal<HashMap<String, Optimistic>>,
    /// The latest action outcome to tell the user about.
    pub notice: RwSignal<Option<Notice>>,
    /// Whether the live event stream is connected.
    pub live: RwSignal<bool>,
    /// Whether a try to open the stream has ended (until then, the console
    /// is still connecting rather than polling).
    pub stream_tried: RwSignal<bool>,
    /// The latest geo-primary replication offset of each link, by pair key.
    pub primary_offsets: RwSignal<HashMap<String, PrimaryOffset>>,
    /// Bumped when the stream says new metric samples exist.
    pub metrics_epoch: RwSignal<u64>,
    /// Whether a load of `fleet` is running, and when the last one ended:
    /// kept here rather than by the poller, so that the app can start the
    /// first load before it builds the shell.
    pub fleet_loads: StoredValue<FleetLoads>,
}

/// The fleet's loads, as the poller sees them.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct FleetLoads {
    /// A load is running.
    pub running: bool,
    /// When the last load ended, ms since the Unix epoch (0: never).
    pub ended_at: f64,
}

impl AppState {
    /// State for a client; used by the app and by tests with a fake backend.
    pub fn new(api: Api) -> Self {
        Self {
            api: StoredValue::new(api),
            connectivity: RwSignal::new(Connectivity::Unknown),
            epoch: RwSignal::new(0),
            fleet: RwSignal::new(Fleet::default()),
            load: RwSignal::new(Load::Loading),
            optimistic: RwSignal::new(HashMap::new()),
            notice: RwSignal::new(None),
            live: RwSignal::new(false),
            stream_tried: RwSignal::new(false),
            primary_offsets: RwSignal::new(HashMap::new()),
            metrics_epoch: RwSignal::new(0),
            fleet_loads: StoredValue::new(FleetLoads::default()),
        }
    }

    /// State with a fleet already loaded, for tests and previews.
    pub fn with_fleet(api: Api, fleet: Fleet) -> Self {
        let state = Self::new(api);
        state.fleet.set(fleet);
        state.load.set(Load::Ready);
        state
    }

    /// Replaces the fleet with a fresh load and drops every optimistic state
    /// the server has moved past.
    pub fn set_fleet(&self, fleet: Fleet) {
        let links: HashMap<String, LinkView> =
            fleet.links().into_iter().map(|l| (l.key(), l)).collect();
        let now = js_sys::Date::now();
        let still_pending = |key: &String, o: &Optimistic| {
            now - o.since < OPTIMISTIC_TTL_MS
                && links
                    .get(key)
                    .is_some_and(|l| l.state == o.from && l.primary == o.primary)
        };
        let stale = self
            .optimistic
            .with_untracked(|p| p.iter().any(|(k, o)| !still_pending(k, o)));
        if stale {
            self.optimistic
                .update(|pending| pending.retain(|k, o| still_pending(k, o)));
        }
        // Polls mostly bring the same fleet; don't wake every view for it.
        if self.fleet.with_untracked(|current| *current != fleet) {
            self.fleet.set(fleet);
        }
        if self.load.with_untracked(|l| *l != Load::Ready) {
            self.load.set(Load::Ready);
        }
    }

    /// The state to show for a link: the optimistic one while the server
    /// still reports the state the user clicked in, else the server's.
    pub fn link_state(&self, link: &LinkView) -> LinkState {
        self.optimistic
            .with(|pending| pending.get(&link.key()).map(|o| o.to))
            .unwrap_or(link.state)
    }

    /// Shows `to` for a link until the server reports it moved (see
    /// [`Optimistic`]).
    pub fn expect(&self, link: &LinkView, to: LinkState) {
        let optimistic = Optimistic {
            from: link.state,
            primary: link.primary.clone(),
            to,
            since: js_sys::Date::now(),
        };
        self.optimistic.update(|pending| {
            pending.insert(link.key(), optimistic);
        });
    }

    /// Forgets the optimistic state of a link (its request failed).
    pub fn forget(&self, link: &LinkView) {
        self.optimistic.update(|pending| {
            pending.remove(&link.key());
        });
    }

    /// Tells the user something.
    pub fn tell(&self, error: bool, text: impl Into<String>) {
        self.notice.set(Some(Notice {
            error,
            text: text.into(),
        }));
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
