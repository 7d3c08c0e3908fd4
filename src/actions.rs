//! Every change the console asks the backend for, each run through one
//! `Action::new_local`, so "show the optimistic state, call the api, then
//! refresh and tell the user, or roll back and report the error" is written
//! once, here.
//!
//! A feature builds a [`Mutation`], creates its action with
//! [`use_mutation`], dispatches it, and reads the action's `pending()` or
//! `value()` where it shows progress or an inline error.

use georep_core::arm::{
    ExportParameters, ImportParameters, RedisUpdateParameters, RedisUpdateProperties,
};
use georep_core::link::{Event, FailoverKind, LinkState};
use georep_core::model::{Cache, Sku};
use georep_core::CacheId;
use leptos::prelude::*;

use crate::api::{Api, ApiError};
use crate::features::drills::wire::{DrillRequest, FaultRequest};
use crate::model::{Fleet, LinkView};
use crate::state::{use_app, AppState};

/// A change to send to the backend.
#[derive(Debug, Clone, PartialEq)]
pub enum Mutation {
    /// Link `secondary` to `primary`.
    CreateLink {
        /// The would-be geo-primary.
        primary: CacheId,
        /// The chosen geo-secondary.
        secondary: Cache,
    },
    /// Fail `link` over; build it with [`Mutation::failover`].
    Failover {
        /// The link, as the server last reported it.
        link: LinkView,
        /// The current geo-primary, named in the reversed link (boxed: a
        /// whole cache resource would make every mutation that big).
        primary: Box<Cache>,
        /// Planned or forced.
        kind: FailoverKind,
        /// The state the console shows until the server moves.
        to: LinkState,
    },
    /// Unlink `link`; build it with [`Mutation::unlink`].
    Unlink {
        /// The link, as the server last reported it.
        link: LinkView,
        /// The state the console shows until the server moves.
        to: LinkState,
    },
    /// Scale a cache to `sku`.
    Scale {
        /// The cache.
        id: CacheId,
        /// Its new size.
        sku: Sku,
    },
    /// Delete a cache.
    Delete {
        /// The cache.
        id: CacheId,
    },
    /// Export a cache's data.
    Export {
        /// The cache.
        id: CacheId,
        /// Where to.
        params: ExportParameters,
    },
    /// Import data into a cache.
    Import {
        /// The cache.
        id: CacheId,
        /// From which files.
        params: ImportParameters,
    },
    /// Start a disaster-recovery drill on a link.
    StartDrill(DrillRequest),
    /// Inject or undo a fault on purpose.
    Fault {
        /// The fault.
        request: FaultRequest,
        /// What to tell the user once it is done.
        done: String,
    },
}

impl Mutation {
    /// A failover of `link`, if `georep-core`'s state machine allows one
    /// from the state the server reports and the fleet knows the primary.
    pub fn failover(
        app: AppState,
        link: LinkView,
        kind: FailoverKind,
        same_size: bool,
    ) -> Option<Self> {
        let to = link
            .state
            .next(Event::FailoverRequested { kind, same_size })
            .ok()?;
        let primary = app
            .fleet
            .with_untracked(|f| f.get(&link.primary).map(|e| Box::new(e.cache.clone())))?;
        Some(Self::Failover {
            link,
            primary,
            kind,
            to,
        })
    }

    /// An unlink of `link`, if the state machine allows one.
    pub fn unlink(link: LinkView) -> Option<Self> {
        let to = link.state.next(Event::UnlinkRequested).ok()?;
        Some(Self::Unlink { link, to })
    }

    /// The link state to show before the server answers.
    fn optimistic(&self) -> Option<(&LinkView, LinkState)> {
        match self {
            Self::Failover { link, to, .. } | Self::Unlink { link, to } => Some((link, *to)),
            _ => None,
        }
    }

    /// The one request this mutation makes.
    async fn send(self, api: Api) -> Result<(), ApiError> {
        match self {
            Self::CreateLink { primary, secondary } => {
                api.create_link(&primary, &secondary).await.map(drop)
            }
            Self::Failover {
                link,
                primary,
                kind,
                ..
            } => api
                .failover(&link.secondary, &primary, kind)
                .await
                .map(drop),
            Self::Unlink { link, .. } => api.unlink(&link.primary, &link.secondary).await,
            Self::Scale { id, sku } => {
                let update = RedisUpdateParameters {
                    properties: Some(RedisUpdateProperties {
                        sku: Some(sku),
                        ..RedisUpdateProperties::default()
                    }),
                    ..RedisUpdateParameters::default()
                };
                api.update_cache(&id, &update).await.map(drop)
            }
            Self::Delete { id } => api.delete_cache(&id).await,
            Self::Export { id, params } => api.export(&id, &params).await,
            Self::Import { id, params } => api.import(&id, &params).await,
            Self::StartDrill(request) => api.start_drill(&request).await.map(drop),
            Self::Fault { request, .. } => api.inject_fault(&request).await.map(drop),
        }
    }

