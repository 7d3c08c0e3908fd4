//! The browser session's backend and token: the token arrives once in the
//! page's `#token=…&api=…` fragment, is kept in `sessionStorage`, and is
//! removed from the address bar so it never lands in history or a
//! screenshot.

const TOKEN_KEY: &str = "georep.token";
const BASE_KEY: &str = "georep.api";

/// Who the console talks to, and as whom.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Session {
    /// The backend's base URL.
    pub base: String,
    /// The bearer token, when known.
    pub token: Option<String>,
}

/// The session the page was opened for.
///
/// Takes `token` (and optionally `api`, a backend base URL) from the
/// `#token=…&api=…` fragment, stores them in `sessionStorage`, and
/// removes the fragment from the address bar. Without a fragment the
/// stored values are used; the base defaults to the page's origin.
pub fn from_browser() -> Session {
    let fragment = take_fragment_params();
    let storage = session_storage();
    for (key, stored) in [("token", TOKEN_KEY), ("api", BASE_KEY)] {
        if let (Some(value), Some(storage)) = (fragment_value(&fragment, key), &storage) {
            // Storage can refuse (private mode quota); the value still
            // works for this page load.
            let _ = storage.set_item(stored, &value);
        }
    }
    let stored = |key: &str| {
        storage
            .as_ref()
            .and_then(|s| s.get_item(key).ok().flatten())
            .filter(|v| !v.is_empty())
    };
    let token = fragment_value(&fragment, "token").or_else(|| stored(TOKEN_KEY));
    let base = fragment_value(&fragment, "api")
        .or_else(|| stored(BASE_KEY))
        .unwrap_or_else(page_origin);
    Session { base, token }
}

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok().flatten()
}

fn page_origin() -> String {
    web_sys::window()
        .and_then(|w| w.location().origin().ok())
        .unwrap_or_default()
}

/// Reads the address bar's fragment as `key=value` pairs and, if it holds
/// any, removes it with `history.replaceState` (no reload, no history entry).
fn take_fragment_params() -> Vec<(String, String)> {
    let Some(window) = web_sys::window() else {
        return Vec::new();
    };
    let location = window.location();
    let hash = location.hash().unwrap_or_default();
    let params = parse_fragment(&hash);
    if !params.is_empty() {
        let path = location.pathname().unwrap_or_else(|_| "/".into());
        let search = location.search().unwrap_or_default();
        if let Ok(history) = window.history() {
            let _ = history.replace_state_with_url(
                &wasm_bindgen::JsValue::NULL,
                "",
                Some(&format!("{path}{search}")),
            );
        }
    }
    params
}

/// Splits `#a=1&b=2` into decoded pairs. Keys other than `token` and `api`
/// are kept so callers can ignore them.
pub fn parse_fragment(hash: &str) -> Vec<(String, String)> {
    hash.trim_start_matches('#')
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(key, _)| !key.is_empty())
        .map(|(key, value)| {
            let value = js_sys::decode_uri_component(value)
                .ok()
                .and_then(|v| v.as_string())
                .unwrap_or_else(|| value.to_owned());
            (key.to_owned(), value)
        })
        .collect()
}

fn fragment_value(params: &[(String, String)], key: &str) -> Option<String> {
    params
        .iter()
        .find(|(k, v)| k == key && !v.is_empty())
        .map(|(_, v)| v.clone())
}
