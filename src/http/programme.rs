//! The event's routes: rooms, the programme's import and export (admin token), and what a
//! room's display shows now (the room's own permanent link).
//!
//! A room's display link carries a display capability whose "session" is the room's id at key
//! epoch 0: session epochs start at 1, so it opens no session, and a session's link opens no
//! room.

use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, JsonRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use super::ApiError;
use super::api::{bearer, links, require_admin, unavailable};
use crate::auth::{Capability, Role, SessionId, secret_matches};
use crate::programme::{
    ImportError, NewRoom, Plan, Programme, Room, RoomError, RoomId, Slot, export_csv, parse_csv,
    parse_ics,
};
use crate::queue::Timestamp;
use crate::service::Shared;
use crate::store::StoreError;

/// The largest programme file accepted (5,000 sessions fit in well under 2 MiB).
pub const IMPORT_LIMIT: usize = 4 * 1024 * 1024;

fn unsupported() -> ApiError {
    ApiError::new(
        StatusCode::NOT_IMPLEMENTED,
        "not_supported",
        "rooms and programmes are not supported in a cluster yet",
    )
}

/// A room's permanent token for `role`: `Display` for its projector, `Participant` for its
/// poster's join link.
fn room_token_for(svc: &Shared, room: RoomId, role: Role) -> String {
    svc.settings.keys.sign(&Capability {
        role,
        session: SessionId(room.0),
        participant: None,
        epoch: 0,
    })
}

fn room_token(svc: &Shared, room: RoomId) -> String {
    room_token_for(svc, room, Role::Display)
}

/// Whether `headers` carry the admin token or room `id`'s token for one of `roles`.
fn room_allowed(svc: &Shared, headers: &HeaderMap, id: RoomId, roles: &[Role]) -> bool {
    let token = bearer(headers);
    secret_matches(&svc.settings.admin_token, token)
        || svc
            .settings
            .keys
            .verify(token)
            .is_ok_and(|c| roles.contains(&c.role) && c.session.0 == id.0 && c.epoch == 0)
}

/// A room's permanent join link, for its poster.
fn room_join_link(svc: &Shared, room: RoomId) -> String {
    format!(
        "{}/rooms/{room}/join#t={}",
        svc.settings.public_url,
        room_token_for(svc, room, Role::Participant)
    )
}

/// A room with its permanent display link.
#[derive(Debug, Serialize)]
pub struct ListedRoom {
    /// The room.
    #[serde(flatten)]
    pub room: Room,
    /// Its display link: put it on the projector once, for the whole event.
    pub display: String,
    /// Its join link, for its permanent poster: it leads to the session on in the room.
    pub join: String,
}

/// The answer of `GET` and `PUT /api/rooms`.
#[derive(Debug, Serialize)]
pub struct Rooms {
    /// Every room, in the order defined.
    pub rooms: Vec<ListedRoom>,
}

fn rooms_of(svc: &Shared, p: &Programme) -> Rooms {
    Rooms {
        rooms: p
            .rooms
            .iter()
            .map(|r| ListedRoom {
                room: r.clone(),
                display: format!(
                    "{}/rooms/{}#t={}",
                    svc.settings.public_url,
                    r.id,
                    room_token(svc, r.id)
                ),
                join: room_join_link(svc, r.id),
            })
            .collect(),
    }
}

/// `GET /api/rooms` with the admin token.
pub async fn list_rooms(
    State(svc): State<Shared>,
    headers: HeaderMap,
) -> Result<Json<Rooms>, ApiError> {
    require_admin(&svc, &headers)?;
    Ok(Json(rooms_of(&svc, &svc.programme.get())))
}

/// The body of `PUT /api/rooms`.
#[derive(Debug, Deserialize)]
pub struct SetRooms {
    /// Rooms to add, or to update by name.
    pub rooms: Vec<NewRoom>,
}