    /// What to tell the user once the backend has accepted it.
    fn accepted_text(&self) -> Option<String> {
        match self {
            Self::CreateLink { .. } => Some(
                "Linking started. The secondary becomes available when the full sync completes."
                    .to_owned(),
            ),
            Self::Failover { .. } => None,
            Self::Unlink { link, .. } => Some(format!(
                "Unlinking {} and {}. When it completes, both caches accept reads and writes; the replicated data stays in {}.",
                link.primary.name, link.secondary.name, link.secondary.name
            )),
            Self::Scale { id, sku } => Some(format!("Scaling {} to {sku}.", id.name)),
            Self::Delete { id } => Some(format!("Deleting {}.", id.name)),
            Self::Export { id, params } => Some(format!(
                "Exporting {} to {}/{}.",
                id.name, params.container, params.prefix
            )),
            Self::Import { id, .. } => Some(format!("Importing into {}.", id.name)),
            Self::StartDrill(_) => None,
            Self::Fault { done, .. } => Some(done.clone()),
        }
    }
}

impl Mutation {
    /// What to tell the user once the fleet shows the accepted mutation
    /// done, for those whose notice says it has only started (linking and
    /// unlinking).
    fn done_text(&self, fleet: &Fleet) -> Option<String> {
        match self {
            Self::CreateLink { primary, secondary } => {
                let link = fleet.link_of(primary)?;
                (link.state == LinkState::Linked && link.secondary == secondary.id).then(|| {
                    format!(
                        "{} and {} are linked: the full sync is done and {} replicates {}.",
                        primary.name, secondary.id.name, secondary.id.name, primary.name
                    )
                })
            }
            Self::Unlink { link, .. } => fleet.link_of(&link.primary).is_none().then(|| {
                format!(
                    "{} and {} are unlinked: both accept reads and writes, and {} kept the replicated data.",
                    link.primary.name, link.secondary.name, link.secondary.name
                )
            }),
            _ => None,
        }
    }
}

/// Replaces the notice `said` about `mutation` with its outcome once the
/// fleet shows it, unless the user dismissed it or was told something else.
async fn follow_up(app: AppState, mutation: Mutation, said: String) {
    loop {
        gloo_timers::future::sleep(std::time::Duration::from_millis(500)).await;
        let current = app
            .notice
            .with_untracked(|n| n.as_ref().is_some_and(|n| n.text == said));
        if !current {
            return;
        }
        if let Some(done) = app.fleet.with_untracked(|f| mutation.done_text(f)) {
            app.tell(false, done);
            return;
        }
    }
}

/// Where a refused mutation's error goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Report {
    /// To the notice bar.
    Notice,
    /// Nowhere here: the caller shows the action's `value()` next to the
    /// control that started it.
    Inline,
}

/// A mutation's action: its value is the backend's verdict.
pub type MutationAction = Action<Mutation, Result<(), ApiError>>;

/// The action that runs mutations: shows their optimistic link state at
/// once, sends the request, then refreshes and tells the user, or rolls the
/// optimistic state back and reports the error as `report` says.
pub fn use_mutation(report: Report) -> MutationAction {
    let app = use_app();
    Action::new_local(move |mutation: &Mutation| {
        let mutation = mutation.clone();
        // Synchronously, so the click shows its effect before any answer.
        let optimistic = mutation.optimistic().map(|(link, to)| {
            app.expect(link, to);
            link.clone()
        });
        async move {
            let accepted = mutation.accepted_text();
            let sent = mutation.clone();
            let result = app.observe(mutation.send(app.api()).await);
            match &result {
                Ok(()) => {
                    app.refresh();
                    if let Some(text) = accepted {
                        app.tell(false, text.clone());
                        leptos::task::spawn_local(follow_up(app, sent, text));
                    }
                }
                Err(e) => {
                    if let Some(link) = &optimistic {
                        app.forget(link);
                    }
                    if report == Report::Notice {
                        app.tell(true, e.to_string());
                    }
                }
            }
            result
        }
    })
}

/// The error of the action's last run, for an inline report.
pub fn last_error(action: MutationAction) -> Option<String> {
    action
        .value()
        .get()
        .and_then(Result::err)
        .map(|e| e.to_string())
}

/// Whether the action's last run was accepted.
pub fn last_accepted(action: MutationAction) -> bool {
    matches!(action.value().get(), Some(Ok(())))
}
