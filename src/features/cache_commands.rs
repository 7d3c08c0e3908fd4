//! The dialogs of a cache's commands: Scale, Delete, Import and Export,
//! each sending its one mutation through [`crate::actions`]. Whether a
//! command is allowed at all comes from [`refusal`].

use georep_core::arm::{ExportParameters, ImportParameters};
use georep_core::model::Sku;
use georep_core::restrict::{check_change, Change};
use leptos::prelude::*;

use crate::actions::{last_accepted, use_mutation, Mutation, Report};
use crate::components::dialog::{Dialog, DialogActions};
use crate::components::reactive::{effect, Derived};
use crate::model::CacheEntry;
use crate::numbers::fixed;
use crate::routes::{use_go, HOME};

/// Why `change` is refused for this cache now, per `georep-core`.
pub fn refusal(entry: &CacheEntry, change: Change) -> Option<String> {
    check_change(&entry.cache, change)
        .err()
        .map(|r| r.to_string())
}

/// Scale: choose a new Premium size.
#[component]
pub fn ScaleDialog(entry: Derived<CacheEntry>, open: RwSignal<bool>) -> impl IntoView {
    let scale = use_mutation(Report::Notice);
    let capacity = RwSignal::new(entry.with_untracked(|e| e.cache.sku.capacity));
    let apply = move |_| {
        let (id, mut sku) = entry.with_untracked(|e| (e.id().clone(), e.cache.sku));
        sku.capacity = capacity.get_untracked();
        open.set(false);
        scale.dispatch_local(Mutation::Scale { id, sku });
    };
    view! {
        <Dialog open=open title="Scale">
            <label class="field">
                <span>"New size"</span>
                <select on:change=move |ev| {
                    if let Ok(c) = event_target_value(&ev).parse() {
                        capacity.set(c);
                    }
                }>
                    {(1..=5u8)
                        .map(|c| {
                            let sku = Sku::premium(c);
                            let mb = sku.memory_mb().unwrap_or_default();
                            view! {
                                <option value=c.to_string() selected=move || capacity.get() == c>
                                    {format!("{sku} ({} GB)", fixed(f64::from(mb) / 1024.0, 0))}
                                </option>
                            }
                        })
                        .collect_view()}
                </select>
            </label>
            <DialogActions open=open>
                <button type="button" class="btn btn-primary" on:click=apply>"Scale"</button>
            </DialogActions>
        </Dialog>
    }
}

/// Delete, after a confirmation; back to the cache list once accepted.
#[component]
pub fn DeleteDialog(entry: Derived<CacheEntry>, open: RwSignal<bool>) -> impl IntoView {
    let go = use_go();
    let delete = use_mutation(Report::Notice);
    effect(move || {
        if last_accepted(delete) {
            go(HOME);
        }
    });
    let confirm = move |_| {
        let id = entry.with_untracked(|e| e.id().clone());
        open.set(false);
        delete.dispatch_local(Mutation::Delete { id });
    };
    view! {
        <Dialog open=open title="Delete cache">
            <p>
                "Delete " <strong>{move || entry.with(|e| e.name().to_owned())}</strong>
                " and all its data? This can't be undone."
            </p>
            <DialogActions open=open>
                <button type="button" class="btn btn-danger" on:click=confirm>"Delete"</button>
            </DialogActions>
        </Dialog>
    }
}

/// A text field bound to a signal.
#[component]
fn TextField(label: &'static str, value: RwSignal<String>, hint: &'static str) -> impl IntoView {
    view! {
        <label class="field">
            <span>{label}</span>
            <input
                type="text"
                prop:value=move || value.get()
                on:input=move |ev| value.set(event_target_value(&ev))
            />
            <span class="muted field-hint">{hint}</span>
        </label>
    }
}

/// Export: one RDB file per shard into a container.
#[component]
pub fn ExportDialog(entry: Derived<CacheEntry>, open: RwSignal<bool>) -> impl IntoView {
    let export = use_mutation(Report::Notice);
    let prefix = RwSignal::new("backup".to_owned());
    let container = RwSignal::new("exports".to_owned());
    let apply = move |_| {
        let id = entry.with_untracked(|e| e.id().clone());
        let params = ExportParameters {
            prefix: prefix.get_untracked(),
            container: container.get_untracked(),
            format: Some("RDB".to_owned()),
        };
        open.set(false);
        export.dispatch_local(Mutation::Export { id, params });
    };
    view! {
        <Dialog open=open title="Export data">
            <TextField label="Container" value=container hint="A folder under the server's exports"/>
            <TextField label="File name prefix" value=prefix hint="One RDB file per shard"/>
            <DialogActions open=open>
                <button type="button" class="btn btn-primary" on:click=apply>"Export"</button>
            </DialogActions>
        </Dialog>
    }
}

/// Import: the files a previous export wrote.
#[component]
pub fn ImportDialog(entry: Derived<CacheEntry>, open: RwSignal<bool>) -> impl IntoView {
    let import = use_mutation(Report::Notice);
    let files = RwSignal::new("exports/backup.rdb".to_owned());
    let apply = move |_| {
        let id = entry.with_untracked(|e| e.id().clone());
        let params = ImportParameters {
            files: files
                .get_untracked()
                .split(',')
                .map(|f| f.trim().to_owned())
                .filter(|f| !f.is_empty())
                .collect(),
            format: Some("RDB".to_owned()),
        };
        open.set(false);
        import.dispatch_local(Mutation::Import { id, params });
    };
    view! {
        <Dialog open=open title="Import data">
            <TextField label="Files" value=files hint="Paths an export wrote, comma-separated, one per shard"/>
            <p class="muted">"Importing replaces the cache's data."</p>
            <DialogActions open=open>
                <button type="button" class="btn btn-primary" on:click=apply>"Import"</button>
            </DialogActions>
        </Dialog>
    }
}