/// `PUT /api/rooms` with the admin token: add rooms, or update those of the same name.
pub async fn set_rooms(
    State(svc): State<Shared>,
    headers: HeaderMap,
    body: Result<Json<SetRooms>, JsonRejection>,
) -> Result<Json<Rooms>, ApiError> {
    require_admin(&svc, &headers)?;
    let Json(body) = body.map_err(|e| ApiError::new(e.status(), "bad_json", e.body_text()))?;
    let p = svc
        .programme
        .set_rooms(body.rooms)
        .await
        .map_err(|e| match e {
            RoomError::Invalid { code, message } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
            }
            RoomError::Unsupported => unsupported(),
            RoomError::Store(e) => unavailable(&e),
        })?;
    Ok(Json(rooms_of(&svc, &p)))
}

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
    let tz =
        q.tz.as_deref()
            .map(crate::programme::zone)
            .transpose()
            .map_err(|m| ApiError::new(StatusCode::BAD_REQUEST, "unknown_time_zone", m))?;
    let refused_file = |r| {
        let plan = Plan {
            dry_run: q.dry_run,
            refused: vec![r],
            ..Plan::default()
        };
        (StatusCode::UNPROCESSABLE_ENTITY, Json(plan))
    };
    let Ok(text) = std::str::from_utf8(&body) else {
        return Ok(refused_file(crate::programme::Refused::new(
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
    let rows = if ics {
        parse_ics(text, tz.as_ref())
    } else {
        parse_csv(text, tz.as_ref())
    };
    let rows = match rows {
        Ok(rows) => rows,
        Err(r) => return Ok(refused_file(r)),
    };
    let plan = svc
        .programme
        .import(&svc.hub, rows, q.dry_run, svc.now())
        .await
        .map_err(|e| match e {
            ImportError::Unsupported => unsupported(),
            ImportError::Store(e) => unavailable(&e),
        })?;
    let status = if plan.refused.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    Ok((status, Json(plan)))
}

/// One entry of the programme as the API lists it.
#[derive(Debug, Serialize)]
pub struct ListedSlot {
    /// The entry.
    #[serde(flatten)]
    pub slot: Slot,
    /// Its room's name.
    pub room_name: String,
}

/// The answer of `GET /api/programme`.
#[derive(Debug, Serialize)]
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
    let epochs: Vec<Result<u32, StoreError>> = futures_util::stream::iter(ids.clone())
        .map(|id| {
            let svc = svc.clone();
            async move { Ok(svc.hub.get(id).await?.map_or(1, |h| h.key_epoch())) }
        })
        .buffered(16)
        .collect()
        .await;
    let epochs = epochs
        .into_iter()
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| unavailable(&e))?;
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

/// A session as a room's display shows it.
#[derive(Debug, Serialize)]
pub struct Showing {
    /// The programme's external id.
    pub id: String,
    /// Title.
    pub title: String,
    /// Start (server ms).
    pub start: Timestamp,
    /// End (server ms).
    pub end: Timestamp,
    /// The session.
    pub session: SessionId,
    /// The session's display link (for the session on now): its room code and QR code.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

/// The answer of `GET /api/rooms/{id}/now`.
#[derive(Debug, Serialize)]
pub struct RoomNow {
    /// The room.
    pub room: Room,
    /// Server time of the answer (ms).
    pub now: Timestamp,
    /// The session on now.
    pub on: Option<Showing>,
    /// The next session in the room.
    pub next: Option<Showing>,
    /// When the answer changes by the clock (server ms); a chair's end changes it earlier.
    pub switch_at: Option<Timestamp>,
}

/// `GET /api/rooms/{id}/now` with the room's display link (or the admin token): the session on
/// in the room now, unless its chair ended it, and the next one.
pub async fn room_now(
    State(svc): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<RoomNow>, ApiError> {
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "unknown_room", "no such room");
    let id: RoomId = id.parse().map_err(|_| not_found())?;
    if !room_allowed(&svc, &headers, id, &[Role::Display]) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the room's display link is required",
        ));
    }
    let p = svc.programme.get();
    let room = p.room(id).ok_or_else(not_found)?.clone();
    let now = svc.now();
    // Only a session whose time it is can have been ended early and matter now; asking the
    // others would start their actors for nothing.
    let mut ended = std::collections::HashSet::new();
    let mut handles = std::collections::HashMap::new();
    for s in p
        .slots
        .iter()
        .filter(|s| s.room == id && s.start <= now && now < s.end)
    {
        if let Some(h) = svc.hub.get(s.session).await.map_err(|e| unavailable(&e))? {
            if h.summary().await.is_ok_and(|sum| sum.ended) {
                ended.insert(s.session);
            }
            handles.insert(s.session, h);
        }
    }
    let air = p.on_air(id, now, |s| ended.contains(&s));
    let show = |s: &Slot, display: Option<String>| Showing {
        id: s.external_id.clone(),
        title: s.title.clone(),
        start: s.start,
        end: s.end,
        session: s.session,
        display,
    };
    Ok(Json(RoomNow {
        room,
        now,
        on: air.on.map(|s| {
            let epoch = handles.get(&s.session).map_or(1, |h| h.key_epoch());
            show(s, Some(links(&svc, s.session, epoch).display))
        }),
        next: air.next.map(|s| show(s, None)),
        switch_at: air.switch_at,
    }))
}

fn markdown(body: String) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
        body,
    )
}

/// A session's report in the IGF template, as Markdown, for a moderator's link or the admin
/// token; placed in the programme if it is in one.
async fn igf_markdown(svc: &Shared, id: &str, headers: &HeaderMap) -> Result<String, ApiError> {
    let (handle, _) = super::api::authorize(
        svc,
        id,
        headers,
        &[Role::Chair, Role::OnlineModerator],
        "a moderator's link for this session is required",
    )
    .await?;
    let meta = handle.meta().clone();
    let events = svc
        .hub
        .runtime()
        .store
        .load(meta.id, 0)
        .await
        .map_err(|e| unavailable(&e))?;
    let report = crate::report::Report::of(meta.id, meta.created_at, &events);
    let p = svc.programme.get();
    let placed = p
        .slots
        .iter()
        .find(|s| s.session == meta.id)
        .and_then(|s| Some((s, p.room(s.room)?)));
    Ok(crate::programme::igf::session_markdown(
        &report, &events, placed,
    ))
}

