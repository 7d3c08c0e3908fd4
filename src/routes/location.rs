//! The console's own client-side router: the address bar as one signal,
//! changed by clicks on the console's links, by [`super::use_go`] and by
//! the browser's back and forward buttons.
//!
//! It replaces `leptos_router`, whose matching and nested views were about
//! a fifth of the console's wasm for seven flat routes (README, console
//! size notes). What it keeps of that router's behaviour: a click on a
//! same-origin link under the console's root, with no modifier key, no
//! `target`, `download` or `rel="external"`, is handled in the page; each
//! navigation to another address adds one history entry and scrolls to
//! the top; back and forward re-read the address bar.

use leptos::ev;
use leptos::prelude::*;
use wasm_bindgen::JsCast;

/// The address bar: its path and its query (without the `?`).
#[derive(Clone, Default, PartialEq)]
pub struct Url {
    /// The path, percent-encoded as the browser shows it.
    pub path: String,
    /// The query string without its `?`.
    pub search: String,
}

impl Url {
    /// The address bar as it is now.
    fn current() -> Self {
        let location = window().location();
        Self {
            path: location.pathname().unwrap_or_default(),
            search: search_of(&location.search().unwrap_or_default()),
        }
    }

    /// The query parameter `name`, percent-decoded.
    pub fn query(&self, name: &str) -> Option<String> {
        self.search
            .split('&')
            .filter_map(|pair| pair.split_once('=').or(Some((pair, ""))))
            .find(|(key, _)| *key == name)
            .map(|(_, value)| decode(&value.replace('+', " ")))
    }
}

/// A `location.search` without its leading `?`.
fn search_of(search: &str) -> String {
    search.strip_prefix('?').unwrap_or(search).to_owned()
}

/// `text` percent-decoded, or as it is if it isn't valid.
pub fn decode(text: &str) -> String {
    if !text.contains('%') {
        return text.to_owned();
    }
    js_sys::decode_uri_component(text)
        .ok()
        .and_then(|decoded| decoded.as_string())
        .unwrap_or_else(|| text.to_owned())
}

/// The address bar, shared through context by [`Router`].
#[derive(Clone, Copy)]
pub struct Location {
    url: RwSignal<Url>,
}

impl Location {
    /// The address bar, reactive.
    pub fn url(&self) -> Signal<Url> {
        self.url.into()
    }

    /// Goes to `to`, an absolute path with an optional query and fragment:
    /// a history entry if it is another address, then the top of the page
    /// (or the fragment's element).
    pub fn navigate(&self, to: &str) {
        let (address, hash) = to.split_once('#').unwrap_or((to, ""));
        let (path, search) = address.split_once('?').unwrap_or((address, ""));
        let next = Url {
            path: path.to_owned(),
            search: search.to_owned(),
        };
        if let Ok(history) = window().history() {
            let here = Url::current();
            let state = wasm_bindgen::JsValue::NULL;
            // The same address again (a click on the current page's link)
            // adds no entry, as the browser does for its own links.
            let _ = if here == next {
                history.replace_state_with_url(&state, "", Some(to))
            } else {
                history.push_state_with_url(&state, "", Some(to))
            };
        }
        self.url.set(next);
        scroll_to(hash);
    }
}

/// Scrolls to the element the fragment `hash` names, or to the top.
fn scroll_to(hash: &str) {
    let target = (!hash.is_empty())
        .then(|| document().get_element_by_id(&decode(hash)))
        .flatten();
    match target {
        Some(element) => element.scroll_into_view(),
        None => window().scroll_to_with_x_and_y(0.0, 0.0),
    }
}

/// The address bar, from the [`Router`] around the caller.
pub fn use_location() -> Location {
    use_context::<Location>().expect("the console's pages live inside its Router")
}

/// Provides the address bar to `children` and keeps it current.
#[component]
pub fn Router(children: Children) -> impl IntoView {
    let location = Location {
        url: RwSignal::new(Url::current()),
    };
    provide_context(location);
    let clicks = window_event_listener(ev::click, move |event| {
        if let Some(to) = in_page_target(&event) {
            event.prevent_default();
            match to {
                Target::Fragment(id) => focus(&id),
                Target::Address(to) => location.navigate(&to),
            }
        }
    });
    let history = window_event_listener(ev::popstate, move |_| location.url.set(Url::current()));
    on_cleanup(move || {
        clicks.remove();
        history.remove();
    });
    children()
}

/// Where a click on a link goes when the console handles it itself.
enum Target {
    /// Another address of the console (path, query and fragment).
    Address(String),
    /// An element of this page, by id (a link whose href is only `#id`).
    Fragment(String),
}

/// The console's own destination of a click, or `None` for one the
/// browser handles (another origin, a new tab, a download, a modifier).
fn in_page_target(event: &web_sys::MouseEvent) -> Option<Target> {
    if event.default_prevented()
        || event.button() != 0
        || event.meta_key()
        || event.alt_key()
        || event.ctrl_key()
        || event.shift_key()
    {
        return None;
    }
    let anchor = event
        .target()?
        .dyn_into::<web_sys::Element>()
        .ok()?
        .closest("a[href]")
        .ok()??
        .dyn_into::<web_sys::HtmlAnchorElement>()
        .ok()?;
    let external = anchor
        .get_attribute("rel")
        .is_some_and(|rel| rel.split_whitespace().any(|word| word == "external"));
    if !anchor.target().is_empty() || anchor.has_attribute("download") || external {
        return None;
    }
    // A fragment alone (the skip link) means this page, not the document
    // base that the browser would resolve it against.
    let raw = anchor.get_attribute("href").unwrap_or_default();
    if let Some(id) = raw.strip_prefix('#') {
        return Some(Target::Fragment(decode(id)));
    }
    let url = web_sys::Url::new(&anchor.href()).ok()?;
    let origin = window().location().origin().ok()?;
    let root = super::root();
    if url.origin() != origin || !url.pathname().starts_with(&root) {
        return None;
    }
    Some(Target::Address(format!(
        "{}{}{}",
        url.pathname(),
        url.search(),
        url.hash()
    )))
}

/// Moves the focus (and the view) to the element with id `id`.
fn focus(id: &str) {
    if let Some(element) = document().get_element_by_id(id) {
        element.scroll_into_view();
        if let Ok(element) = element.dyn_into::<web_sys::HtmlElement>() {
            let _ = element.focus();
        }
    }
}
