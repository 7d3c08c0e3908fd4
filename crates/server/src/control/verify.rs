//! `POST /x-georep/verify`: does the geo-secondary hold the geo-primary's
//! data? The link is named by its linked-server id from either side.

use georep_core::id::LINKED_SERVER_TYPE;
use georep_core::CacheId;

use crate::control::{ControlError, SharedApp};
use crate::dataplane::verify::Verification;

/// Compares the two sides of the link `linked_server_id`.
pub async fn verify(app: &SharedApp, linked_server_id: &str) -> Result<Verification, ControlError> {
    let not_found = || ControlError::NotFound {
        kind: LINKED_SERVER_TYPE,
        name: linked_server_id.to_owned(),
    };
    let (owner, peer) = linked_server_id
        .trim_end_matches('/')
        .rsplit_once("/linkedServers/")
        .ok_or_else(|| {
            ControlError::invalid(
                "link",
                "Name the link by its linked-server id: {cacheId}/linkedServers/{linkedCacheName}.",
            )
        })?;
    let owner: CacheId = owner
        .parse()
        .map_err(|e: georep_core::id::BadCacheId| ControlError::invalid("link", e.to_string()))?;
    let link = app
        .store
        .link_of(&owner)?
        .filter(|l| l.peer_of(&owner).name.eq_ignore_ascii_case(peer))
        .ok_or_else(not_found)?;
    let primary = app.store.nodes(link.primary())?;
    let secondary = app.store.nodes(link.secondary())?;
    Ok(app.fleet.verify(&primary, &secondary).await?)
}