/// `GET /api/sessions/{id}/report.igf.md`: the session's report in the IGF template.
pub async fn igf_report(
    State(svc): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    Ok(markdown(igf_markdown(&svc, &id, &headers).await?))
}

/// `GET /api/sessions/{id}/report.igf.html`: the same as a printable page.
pub async fn igf_report_html(
    State(svc): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    let md = igf_markdown(&svc, &id, &headers).await?;
    let title = md
        .lines()
        .next()
        .unwrap_or_default()
        .trim_start_matches("# ");
    Ok(axum::response::Html(crate::programme::html::page(
        title, &md,
    )))
}

/// `GET /api/sessions/{id}/report.igf.odt`: the same as an OpenDocument text file.
pub async fn igf_report_odt(
    State(svc): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    let md = igf_markdown(&svc, &id, &headers).await?;
    Ok((
        [
            (header::CONTENT_TYPE, crate::programme::odt::MEDIA_TYPE),
            (
                header::CONTENT_DISPOSITION,
                "attachment; filename=\"report.odt\"",
            ),
        ],
        crate::programme::odt::odt(&md),
    ))
}

/// `GET /api/programme/report.md` with the admin token: the event's summary for the
/// secretariat, recomputed from every programme session's log.
pub async fn event_report(
    State(svc): State<Shared>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    require_admin(&svc, &headers)?;
    let p = svc.programme.get();
    let store = svc.hub.runtime().store.clone();
    let mut entries = Vec::with_capacity(p.slots.len());
    for slot in &p.slots {
        let Some(room) = p.room(slot.room) else {
            continue;
        };
        let Some(meta) = store
            .meta(slot.session)
            .await
            .map_err(|e| unavailable(&e))?
        else {
            continue;
        };
        let events = store
            .load(slot.session, 0)
            .await
            .map_err(|e| unavailable(&e))?;
        entries.push(crate::programme::igf::Entry {
            slot,
            room,
            report: crate::report::Report::of(meta.id, meta.created_at, &events),
        });
    }
    Ok(markdown(crate::programme::igf::event_markdown(&entries)))
}

/// The answer of `GET /api/rooms/{id}/join`.
#[derive(Debug, Serialize)]
pub struct RoomJoin {
    /// The room's name.
    pub room: String,
    /// The session on now, else the next one, if any.
    pub session: Option<Showing>,
    /// Its participants' join link.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub join: Option<String>,
}

/// `GET /api/rooms/{id}/join` with the room's poster link (or its display link, or the admin
/// token): the join link of the session on in the room now, else of the next one. A poster's
/// link gives what any session's poster gives (its join link); presence in the room is still
/// proven by the code on the room's display.
pub async fn room_join(
    State(svc): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<RoomJoin>, ApiError> {
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "unknown_room", "no such room");
    let id: RoomId = id.parse().map_err(|_| not_found())?;
    if !room_allowed(&svc, &headers, id, &[Role::Participant, Role::Display]) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "the room's poster link is required",
        ));
    }
    let p = svc.programme.get();
    let room = p.room(id).ok_or_else(not_found)?.name.clone();
    let now = svc.now();
    let mut ended = std::collections::HashSet::new();
    for s in p
        .slots
        .iter()
        .filter(|s| s.room == id && s.start <= now && now < s.end)
    {
        if let Some(h) = svc.hub.get(s.session).await.map_err(|e| unavailable(&e))?
            && h.summary().await.is_ok_and(|sum| sum.ended)
        {
            ended.insert(s.session);
        }
    }
    let air = p.on_air(id, now, |s| ended.contains(&s));
    let Some(slot) = air.on.or(air.next) else {
        return Ok(Json(RoomJoin {
            room,
            session: None,
            join: None,
        }));
    };
    let epoch = svc
        .hub
        .get(slot.session)
        .await
        .map_err(|e| unavailable(&e))?
        .map_or(1, |h| h.key_epoch());
    Ok(Json(RoomJoin {
        room,
        session: Some(Showing {
            id: slot.external_id.clone(),
            title: slot.title.clone(),
            start: slot.start,
            end: slot.end,
            session: slot.session,
            display: None,
        }),
        join: Some(links(&svc, slot.session, epoch).participant),
    }))
}

/// The answer of `GET /api/rooms/{id}/poster`.
#[derive(Debug, Serialize)]
pub struct RoomPoster {
    /// The room.
    pub room: Room,
    /// Its permanent join link.
    pub join: String,
    /// The QR code of `join`, as SVG markup.
    pub qr_svg: String,
}

/// `GET /api/rooms/{id}/poster` with the admin token: the room's permanent poster, a QR code
/// of its join link that leads to whichever session is on.
pub async fn room_poster(
    State(svc): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<RoomPoster>, ApiError> {
    require_admin(&svc, &headers)?;
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "unknown_room", "no such room");
    let id: RoomId = id.parse().map_err(|_| not_found())?;
    let room = svc.programme.get().room(id).ok_or_else(not_found)?.clone();
    let join = room_join_link(&svc, id);
    Ok(Json(RoomPoster {
        qr_svg: super::api::qr_svg(&join)?,
        room,
        join,
    }))
}
