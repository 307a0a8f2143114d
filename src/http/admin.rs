//! The organizer's API beyond creating sessions: every session at a glance, a session's role
//! links (and the QR code of its join link, for the poster), and ending a session. The list and
//! the end take the admin token; the links also the session's chair link.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde::Serialize;

use super::api::{Links, authorize, links, qr_svg, require_admin};
use super::{ApiError, SessionPath};
use crate::auth::Role;
use crate::hub::Standing;
use crate::ids::SessionId;
use crate::queue::{Command, Timestamp};
use crate::service::Shared;
use crate::session::{Answer, Summary};

/// One session in the organizer's list.
#[derive(schemars::JsonSchema, Debug, Serialize)]
pub struct ListedSession {
    /// Its id.
    pub id: SessionId,
    /// When it was created (server ms).
    pub created_at: Timestamp,
    /// `live` (running on this node), `idle` (in the store only) or `damaged` (not served).
    pub state: &'static str,
    /// Its figures; absent when damaged.
    #[serde(flatten)]
    pub summary: Option<Summary>,
    /// Where its log stops checking out, when damaged.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub damaged: Option<Damage>,
}

/// Where a damaged session's log stops checking out.
#[derive(schemars::JsonSchema, Debug, Serialize)]
pub struct Damage {
    /// The first record that does not check out.
    pub seq: u64,
    /// What is wrong with it.
    pub reason: String,
}

/// The answer of `GET /api/sessions`.
#[derive(schemars::JsonSchema, Debug, Serialize)]
pub struct SessionList {
    /// Every session in the store, oldest first.
    pub sessions: Vec<ListedSession>,
}

/// `GET /api/sessions` with the admin token: every session in the store, live, idle or damaged,
/// with its title, whether it ended, its connections, participants, queue and floor.
pub async fn list_sessions(
    State(svc): State<Shared>,
    headers: HeaderMap,
) -> Result<Json<SessionList>, ApiError> {
    require_admin(&svc, &headers)?;
    let listed = svc.hub.list().await?;
    let sessions = listed
        .into_iter()
        .map(|l| {
            let (state, summary, damaged) = match l.standing {
                Standing::Live(s) => ("live", Some(s), None),
                Standing::Idle(s) => ("idle", Some(s), None),
                Standing::Damaged { seq, reason } => {
                    ("damaged", None, Some(Damage { seq, reason }))
                }
            };
            ListedSession {
                id: l.meta.id,
                created_at: l.meta.created_at,
                state,
                summary,
                damaged,
            }
        })
        .collect();
    Ok(Json(SessionList { sessions }))
}

/// A session's role links, as the organizer hands them out.
#[derive(schemars::JsonSchema, Debug, Serialize)]
pub struct Handout {
    /// The session.
    pub id: SessionId,
    /// Its title.
    pub title: String,
    /// Its role links, signed at the current key epoch.
    pub links: Links,
    /// The QR code of the participant link, as SVG markup, for the room's poster.
    pub participant_qr_svg: String,
    /// The short address to type instead of scanning: `GET /j/{code}` redirects to the
    /// participant link as it works now (after any rotation).
    pub short_url: String,
}

/// `GET /api/sessions/{id}/links` with the admin token or the session's chair link: the role
/// links as they work now (after any rotation), and the QR code of the join link.
pub async fn session_links(
    State(svc): State<Shared>,
    SessionPath(id): SessionPath,
    headers: HeaderMap,
) -> Result<Json<Handout>, ApiError> {
    let (handle, _) = authorize(
        &svc,
        id,
        &headers,
        &[Role::Chair],
        "the chair's link for this session or the admin token is required",
    )
    .await?;
    let info = handle.info().await?;
    let links = links(&svc, id, handle.key_epoch());
    Ok(Json(Handout {
        id,
        title: info.title,
        participant_qr_svg: qr_svg(&links.participant)?,
        short_url: super::short::short_url(&svc, id),
        links,
    }))
}

/// The answer of `POST /api/sessions/{id}/end`.
#[derive(schemars::JsonSchema, Debug, Serialize)]
pub struct Ended {
    /// The session.
    pub id: SessionId,
    /// Its seq once ended.
    pub seq: u64,
}

/// `POST /api/sessions/{id}/end` with the admin token: the organizer ends the session (any
/// speaker's turn ends first). It becomes read-only for good; its record and report remain.
pub async fn end_session(
    State(svc): State<Shared>,
    SessionPath(id): SessionPath,
    headers: HeaderMap,
) -> Result<Json<Ended>, ApiError> {
    require_admin(&svc, &headers)?;
    let required = "the admin token is required";
    let (handle, principal) = authorize(&svc, id, &headers, &[], required).await?;
    let actor = principal
        .actor()
        .ok_or_else(|| ApiError::new(StatusCode::FORBIDDEN, "forbidden", required))?;
    match handle.command(actor, None, 0, Command::EndSession).await? {
        Answer::Ack { seq, .. } => {
            tracing::info!(session = %id, "session ended by the organizer");
            Ok(Json(Ended { id, seq }))
        }
        Answer::Refused(r) => Err(r.into()),
        // The store refused the append, and logged why: nothing changed.
        Answer::Unavailable => Err(ApiError::unavailable()),
    }
}
