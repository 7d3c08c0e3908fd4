//! The card, table and dialog-footer primitives render the markup the
//! styles and the end-to-end walkthrough rely on.
#![cfg(target_arch = "wasm32")]

mod common;

use common::*;
use georep_console::components::card::{Card, Column, Table};
use georep_console::components::dialog::{Dialog, DialogActions};
use leptos::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

const COLUMNS: [Column; 3] = [
    Column::new("Name"),
    Column::optional("Group"),
    Column::hidden("Actions"),
];

#[wasm_bindgen_test]
async fn a_card_with_a_table() {
    let root = container();
    let handle = leptos::mount::mount_to(root.clone(), || {
        view! {
            <Card title="Things" heading_id="things-heading" class="extra" count=Signal::stored(2)>
                <Table columns=&COLUMNS class="things">
                    <tr><td>"a"</td></tr>
                </Table>
            </Card>
            <Card class="bare"><p>"body"</p></Card>
        }
    });
    std::mem::forget(handle);
    settle().await;
    let card = one(&root, "section.card.extra");
    assert_eq!(
        card.get_attribute("aria-labelledby").as_deref(),
        Some("things-heading")
    );
    assert_eq!(
        one(&root, "#things-heading").text_content().unwrap(),
        "Things2"
    );
    assert_eq!(texts(&root, ".card-header .count"), ["2"]);
    let table = one(&root, ".table-wrap > table");
    assert_eq!(table.class_name(), "grid things");
    assert_eq!(texts(&root, "thead th"), ["Name", "Group", "Actions"]);
    assert_eq!(texts(&root, "thead th.col-optional"), ["Group"]);
    assert_eq!(texts(&root, "thead th .visually-hidden"), ["Actions"]);
    assert_eq!(texts(&root, "tbody td"), ["a"]);
    // Without a title, no header and no label.
    let bare = one(&root, "section.card.bare");
    assert!(bare.query_selector(".card-header").unwrap().is_none());
    assert!(!bare.has_attribute("aria-labelledby"));
}

#[wasm_bindgen_test]
async fn the_dialog_footer_dismisses_first() {
    let root = container();
    let open = RwSignal::new(true);
    let handle = leptos::mount::mount_to(root.clone(), move || {
        view! {
            <Dialog open=open title="Something">
                <DialogActions open=open>
                    <button type="button" class="btn btn-primary">"Do it"</button>
                </DialogActions>
            </Dialog>
        }
    });
    std::mem::forget(handle);
    settle().await;
    // The walkthrough finds the dismiss button as a child of `div.actions`.
    let footer = one(&root, "[role=dialog] div.actions");
    assert_eq!(footer.get_attribute("class").as_deref(), Some("actions"));
    assert_eq!(texts(&root, "div.actions > button"), ["Cancel", "Do it"]);
    one(&root, "div.actions > button.btn:not(.btn-primary)").click();
    settle().await;
    assert!(!open.get_untracked());
    assert!(root.query_selector("[role=dialog]").unwrap().is_none());
}
