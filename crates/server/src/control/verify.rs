//! `POST /x-georep/verify`: does the geo-secondary hold the geo-primary's
//! data? The link is named by its linked-server id from either side.

use crate::control::{links, ControlError, SharedApp};
use georep_core::verification::Verification;

/// Compares the two sides of the link `linked_server_id`.
pub async fn verify(app: &SharedApp, linked_server_id: &str) -> Result<Verification, ControlError> {
    let link = links::find(app, linked_server_id)?;
    let primary = app.store.nodes(link.primary())?;
    let secondary = app.store.nodes(link.secondary())?;
    Ok(app.fleet.verify(&primary, &secondary).await?)
}
