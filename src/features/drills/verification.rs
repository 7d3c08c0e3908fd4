//! Verification on demand: the two sides compared at one replication
//! offset, with the keys that differ.

use leptos::prelude::*;

use super::report::VerificationResult;
use super::wire::Verification;
use super::{error_banner, use_drills};
use crate::api::ApiError;
use crate::components::card::Card;
use crate::components::guarded_button::GuardedButton;
use crate::state::use_app;

/// The verification card.
#[component]
pub fn VerificationPanel() -> impl IntoView {
    let app = use_app();
    let ctx = use_drills();
    // A read, not a change: it runs as an action of its own so its answer
    // (and its error) stays beside the button.
    let verify: Action<String, Result<Verification, ApiError>> =
        Action::new_local(move |link: &String| {
            let link = link.clone();
            async move { app.observe(app.api().verify(&link).await) }
        });
    let refusal = Signal::derive(move || {
        verify
            .pending()
            .get()
            .then(|| "Comparing both sides…".to_owned())
    });
    let run = Callback::new(move |()| {
        verify.dispatch_local(ctx.link_id.get_untracked());
    });
    let result = move || match verify.value().get() {
        Some(Ok(v)) => view! { <VerificationResult verification=v/> }.into_any(),
        Some(Err(e)) => error_banner(Some(e.to_string())).into_any(),
        None => view! {
            <p class="muted">"Not compared yet in this view."</p>
        }
        .into_any(),
    };
    view! {
        <Card title="Verification" heading_id="drill-verify-heading" class="drill-verify">
            <div class="card-body">
                <p class="muted">
                    "Compares key counts per database and a digest of every key's value on both sides, at one replication offset, without pausing writes."
                </p>
                <div class="drill-run-actions">
                    <GuardedButton
                        label="Verify now"
                        class="drill-verify-button"
                        refusal=refusal
                        on_click=run
                    />
                </div>
                // Numbered per answer: a new answer like the last one is
                // patched into the same elements, so this says it is new.
                <div class="verification-answer" data-answer=move || verify.version().get().to_string()>
                    {result}
                </div>
            </div>
        </Card>
    }
}
