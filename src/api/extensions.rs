//! The backend's own `x-georep` calls beside ARM's: the live event
//! stream's ticket, a link's timeline, verification, faults and drills.

use georep_core::live::TimelineEntry;
use serde::Serialize;

use super::resources::EmptyBody;
use super::{Api, ApiError};
use crate::features::drills::wire::{Drill, DrillRequest, FaultRequest, Faults, Verification};

/// `{"link": …}`, naming a link by its linked-server id.
#[derive(Serialize)]
pub(super) struct LinkBody<'a> {
    pub(super) link: &'a str,
}

/// A ticket for the live event stream.
#[derive(Debug, Clone, serde::Deserialize)]
pub struct EventsTicket {
    /// The stream's path with the ticket, for `EventSource`.
    pub url: String,
}

impl Api {
    /// `POST /x-georep/events/ticket`: a single-use ticket for the live
    /// event stream (`EventSource` can't send the token).
    pub async fn events_ticket(&self) -> Result<EventsTicket, ApiError> {
        self.post("/x-georep/events/ticket", &EmptyBody {}).await
    }

    /// `GET /x-georep/timeline?link={linkedServerId}`: a link's steps,
    /// oldest first, named from either side.
    pub async fn timeline(&self, linked_server_id: &str) -> Result<Vec<TimelineEntry>, ApiError> {
        let url = format!(
            "/x-georep/timeline?link={}",
            String::from(js_sys::encode_uri_component(linked_server_id))
        );
        self.get_all(&url).await
    }

    /// `POST /x-georep/verify`: whether the link's two sides hold the same
    /// data.
    pub async fn verify(&self, link: &str) -> Result<Verification, ApiError> {
        self.post("/x-georep/verify", &LinkBody { link }).await
    }

    /// `GET /x-georep/faults?link=…`: the faults active on a link.
    pub async fn faults(&self, link: &str) -> Result<Faults, ApiError> {
        self.get(&format!("/x-georep/faults?link={}", encode(link)))
            .await
    }

    /// `POST /x-georep/faults`: injects (or undoes) a fault on purpose.
    pub async fn inject_fault(&self, fault: &FaultRequest) -> Result<Faults, ApiError> {
        self.post("/x-georep/faults", fault).await
    }

    /// `POST /x-georep/drills`: starts a drill; it answers at once, running.
    pub async fn start_drill(&self, drill: &DrillRequest) -> Result<Drill, ApiError> {
        self.post("/x-georep/drills", drill).await
    }

    /// `GET /x-georep/drills/{id}`.
    pub async fn drill(&self, id: &str) -> Result<Drill, ApiError> {
        self.get(&format!("/x-georep/drills/{}", encode(id))).await
    }

    /// `GET /x-georep/drills?link=…`: a link's drills, newest first.
    pub async fn drills(&self, link: &str) -> Result<Vec<Drill>, ApiError> {
        self.get_all(&format!("/x-georep/drills?link={}", encode(link)))
            .await
    }
}

/// `value` as one URL query or path component.
fn encode(value: &str) -> String {
    js_sys::encode_uri_component(value).into()
}
