//! The rooms' routes: the rooms and their permanent links (admin token), what a room's display
//! shows now (the room's display link), where its poster's link leads (the poster's link).
//!
//! A room's display link carries a display capability whose "session" is the room's id at key
//! epoch 0, its poster's link a participant capability of the same shape: session epochs start
//! at 1, so they open no session, and a session's links open no room.

use std::collections::{HashMap, HashSet};

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use secrecy::ExposeSecret as _;
use serde::{Deserialize, Serialize};

use super::ApiError;
use super::api::{bearer, links, require_admin};
use crate::auth::{Capability, Role, secret_matches};
use crate::ids::SessionId;
use crate::programme::{DeleteError, NewRoom, Programme, Room, RoomError, RoomId, Slot};
use crate::queue::Timestamp;
use crate::service::Shared;
use crate::session::SessionHandle;
use crate::store::ProgrammeWriteError;

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
    secret_matches(svc.settings.admin_token.expose_secret(), token)
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
#[derive(schemars::JsonSchema, Debug, Serialize)]
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
#[derive(schemars::JsonSchema, Debug, Serialize)]
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
#[derive(schemars::JsonSchema, Debug, Deserialize)]
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
    let Json(body) = body.map_err(super::api::json_rejection)?;
    let p = svc
        .programme
        .set_rooms(body.rooms)
        .await
        .map_err(|e| match e {
            RoomError::Invalid { code, message } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
            }
            RoomError::Store(e) => e.into(),
            RoomError::Write(e) => write_error(e),
        })?;
    Ok(Json(rooms_of(&svc, &p)))
}

/// `DELETE /api/rooms/{id}` with the admin token: the room, which has no programme entry left
/// (`409 room_in_use` otherwise). The answer is every room left.
pub async fn delete_room(
    State(svc): State<Shared>,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Json<Rooms>, ApiError> {
    require_admin(&svc, &headers)?;
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, "unknown_room", "no such room");
    let id: RoomId = id.parse().map_err(|_| not_found())?;
    let p = svc.programme.delete_room(id).await.map_err(|e| match e {
        DeleteError::NotFound => not_found(),
        e @ DeleteError::RoomInUse { .. } => {
            ApiError::new(StatusCode::CONFLICT, "room_in_use", e.to_string())
        }
        e => delete_error(e),
    })?;
    Ok(Json(rooms_of(&svc, &p)))
}

/// A deletion's refusal as the API says it: what is left over from `delete_room` and
/// `programme::delete_entry`.
pub(super) fn delete_error(e: DeleteError) -> ApiError {
    match e {
        DeleteError::Store(e) => e.into(),
        DeleteError::Write(e) => write_error(e),
        e => ApiError::new(StatusCode::CONFLICT, "session_on", e.to_string()),
    }
}

/// A programme not written, as the API says it: on a cluster, another node wrote first (`409
/// programme_moved`: nothing changed, try again) or it outgrew one NATS message (`413
/// programme_too_large`).
pub(super) fn write_error(e: ProgrammeWriteError) -> ApiError {
    match e {
        ProgrammeWriteError::Moved => {
            ApiError::new(StatusCode::CONFLICT, "programme_moved", e.to_string())
        }
        ProgrammeWriteError::TooLarge { .. } => ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            "programme_too_large",
            e.to_string(),
        ),
        ProgrammeWriteError::Store(e) => e.into(),
    }
}

/// The sessions of room `id` whose time it is, which have been ended early, and the handles
/// of those running. Only these can change what the room shows now; asking the others would
/// start their actors for nothing.
async fn due_now(
    svc: &Shared,
    p: &Programme,
    id: RoomId,
    now: Timestamp,
) -> Result<(HashSet<SessionId>, HashMap<SessionId, SessionHandle>), ApiError> {
    let mut ended = HashSet::new();
    let mut handles = HashMap::new();
    for s in p
        .slots
        .iter()
        .filter(|s| s.room == id && s.start <= now && now < s.end)
    {
        if let Some(h) = svc.hub.get(s.session).await? {
            if h.summary().await.is_ok_and(|sum| sum.ended) {
                ended.insert(s.session);
            }
            handles.insert(s.session, h);
        }
    }
    Ok((ended, handles))
}

/// How long before its start a session's room code is shown when nothing else is on.
const OPENS_EARLY_MS: u64 = 15 * 60_000;

/// A session as a room's display shows it.
#[derive(schemars::JsonSchema, Debug, Serialize)]
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
    /// The session's display link, for its room code and QR code: for the session on now, and
    /// for the next one when nothing is on and it starts within 15 minutes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub display: Option<String>,
}

/// The answer of `GET /api/rooms/{id}/now`.
#[derive(schemars::JsonSchema, Debug, Serialize)]
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
    let (ended, handles) = due_now(&svc, &p, id, now).await?;
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
        next: match air.next {
            // Nothing on and the next one soon: people arriving early can join it already.
            Some(s) if air.on.is_none() && s.start.0 <= now.0 + OPENS_EARLY_MS => {
                let epoch = svc.hub.get(s.session).await?.map_or(1, |h| h.key_epoch());
                Some(show(s, Some(links(&svc, s.session, epoch).display)))
            }
            next => next.map(|s| show(s, None)),
        },
        switch_at: air.switch_at,
    }))
}

/// The answer of `GET /api/rooms/{id}/join`.
#[derive(schemars::JsonSchema, Debug, Serialize)]
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
    let (ended, handles) = due_now(&svc, &p, id, now).await?;
    let air = p.on_air(id, now, |s| ended.contains(&s));
    let Some(slot) = air.on.or(air.next) else {
        return Ok(Json(RoomJoin {
            room,
            session: None,
            join: None,
        }));
    };
    let epoch = match handles.get(&slot.session) {
        Some(h) => h.key_epoch(),
        None => svc
            .hub
            .get(slot.session)
            .await?
            .map_or(1, |h| h.key_epoch()),
    };
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
#[derive(schemars::JsonSchema, Debug, Serialize)]
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
