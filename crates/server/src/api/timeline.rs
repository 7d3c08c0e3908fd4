//! `GET /x-georep/timeline?link={linkedServerId}`: a link's timeline,
//! oldest step first, named by its linked-server id from either side. It
//! outlives the link, so an unlinked pair's history can still be read.

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::Json;
use georep_core::arm::ListResult;
use georep_core::id::LINKED_SERVER_TYPE;
use georep_core::live::TimelineEntry;
use georep_core::CacheId;
use serde::Deserialize;

use super::ApiError;
use crate::control::app::SharedApp;

/// The query.
#[derive(Deserialize)]
pub struct TimelineParams {
    link: Option<String>,
}

/// The handler.
pub async fn list(
    State(app): State<SharedApp>,
    params: Result<Query<TimelineParams>, QueryRejection>,
) -> Result<Json<ListResult<TimelineEntry>>, ApiError> {
    let Query(params) = params?;
    let link = params.link.ok_or_else(|| {
        ApiError::invalid(
            "link",
            "Name the link by its linked-server id: ?link={cacheId}/linkedServers/{linkedCacheName}.",
        )
    })?;
    let link = link.trim_end_matches('/');
    let (owner, peer) = parse(link)?;
    let entries = app.timeline.entries(link)?;
    if entries.is_empty() && !exists(&app, &owner, peer)? {
        return Err(ApiError::NotFound {
            kind: LINKED_SERVER_TYPE,
            name: peer.to_owned(),
        });
    }
    Ok(Json(ListResult::of(entries)))
}

/// `{cacheId}/linkedServers/{name}` as the owning cache and the linked cache's name.
fn parse(link: &str) -> Result<(CacheId, &str), ApiError> {
    let bad = || {
        ApiError::invalid(
            "link",
            format!("'{link}' is not a linked-server id ({{cacheId}}/linkedServers/{{linkedCacheName}})."),
        )
    };
    let at = link
        .to_ascii_lowercase()
        .rfind("/linkedservers/")
        .ok_or_else(bad)?;
    let owner: CacheId = link[..at].parse().map_err(|_| bad())?;
    let peer = &link[at + "/linkedServers/".len()..];
    georep_core::names::validate_cache_name(peer).map_err(|_| bad())?;
    Ok((owner, peer))
}

/// Whether the link exists now (a link linked before timelines were kept has none).
fn exists(app: &SharedApp, owner: &CacheId, peer: &str) -> Result<bool, ApiError> {
    Ok(app
        .store
        .link_of(owner)?
        .is_some_and(|l| l.peer_of(owner).name.eq_ignore_ascii_case(peer)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_linked_server_id_names_its_owner_and_peer() {
        let (owner, peer) = parse(
            "/subscriptions/11111111-2222-4333-8444-555555555555/resourceGroups/rg/providers/Microsoft.Cache/Redis/a/linkedservers/b",
        )
        .unwrap();
        assert_eq!(owner.name, "a");
        assert_eq!(peer, "b");
        assert!(parse("/nope").is_err());
        assert!(parse("/subscriptions/x/linkedServers/b").is_err());
        assert!(parse(
            "/subscriptions/11111111-2222-4333-8444-555555555555/resourceGroups/rg/providers/Microsoft.Cache/Redis/a/linkedServers/b/c"
        )
        .is_err());
    }
}
