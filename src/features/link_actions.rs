//! A link's Failover and Unlink buttons, enabled by `georep-core`'s link
//! state machine with its refusal as the tooltip, and the unlink
//! confirmation. The failover dialog lives in [`super::failover`].

use georep_core::link::{Event, FailoverKind, LinkState};
use leptos::prelude::*;

use super::failover::dialog::FailoverDialog;
use super::failover::{failover_refusal, pair_same_size};
use crate::actions::{use_mutation, Mutation, Report};
use crate::components::dialog::{Dialog, DialogActions};
use crate::components::guarded_button::GuardedButton;
use crate::model::LinkView;
use crate::state::use_app;

/// Why an unlink can't start now, per the state machine.
pub fn unlink_refusal(state: LinkState) -> Option<String> {
    state
        .allows(Event::UnlinkRequested)
        .err()
        .map(|r| r.to_string())
}

/// The Failover and Unlink buttons of a link, with their dialogs.
#[component]
pub fn LinkActions(#[prop(into)] link: Signal<LinkView>) -> impl IntoView {
    let app = use_app();
    let state = Signal::derive(move || link.with(|l| app.link_state(l)));
    let same = Signal::derive(move || link.with(|l| pair_same_size(app, l)));
    let failover_open = RwSignal::new(false);
    let unlink_open = RwSignal::new(false);
    // Enabled when either kind may start (after the geo-primary's loss,
    // only a forced one may); else the planned one's refusal says why.
    let failover_refused = Signal::derive(move || {
        let (state, same) = (state.get(), same.get());
        failover_refusal(state, FailoverKind::Planned, same)
            .filter(|_| failover_refusal(state, FailoverKind::Forced, same).is_some())
    });
    let unlink_refused = Signal::derive(move || unlink_refusal(state.get()));
    view! {
        <div class="link-actions">
            <GuardedButton
                label="Failover"
                refusal=failover_refused
                on_click=Callback::new(move |()| failover_open.set(true))
            />
            <GuardedButton
                label="Unlink caches"
                refusal=unlink_refused
                on_click=Callback::new(move |()| unlink_open.set(true))
            />
            <FailoverDialog
                link=link
                open=failover_open
                on_unlink=Callback::new(move |()| {
                    failover_open.set(false);
                    unlink_open.set(true);
                })
            />
            <UnlinkDialog link=link open=unlink_open/>
        </div>
    }
}

/// The unlink confirmation.
#[component]
pub fn UnlinkDialog(#[prop(into)] link: Signal<LinkView>, open: RwSignal<bool>) -> impl IntoView {
    let app = use_app();
    let unlink = use_mutation(Report::Notice);
    let refusal = Signal::derive(move || link.with(|l| unlink_refusal(app.link_state(l))));
    let confirm = Callback::new(move |()| {
        open.set(false);
        if let Some(mutation) = Mutation::unlink(link.get_untracked()) {
            unlink.dispatch_local(mutation);
        }
    });
    view! {
        <Dialog open=open title="Unlink caches">
            {move || {
                let l = link.get();
                let lost = app.link_state(&l) == LinkState::PrimaryLost;
                let first = if lost {
                    format!(
                        "{} lost every node and its data; {} kept its data.",
                        l.primary.name, l.secondary.name
                    )
                } else {
                    "Both caches stay available while unlinking.".to_owned()
                };
                view! {
                    <p>
                        "Stop geo-replication between " <strong>{l.primary.name.clone()}</strong>
                        " and " <strong>{l.secondary.name.clone()}</strong> "?"
                    </p>
                    <ul class="plain-list">
                        <li>{first}</li>
                        <li>
                            "Afterwards " {l.secondary.name.clone()}
                            " accepts reads and writes, and keeps the data replicated so far."
                        </li>
                        <li>"The geo-primary URLs stop working."</li>
                    </ul>
                }
            }}
            <DialogActions open=open>
                <GuardedButton label="Unlink" class="btn-danger" refusal=refusal on_click=confirm/>
            </DialogActions>
        </Dialog>
    }
}
