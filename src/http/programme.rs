//! The programme's routes (admin token): the import of a CSV or iCalendar file with its dry
//! run, the programme as JSON, and its CSV export with every session's links.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use super::ApiError;
use super::api::{links, require_admin};
use crate::ids::SessionId;
use crate::programme::{
    DeleteError, ImportError, Plan, Refused, Room, Row, Slot, export_csv, parse_csv, parse_ics,
};
use crate::service::Shared;

/// The largest programme file accepted (5,000 sessions fit in well under 2 MiB).
pub const IMPORT_LIMIT: usize = 4 * 1024 * 1024;

/// The query of `POST /api/programme/import`.
#[derive(Debug, Deserialize)]
pub struct ImportQuery {
    /// `csv` or `ics`; by default the body's first line tells.
    pub format: Option<String>,
    /// Only say what would happen.
    #[serde(default)]
    pub dry_run: bool,
    /// The IANA zone of times given without an offset.
    pub tz: Option<String>,
}

/// `POST /api/programme/import?format=csv|ics&dry_run=true&tz=Europe/Berlin` with the admin
/// token and the file as the body. The answer is the plan: 200 when applied (or a dry run),
/// 422 with every refused row when anything is refused (then nothing is changed).
pub async fn import(
    State(svc): State<Shared>,
    headers: HeaderMap,
    query: Result<Query<ImportQuery>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<(StatusCode, Json<Plan>), ApiError> {
    require_admin(&svc, &headers)?;
    let Query(q) = query.map_err(|e| ApiError::new(e.status(), "bad_query", e.body_text()))?;
    let body = body.map_err(|e| {
        let code = if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            "body_too_large"
        } else {
            "bad_body"
        };
        ApiError::new(e.status(), code, e.body_text())
    })?;
    let rows = match rows(&q, &body)? {
        Ok(rows) => rows,
        Err(refused) => {
            let plan = Plan {
                dry_run: q.dry_run,
                refused: vec![refused],
                ..Plan::default()
            };
            return Ok((StatusCode::UNPROCESSABLE_ENTITY, Json(plan)));
        }
    };
    let plan = svc
        .programme
        .import(&svc.hub, rows, q.dry_run, svc.now())
        .await
        .map_err(|e| match e {
            ImportError::Store(e) => e.into(),
            ImportError::Write(e) => super::rooms::write_error(e),
            ImportError::Refused(r) => r.into(),
        })?;
    let status = if plan.refused.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, Json(plan)))
}

/// The rows of the file `body`, or the file refused whole; an error for a bad query.
fn rows(
    q: &ImportQuery,
    body: &[u8],
) -> Result<Result<Vec<Result<Row, Refused>>, Refused>, ApiError> {
    let tz =
        q.tz.as_deref()
            .map(crate::programme::zone)
            .transpose()
            .map_err(|m| ApiError::new(StatusCode::BAD_REQUEST, "unknown_time_zone", m))?;
    let Ok(text) = std::str::from_utf8(body) else {
        return Ok(Err(Refused::new(
            "file",
            None,
            "bad_file",
            "the file is not UTF-8 text",
        )));
    };
    let ics = match q.format.as_deref() {
        Some("ics") => true,
        Some("csv") => false,
        None => text.trim_start().starts_with("BEGIN:VCALENDAR"),
        Some(other) => {
            return Err(ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_query",
                format!("unknown format {other:?}: use csv or ics"),
            ));
        }
    };
    Ok(if ics {
        parse_ics(text, tz.as_ref())
    } else {
        parse_csv(text, tz.as_ref())
    })
}

/// One entry of the programme as the API lists it.
#[derive(schemars::JsonSchema, Debug, Serialize)]
pub struct ListedSlot {
    /// The entry.
    #[serde(flatten)]
    pub slot: Slot,
    /// Its room's name.
    pub room_name: String,
}

/// The answer of `GET /api/programme`.
#[derive(schemars::JsonSchema, Debug, Serialize)]
pub struct ProgrammeList {
    /// The rooms.
    pub rooms: Vec<Room>,
    /// Every entry, by room and start.
    pub sessions: Vec<ListedSlot>,
}

/// `GET /api/programme` with the admin token.
pub async fn programme(
    State(svc): State<Shared>,
    headers: HeaderMap,
) -> Result<Json<ProgrammeList>, ApiError> {
    require_admin(&svc, &headers)?;
    let p = svc.programme.get();
    Ok(Json(ProgrammeList {
        rooms: p.rooms.clone(),
        sessions: p
            .slots
            .iter()
            .map(|s| ListedSlot {
                slot: s.clone(),
                room_name: p.room(s.room).map(|r| r.name.clone()).unwrap_or_default(),
            })
            .collect(),
    }))
}

/// `GET /api/programme.csv` with the admin token: every entry with its session's role links,
/// as they work now (after any rotation).
pub async fn programme_csv(
    State(svc): State<Shared>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    require_admin(&svc, &headers)?;
    let p = svc.programme.get();
    // A session's key epoch lives in its log: each is read through the hub (a few at once).
    let ids: Vec<SessionId> = p.slots.iter().map(|s| s.session).collect();
    let epochs: Vec<Result<u32, ApiError>> = futures_util::stream::iter(ids.clone())
        .map(|id| {
            let svc = svc.clone();
            async move { Ok(svc.hub.get(id).await?.map_or(1, |h| h.key_epoch())) }
        })
        .buffered(16)
        .collect()
        .await;
    let epochs = epochs.into_iter().collect::<Result<Vec<_>, _>>()?;
    let by_session: std::collections::HashMap<SessionId, u32> =
        ids.into_iter().zip(epochs).collect();
    let csv = export_csv(&p, |slot| {
        let l = links(
            &svc,
            slot.session,
            by_session.get(&slot.session).copied().unwrap_or(1),
        );
        [
            l.chair,
            l.online_moderator,
            l.participant,
            l.display,
            l.public,
        ]
    });
    Ok((
        [
            (header::CONTENT_TYPE, "text/csv; charset=utf-8"),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"programme.csv\"",
            ),
        ],
        csv,
    ))
}

/// The answer of `DELETE /api/programme/entries/{id}`.
#[derive(schemars::JsonSchema, Debug, Serialize)]
pub struct DeletedEntry {
    /// The external id of the entry deleted.
    pub id: String,
    /// Its session, which stays (its log, links and report): it is only out of the programme.
    pub session: SessionId,
}

/// `DELETE /api/programme/entries/{id}` with the admin token: the programme entry of external
/// id `id` (percent-encoded in the path), unless its session is on now (`409 session_on`).
pub async fn delete_entry(
    State(svc): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<DeletedEntry>, ApiError> {
    require_admin(&svc, &headers)?;
    let slot = svc
        .programme
        .delete_entry(&svc.hub, &id, svc.now())
        .await
        .map_err(|e| match e {
            DeleteError::NotFound => ApiError::new(
                StatusCode::NOT_FOUND,
                "unknown_entry",
                "no programme entry has this id",
            ),
            e => super::rooms::delete_error(e),
        })?;
    Ok(Json(DeletedEntry {
        id: slot.external_id,
        session: slot.session,
    }))
}
