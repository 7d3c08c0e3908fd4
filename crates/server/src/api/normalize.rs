//! ARM paths are case-insensitive in their fixed segments: clients send
//! `resourcegroups` or `resourceGroups`, `Redis` or `redis`. This rewrites
//! the fixed segments to one spelling before routing, leaving names alone.

use axum::extract::Request;
use axum::http::Uri;

/// Fixed segments that are followed by a name (`resourceGroups/{group}`).
const NAMED: [&str; 10] = [
    "subscriptions",
    "resourceGroups",
    "redis",
    "linkedServers",
    "firewallRules",
    "privateEndpointConnections",
    "locations",
    "asyncOperations",
    "operationResults",
    "providers",
];

/// Fixed segments that stand alone (`…/listKeys`).
const ALONE: [&str; 6] = [
    "listKeys",
    "regenerateKey",
    "export",
    "import",
    "forceReboot",
    "metrics",
];

/// Resource provider namespaces, after `providers/`.
const NAMESPACES: [&str; 2] = ["Microsoft.Cache", "Microsoft.Insights"];

/// Rewrites `request`'s path to the canonical spelling of its fixed
/// segments, and without empty segments: clients join a base URL that ends
/// in `/` (as `az cloud register --endpoint-resource-manager URL/` takes it)
/// with paths that start with one, and ARM ignores the doubled slash.
pub fn canonical_path(mut request: Request) -> Request {
    let uri = request.uri();
    let collapsed = collapse_slashes(uri.path());
    let path = if collapsed.to_ascii_lowercase().starts_with("/subscriptions") {
        canonicalize(&collapsed)
    } else {
        collapsed
    };
    if path == uri.path() {
        return request;
    }
    let rewritten = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path,
    };
    if let Ok(new) = rewritten.parse::<Uri>() {
        *request.uri_mut() = new;
    }
    request
}

/// `path` with runs of `/` made one.
fn collapse_slashes(path: &str) -> String {
    let mut out = String::with_capacity(path.len());
    for c in path.chars() {
        if !(c == '/' && out.ends_with('/')) {
            out.push(c);
        }
    }
    out
}

fn canonicalize(path: &str) -> String {
    let mut out = Vec::new();
    let mut expect_name = false;
    let mut after_providers = false;
    for segment in path.split('/') {
        if segment.is_empty() {
            out.push(segment.to_owned());
            continue;
        }
        if expect_name {
            expect_name = false;
            out.push(segment.to_owned());
            continue;
        }
        if after_providers {
            after_providers = false;
            let canonical = NAMESPACES
                .iter()
                .find(|n| n.eq_ignore_ascii_case(segment))
                .map_or(segment, |n| n);
            out.push(canonical.to_owned());
            continue;
        }
        if let Some(fixed) = NAMED.iter().find(|k| k.eq_ignore_ascii_case(segment)) {
            if *fixed == "providers" {
                after_providers = true;
            } else {
                expect_name = true;
            }
            out.push((*fixed).to_owned());
        } else if let Some(fixed) = ALONE.iter().find(|k| k.eq_ignore_ascii_case(segment)) {
            out.push((*fixed).to_owned());
        } else {
            out.push(segment.to_owned());
        }
    }
    out.join("/")
}

#[cfg(test)]
mod tests {
    use super::{canonicalize, collapse_slashes};

    #[test]
    fn doubled_slashes_are_one() {
        assert_eq!(
            collapse_slashes("//metadata//endpoints"),
            "/metadata/endpoints"
        );
        assert_eq!(collapse_slashes("/subscriptions/s"), "/subscriptions/s");
        assert_eq!(collapse_slashes("/"), "/");
    }

    #[test]
    fn fixed_segments_get_one_spelling_and_names_are_kept() {
        assert_eq!(
            canonicalize("/SUBSCRIPTIONS/s/resourcegroups/Redis/providers/microsoft.cache/Redis/Export/LISTKEYS"),
            "/subscriptions/s/resourceGroups/Redis/providers/Microsoft.Cache/redis/Export/listKeys"
        );
        assert_eq!(
            canonicalize(
                "/subscriptions/s/providers/Microsoft.Cache/Locations/westeurope/asyncoperations/1"
            ),
            "/subscriptions/s/providers/Microsoft.Cache/locations/westeurope/asyncOperations/1"
        );
        assert_eq!(
            canonicalize("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Cache/redis/a/linkedservers/b"),
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Cache/redis/a/linkedServers/b"
        );
        assert_eq!(
            canonicalize("/subscriptions/s/resourceGroups/rg/providers/Microsoft.Cache/Redis/a/providers/microsoft.insights/Metrics"),
            "/subscriptions/s/resourceGroups/rg/providers/Microsoft.Cache/redis/a/providers/Microsoft.Insights/metrics"
        );
    }
}
