//! The link's past drills, newest first; picking one shows its report.

use leptos::prelude::*;

use super::report::{ms, rpo_text};
use super::use_drills;
use super::wire::Drill;
use crate::components::card::{Card, Column, Table};
use crate::components::each::For;
use crate::components::reactive::Derived;
use crate::components::show::Show;
use crate::model::format_time;

/// The history's columns.
const COLUMNS: [Column; 6] = [
    Column::new("Started"),
    Column::new("Kind"),
    Column::new("Status"),
    Column::new("RTO"),
    Column::optional("RPO"),
    Column::optional("Verification"),
];

/// The verification column's word for a drill.
fn verdict(drill: &Drill) -> &'static str {
    match drill.report.as_ref().and_then(|r| r.verification.as_ref()) {
        Some(v) if v.consistent => "Consistent",
        Some(_) => "Mismatches",
        None => "—",
    }
}

/// One past drill; its start time picks it.
#[component]
fn HistoryRow(drill: Drill) -> impl IntoView {
    let ctx = use_drills();
    let id = drill.id.clone();
    let picked = {
        let id = id.clone();
        Derived::new(move |_| ctx.shown().is_some_and(|d| d.id == id))
    };
    let pick = id.clone();
    let report = drill.report.clone().unwrap_or_default();
    let started = drill
        .started_at
        .as_deref()
        .map_or_else(|| drill.id.clone(), format_time);
    view! {
        <tr class="drill-row" class:picked=move || picked.get() data-drill=id.clone()>
            <th scope="row">
                <button
                    type="button"
                    class="link-button"
                    aria-pressed=move || picked.get().to_string()
                    on:click=move |_| ctx.selected.set(Some(pick.clone()))
                >
                    {started}
                </button>
            </th>
            <td>{drill.kind.label()}</td>
            <td>
                <span class=format!("badge badge-{}", drill.status.tone())>
                    {drill.status.label()}
                </span>
            </td>
            <td data-label="RTO">{report.rto_ms.map_or_else(|| "—".to_owned(), ms)}</td>
            <td class="col-optional" data-label="RPO">
                {rpo_text(&report)}
            </td>
            <td class="col-optional">{verdict(&drill)}</td>
        </tr>
    }
}

/// Every drill of the link.
#[component]
pub fn HistoryPanel() -> impl IntoView {
    let ctx = use_drills();
    let count = Signal::derive(move || ctx.drills.with(Vec::len));
    let any = move || ctx.drills.with(|d| !d.is_empty());
    view! {
        <Card
            title="Past drills"
            heading_id="drill-history-heading"
            count=count
            class="drill-history"
        >
            {move || {
                ctx.drills_error
                    .get()
                    .map(|e| {
                        view! {
                            <p class="muted card-body">"The drills can't be listed right now: " {e}</p>
                        }
                    })
            }}
            <Show
                when=any
                fallback=|| view! { <p class="muted card-body">"No drills on this link yet."</p> }
            >
                <Table columns=&COLUMNS class="drill-table" label="Past drills">
                    <For
                        each=move || ctx.drills.get()
                        key=|d| (d.id.clone(), d.status, d.finished_at.clone())
                        let(drill)
                    >
                        <HistoryRow drill=drill/>
                    </For>
                </Table>
            </Show>
        </Card>
    }
}
