//! `/x-georep/drills`: start a disaster-recovery drill on a link, read one,
//! list a link's drills (see [`crate::control::drills`]).

use axum::extract::{Path, Query, State};
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use super::{ApiError, ArmJson};
use crate::control::drills::{self, DrillRequest};
use crate::control::{links, SharedApp};
use crate::store::drills::{DrillKind, DrillRecord};

/// The body of `POST /x-georep/drills`.
#[derive(Deserialize)]
pub struct StartDrill {
    /// The link's linked-server id, from either side.
    link: String,
    /// `planned` or `forced`.
    kind: String,
    /// How long the writer writes, in seconds (1 to 300).
    seconds: u32,
    /// Whether to fail back after the failover; false by default.
    #[serde(default)]
    failback: bool,
}

/// The query of `GET /x-georep/drills`.
#[derive(Deserialize)]
pub struct DrillsQuery {
    link: Option<String>,
}

/// A list in ARM's shape.
#[derive(Serialize)]
pub struct DrillList {
    value: Vec<DrillRecord>,
}

fn parse_kind(kind: &str) -> Result<DrillKind, ApiError> {
    match kind.to_ascii_lowercase().as_str() {
        "planned" => Ok(DrillKind::Planned),
        "forced" => Ok(DrillKind::Forced),
        other => Err(ApiError::invalid(
            "kind",
            format!("'{other}' is not a drill kind; use 'planned' or 'forced'."),
        )),
    }
}

/// `POST /x-georep/drills`: 202 with the drill, `Running`; `Location`
/// names it.
pub async fn start(
    State(app): State<SharedApp>,
    ArmJson(body): ArmJson<StartDrill>,
) -> Result<Response, ApiError> {
    let kind = parse_kind(&body.kind)?;
    let drill = drills::start(
        &app,
        DrillRequest {
            link: body.link,
            kind,
            seconds: body.seconds,
            failback: body.failback,
        },
    )
    .await?;
    let location = format!("{}/drills/{}", super::EXTENSIONS_PREFIX, drill.id);
    Ok((
        StatusCode::ACCEPTED,
        [(header::LOCATION, location)],
        Json(drill),
    )
        .into_response())
}

/// `GET /x-georep/drills/{id}`.
pub async fn get(
    State(app): State<SharedApp>,
    Path(id): Path<String>,
) -> Result<Json<DrillRecord>, ApiError> {
    app.store.drill(&id)?.map(Json).ok_or(ApiError::NotFound {
        kind: "drill",
        name: id,
    })
}

/// `GET /x-georep/drills?link=…`: the link's drills, newest first (kept
/// after the link is gone).
pub async fn list(
    State(app): State<SharedApp>,
    query: Result<Query<DrillsQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Json<DrillList>, ApiError> {
    let Query(query) = query?;
    let link = query
        .link
        .ok_or_else(|| ApiError::invalid("link", "Name the link: ?link={linkedServerId}."))?;
    let link = link.trim_end_matches('/');
    let value = app.store.drills_of(link)?;
    if value.is_empty() {
        // Nothing kept: say so if the link itself is unknown.
        links::find(&app, link)?;
    }
    Ok(Json(DrillList { value }))
}
