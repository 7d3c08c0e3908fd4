//! A link whose geo-primary lost every node (`LinkState::PrimaryLost`):
//! what happened, in words, and what `georep-core` still allows — a forced
//! failover to the geo-secondary, which kept its data, or unlinking.

use georep_core::link::{FailoverKind, LinkState};
use leptos::prelude::*;

use super::failover::dialog::FailoverDialog;
use super::failover::{failover_refusal, pair_same_size};
use super::link_actions::{unlink_refusal, UnlinkDialog};
use crate::components::guarded_button::GuardedButton;
use crate::components::reactive::Derived;
use crate::components::show::Show;
use crate::model::LinkView;
use crate::state::use_app;

/// One sentence: which cache lost its data and which kept it.
pub fn primary_lost_summary(link: &LinkView) -> String {
    format!(
        "The geo-primary {} lost every node and its data. The geo-secondary {} kept its data and no longer follows it.",
        link.primary.name, link.secondary.name
    )
}

/// What a forced failover does from here.
pub fn forced_failover_text(link: &LinkView) -> String {
    let (p, s) = (&link.primary.name, &link.secondary.name);
    format!(
        "A forced failover makes {s} the geo-primary at once: it takes writes with the data it kept, and the geo-primary URLs move to it. {p} rejoins as its geo-secondary once its nodes are back. Writes {p} took that had not reached {s} are gone."
    )
}

/// The notice on the geo-replication page, with the forced failover and
/// unlink, each enabled by the state machine. Shown while the link is
/// `PrimaryLost`; its dialogs stay mounted after, so the failover dialog
/// follows the failover it started to the end.
#[component]
pub fn PrimaryLostNotice(#[prop(into)] link: Signal<LinkView>) -> impl IntoView {
    let app = use_app();
    let state = Signal::derive(move || link.with(|l| app.link_state(l)));
    let same = Signal::derive(move || link.with(|l| pair_same_size(app, l)));
    let failover_open = RwSignal::new(false);
    let unlink_open = RwSignal::new(false);
    let forced_refused =
        Signal::derive(move || failover_refusal(state.get(), FailoverKind::Forced, same.get()));
    let unlink_refused = Signal::derive(move || unlink_refusal(state.get()));
    let secondary = move || link.with(|l| l.secondary.name.clone());
    let on_unlink = Callback::new(move |()| {
        failover_open.set(false);
        unlink_open.set(true);
    });
    let lost = Derived::new(move |_| state.get() == LinkState::PrimaryLost);
    view! {
        <Show when=move || lost.get()>
        <section class="primary-lost" role="alert" aria-labelledby="primary-lost-heading">
            <h2 id="primary-lost-heading">"The geo-primary lost its data"</h2>
            <p>{move || link.with(primary_lost_summary)}</p>
            <p>{move || link.with(forced_failover_text)}</p>
            <p class="muted">
                "Or unlink: both caches stand alone, and " {secondary} " keeps its data."
            </p>
            <div class="primary-lost-actions">
                <GuardedButton
                    label=format!("Forced failover to {}", secondary())
                    class="btn-primary"
                    refusal=forced_refused
                    on_click=Callback::new(move |()| failover_open.set(true))
                />
                <GuardedButton
                    label="Unlink caches"
                    refusal=unlink_refused
                    on_click=Callback::new(move |()| unlink_open.set(true))
                />
            </div>
        </section>
        </Show>
        <FailoverDialog link=link open=failover_open on_unlink=on_unlink/>
        <UnlinkDialog link=link open=unlink_open/>
    }
}
