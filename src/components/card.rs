//! A card (a titled panel) and the data table that cards hold.

use leptos::prelude::*;

/// A card: `<section class="card">` with an optional header, then its body.
#[component]
pub fn Card(
    /// The heading's text; without it the card has no header.
    #[prop(into, optional)]
    title: Option<String>,
    /// The heading's id, which also labels the card for assistive
    /// technology (`aria-labelledby`).
    #[prop(optional)]
    heading_id: Option<&'static str>,
    /// A count shown as a pill after the title.
    #[prop(into, optional)]
    count: Option<Signal<usize>>,
    /// A muted note on the header's right.
    #[prop(into, optional)]
    note: Option<Signal<String>>,
    /// Extra classes after `card`.
    #[prop(optional)]
    class: Option<&'static str>,
    /// The body: a `card-body`, a [`Table`], a list.
    children: Children,
) -> impl IntoView {
    let class = match class {
        Some(extra) => format!("card {extra}"),
        None => "card".to_owned(),
    };
    let header = title.map(|title| {
        view! {
            <header class="card-header">
                <h2 id=heading_id>
                    {title}
                    {count.map(|count| view! { <span class="count">{move || count.get()}</span> })}
                </h2>
                {note.map(|note| view! { <span class="muted">{move || note.get()}</span> })}
            </header>
        }
    });
    view! {
        <section class=class aria-labelledby=heading_id>
            {header}
            {children()}
        </section>
    }
}

/// A column of a [`Table`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    /// The header's text.
    pub label: &'static str,
    /// Hidden on narrow screens (`col-optional`).
    pub optional: bool,
    /// Read by screen readers only (e.g. "Actions").
    pub hidden: bool,
}

impl Column {
    /// A plain column.
    pub const fn new(label: &'static str) -> Self {
        Self {
            label,
            optional: false,
            hidden: false,
        }
    }

    /// A column narrow screens leave out.
    pub const fn optional(label: &'static str) -> Self {
        Self {
            optional: true,
            ..Self::new(label)
        }
    }

    /// A column whose header only screen readers read.
    pub const fn hidden(label: &'static str) -> Self {
        Self {
            hidden: true,
            ..Self::new(label)
        }
    }
}

/// A data grid in its scrolling wrapper: the header row from `columns`, the
/// rows from `children`.
#[component]
pub fn Table(
    /// The header cells.
    columns: &'static [Column],
    /// Extra classes after `grid`.
    #[prop(optional)]
    class: Option<&'static str>,
    /// Names the table for assistive technology.
    #[prop(optional)]
    label: Option<&'static str>,
    /// The rows.
    children: Children,
) -> impl IntoView {
    let class = match class {
        Some(extra) => format!("grid {extra}"),
        None => "grid".to_owned(),
    };
    let head = columns
        .iter()
        .map(|c| {
            let label = if c.hidden {
                view! { <span class="visually-hidden">{c.label}</span> }.into_any()
            } else {
                c.label.into_any()
            };
            view! {
                <th scope="col" class=c.optional.then_some("col-optional")>
                    {label}
                </th>
            }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class=class aria-label=label>
                <thead>
                    <tr>{head}</tr>
                </thead>
                <tbody>{children()}</tbody>
            </table>
        </div>
    }
}
