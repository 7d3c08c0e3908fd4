//! The live event stream (server-sent events) and the tickets that open it.
//!
//! - `POST /x-georep/events/ticket` (bearer token): a single-use ticket,
//!   valid 30 seconds.
//! - `GET /x-georep/events?ticket=…`: the stream, for `EventSource`, which
//!   can't send the token. With the bearer token instead, no ticket is needed.
//!   `&link={linkedServerId}` keeps one link's events only.
//!
//! A stream opens with the state of every link (`linkState` events), then
//! carries every event as it happens: `linkState`, `syncProgress`, `metric`
//! and `timeline` (see [`georep_core::live::LiveEvent`]). A stream that
//! falls too far behind gets a `lagged` event with how many it missed.

use std::convert::Infallible;

use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::Json;
use futures::{Stream, StreamExt};
use georep_core::live::LiveEvent;
use serde::{Deserialize, Serialize};
use tokio::sync::broadcast::error::RecvError;

use super::ApiError;
use crate::control::app::SharedApp;
use crate::live::tickets::TICKET_TTL;

/// The stream's path; the auth middleware lets it through with a ticket.
pub const EVENTS_PATH: &str = "/x-georep/events";

/// What `POST /x-georep/events/ticket` returns.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TicketResponse {
    /// The ticket: pass it as `?ticket=`.
    ticket: String,
    /// How long it may wait to be used.
    expires_in_seconds: u64,
    /// The stream's path with the ticket, ready for `new EventSource(…)`.
    url: String,
}

/// `POST /x-georep/events/ticket`.
pub async fn ticket(State(app): State<SharedApp>) -> Json<TicketResponse> {
    let ticket = app.tickets.issue();
    Json(TicketResponse {
        url: format!("{EVENTS_PATH}?ticket={}", ticket.expose()),
        ticket: ticket.expose().to_owned(),
        expires_in_seconds: TICKET_TTL.as_secs(),
    })
}

/// The query of `GET /x-georep/events`.
#[derive(Deserialize)]
pub struct StreamParams {
    ticket: Option<String>,
    link: Option<String>,
}

/// `GET /x-georep/events`.
pub async fn stream(
    State(app): State<SharedApp>,
    params: Result<Query<StreamParams>, QueryRejection>,
) -> Result<Sse<impl Stream<Item = Result<Event, Infallible>>>, ApiError> {
    let Query(params) = params?;
    // Without a ticket, the middleware has checked the bearer token.
    if let Some(ticket) = params.ticket.as_deref() {
        if !app.tickets.redeem(ticket) {
            return Err(ApiError::Unauthorized(
                "The ticket is not valid: a ticket opens one stream and expires after 30 seconds. Ask for a new one with POST /x-georep/events/ticket.",
            ));
        }
    }
    let only = params
        .link
        .map(|l| l.trim_end_matches('/').to_ascii_lowercase());
    let wanted = move |event: &LiveEvent| match &only {
        None => true,
        Some(id) => {
            let link = link_of(event);
            link.id.eq_ignore_ascii_case(id) || link.peer_id.eq_ignore_ascii_case(id)
        }
    };

    // Subscribe before the snapshot: an event in between may come twice, never not at all.
    let receiver = app.events.subscribe();
    let snapshot: Vec<LiveEvent> = app
        .store
        .links()?
        .iter()
        .map(|link| link.state_event())
        .collect();
    // Each item is an event, or a notice that some were missed.
    let live = futures::stream::unfold(receiver, |mut receiver| async move {
        let item = match receiver.recv().await {
            Ok(event) => Ok(event),
            Err(RecvError::Lagged(missed)) => Err(lagged(missed)),
            Err(RecvError::Closed) => return None,
        };
        Some((item, receiver))
    });
    let events = futures::stream::iter(snapshot.into_iter().map(Ok))
        .chain(live)
        .filter_map(move |item| {
            let keep = match &item {
                Ok(event) => wanted(event).then(|| to_sse(event)),
                Err(notice) => Some(notice.clone()),
            };
            async move { keep.map(Ok) }
        })
        .take_until(app.events.closed());
    Ok(Sse::new(events).keep_alive(KeepAlive::default()))
}

/// The link an event is about.
fn link_of(event: &LiveEvent) -> &georep_core::live::LinkRef {
    match event {
        LiveEvent::LinkState(e) => &e.link,
        LiveEvent::SyncProgress(e) => &e.link,
        LiveEvent::Metric(e) => &e.link,
        LiveEvent::Timeline(e) => &e.link,
    }
}

/// `event: {type}` and `data: {the event as JSON}`.
fn to_sse(event: &LiveEvent) -> Event {
    Event::default()
        .event(event.name())
        .json_data(event)
        .unwrap_or_else(|_| Event::default().event("error").data("{}"))
}

/// Tells a slow stream it missed events (the client should reload what it shows).
fn lagged(missed: u64) -> Event {
    Event::default()
        .event("lagged")
        .data(format!("{{\"type\":\"lagged\",\"missed\":{missed}}}"))
}

/// Whether a request may skip the bearer token: it opens the stream with a
/// ticket, which the handler checks.
pub fn carries_ticket(method: &axum::http::Method, uri: &axum::http::Uri) -> bool {
    method == axum::http::Method::GET
        && uri.path().eq_ignore_ascii_case(EVENTS_PATH)
        && uri.query().is_some_and(|q| {
            q.split('&')
                .any(|pair| pair.split('=').next() == Some("ticket"))
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::{Method, Uri};

    #[test]
    fn only_a_stream_request_with_a_ticket_skips_the_token() {
        let uri = |s: &str| s.parse::<Uri>().unwrap();
        assert!(carries_ticket(
            &Method::GET,
            &uri("/x-georep/events?ticket=abc")
        ));
        assert!(carries_ticket(
            &Method::GET,
            &uri("/x-georep/events?link=x&ticket=abc")
        ));
        assert!(!carries_ticket(&Method::GET, &uri("/x-georep/events")));
        assert!(!carries_ticket(
            &Method::GET,
            &uri("/x-georep/events?tickets=abc")
        ));
        assert!(!carries_ticket(
            &Method::POST,
            &uri("/x-georep/events?ticket=abc")
        ));
        assert!(!carries_ticket(
            &Method::GET,
            &uri("/x-georep/timeline?ticket=abc")
        ));
    }
}
