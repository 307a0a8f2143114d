//! The organizer API: create a session (admin token) and read a session's public info.

use axum::Json;
use axum::extract::State;
use axum::extract::rejection::JsonRejection;
use axum::http::{HeaderMap, StatusCode};
use secrecy::ExposeSecret as _;
use serde::Serialize;

use super::{ApiError, SessionPath};
use crate::auth::{Capability, Role, secret_matches};
use crate::hub::NewSession;
use crate::ids::SessionId;
use crate::principal::Principal;
use crate::queue::Command;
use crate::service::Shared;
use crate::session::{Answer, Info, SessionHandle};

/// The role links of a session. The capability rides in the URL fragment, which browsers never
/// send to servers, so it stays out of access logs.
#[derive(schemars::JsonSchema, Debug, Serialize)]
pub struct Links {
    /// The onsite moderator's console.
    pub chair: String,
    /// The online moderator's console.
    pub online_moderator: String,
    /// The online participants' join link.
    pub participant: String,
    /// The room display.
    pub display: String,
    /// The read-only public view (no capability).
    pub public: String,
}

/// A created session.
#[derive(schemars::JsonSchema, Debug, Serialize)]
pub struct Created {
    /// Its id.
    pub id: SessionId,
    /// Its role links.
    pub links: Links,
}

/// The role links of session `id` at `key_epoch`: capabilities signed now, so the same as those
/// handed out at creation (or at the last rotation).
pub(super) fn links(svc: &Shared, id: SessionId, key_epoch: u32) -> Links {
    let base = format!("{}/s/{id}", svc.settings.public_url);
    let link = |path: &str, role| {
        let cap = Capability {
            role,
            session: id,
            participant: None,
            epoch: key_epoch,
        };
        format!("{base}/{path}#t={}", svc.settings.keys.sign(&cap))
    };
    Links {
        chair: link("chair", Role::Chair),
        online_moderator: link("moderator", Role::OnlineModerator),
        participant: link("join", Role::Participant),
        display: link("display", Role::Display),
        public: base.clone(),
    }
}

/// The bearer token of a request, if any.
pub(super) fn bearer(headers: &HeaderMap) -> &str {
    headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or("")
}

/// Refuse (401) a request without the admin token.
pub(super) fn require_admin(svc: &Shared, headers: &HeaderMap) -> Result<(), ApiError> {
    if secret_matches(svc.settings.admin_token.expose_secret(), bearer(headers)) {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid admin token is required",
        ))
    }
}

/// A JSON body refused: `body_too_large`, `bad_field` (well-formed JSON of the wrong shape: a
/// missing, invalid or unknown field, named) or `bad_json`.
pub(super) fn json_rejection(e: JsonRejection) -> ApiError {
    let code = match e {
        _ if e.status() == StatusCode::PAYLOAD_TOO_LARGE => "body_too_large",
        JsonRejection::JsonDataError(_) => "bad_field",
        _ => "bad_json",
    };
    ApiError::new(e.status(), code, e.body_text())
}

/// `POST /api/sessions` with `Authorization: Bearer <admin token>`.
pub async fn create_session(
    State(svc): State<Shared>,
    headers: HeaderMap,
    body: Result<Json<NewSession>, JsonRejection>,
) -> Result<(StatusCode, Json<Created>), ApiError> {
    require_admin(&svc, &headers)?;
    let Json(new) = body.map_err(json_rejection)?;
    let meta = svc.hub.create(new, svc.now()).await?;
    tracing::info!(session = %meta.id, "session created");
    Ok((
        StatusCode::CREATED,
        Json(Created {
            id: meta.id,
            links: links(&svc, meta.id, meta.key_epoch),
        }),
    ))
}

/// A session's public facts.
#[derive(schemars::JsonSchema, Debug, Serialize)]
pub struct PublicInfo {
    /// Its id.
    pub id: SessionId,
    /// The facts.
    #[serde(flatten)]
    pub info: Info,
}

/// `GET /api/sessions/{id}`.
pub async fn session_info(
    State(svc): State<Shared>,
    SessionPath(id): SessionPath,
) -> Result<Json<PublicInfo>, ApiError> {
    let handle = svc
        .hub
        .get(id)
        .await?
        .ok_or_else(ApiError::unknown_session)?;
    let info = handle.info().await?;
    Ok(Json(PublicInfo { id, info }))
}

/// `GET /api/sessions/{id}/events.ndjson` with `Authorization: Bearer <token>`: the chair's or
/// online moderator's capability for this session, or the admin token.
pub async fn events_ndjson(
    State(svc): State<Shared>,
    SessionPath(id): SessionPath,
    headers: HeaderMap,
) -> Result<impl axum::response::IntoResponse, ApiError> {
    let (_, events) = record(&svc, id, &headers).await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "application/x-ndjson")],
        crate::export::ndjson(&events),
    ))
}

/// The moderators' (or the organizer's) way to the record: the session and its whole log.
async fn record(
    svc: &Shared,
    id: SessionId,
    headers: &HeaderMap,
) -> Result<(SessionHandle, Vec<crate::queue::Event>), ApiError> {
    let (handle, _) = authorize(
        svc,
        id,
        headers,
        &[Role::Chair, Role::OnlineModerator],
        "a moderator's link for this session is required",
    )
    .await?;
    let events = svc.hub.log(id).await?;
    Ok((handle, events))
}

fn report(handle: &SessionHandle, events: &[crate::queue::Event]) -> crate::report::Report {
    let meta = handle.meta();
    crate::report::Report::of(meta.id, meta.created_at, events)
}

/// `GET /api/sessions/{id}/report`: the report as JSON (moderators' links or the admin token).
pub async fn report_json(
    State(svc): State<Shared>,
    SessionPath(id): SessionPath,
    headers: HeaderMap,
) -> Result<Json<crate::report::Report>, ApiError> {
    let (handle, events) = record(&svc, id, &headers).await?;
    Ok(Json(report(&handle, &events)))
}

/// `GET /api/sessions/{id}/report.md`: the report as Markdown.
pub async fn report_markdown(
    State(svc): State<Shared>,
    SessionPath(id): SessionPath,
    headers: HeaderMap,
) -> Result<impl axum::response::IntoResponse, ApiError> {
    let (handle, events) = record(&svc, id, &headers).await?;
    Ok((
        [(
            axum::http::header::CONTENT_TYPE,
            "text/markdown; charset=utf-8",
        )],
        report(&handle, &events).markdown(),
    ))
}

/// `GET /api/sessions/{id}/turns.csv`: one row per turn.
pub async fn turns_csv(
    State(svc): State<Shared>,
    SessionPath(id): SessionPath,
    headers: HeaderMap,
) -> Result<impl axum::response::IntoResponse, ApiError> {
    let (_, events) = record(&svc, id, &headers).await?;
    Ok((
        [(axum::http::header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        crate::export::turns_csv(&events),
    ))
}

/// The session `id` and who the request acts as, if the session exists and the request holds
/// one of `roles` for it (or the admin token: the organizer); otherwise the error to answer with.
pub(super) async fn authorize(
    svc: &Shared,
    id: SessionId,
    headers: &HeaderMap,
    roles: &[Role],
    required: &'static str,
) -> Result<(SessionHandle, Principal), ApiError> {
    let handle = svc
        .hub
        .get(id)
        .await?
        .ok_or_else(ApiError::unknown_session)?;
    let token = bearer(headers);
    if secret_matches(svc.settings.admin_token.expose_secret(), token) {
        return Ok((handle, Principal::Organizer));
    }
    let capability =
        svc.settings.keys.verify(token).ok().filter(|c| {
            c.session == id && c.epoch == handle.key_epoch() && roles.contains(&c.role)
        });
    match capability {
        Some(c) => Ok((handle, Principal::of(Some(&c)))),
        None => Err(ApiError::new(StatusCode::FORBIDDEN, "forbidden", required)),
    }
}

/// `POST /api/sessions/{id}/rotate` with the chair's link or the admin token: every role link
/// of the session stops working at once (their sockets close) and new ones are returned.
pub async fn rotate_links(
    State(svc): State<Shared>,
    SessionPath(id): SessionPath,
    headers: HeaderMap,
) -> Result<Json<Created>, ApiError> {
    let required = "the chair's link for this session is required";
    let (handle, principal) = authorize(&svc, id, &headers, &[Role::Chair], required).await?;
    let actor = principal
        .actor()
        .ok_or_else(|| ApiError::new(StatusCode::FORBIDDEN, "forbidden", required))?;
    match handle.command(actor, None, 0, Command::RotateKeys).await? {
        Answer::Ack { .. } => {}
        Answer::Refused(r) => return Err(r.into()),
        // The store refused the append, and logged why: nothing changed.
        Answer::Unavailable => return Err(ApiError::unavailable()),
    }
    tracing::info!(session = %id, "role links rotated");
    Ok(Json(Created {
        id,
        links: links(&svc, id, handle.key_epoch()),
    }))
}

/// The room's current code, for the display.
#[derive(schemars::JsonSchema, Debug, Serialize)]
pub struct RoomCode {
    /// Six digits, shown large.
    pub code: String,
    /// When the next code replaces it (server ms).
    pub next_at: u64,
    /// The onsite join link the QR code carries: the participant link plus the room code.
    pub join_url: String,
    /// The QR code of `join_url`, as SVG markup.
    pub qr_svg: String,
}

/// `GET /api/sessions/{id}/room` with the display's (or a moderator's) token.
pub async fn room_code(
    State(svc): State<Shared>,
    SessionPath(id): SessionPath,
    headers: HeaderMap,
) -> Result<Json<RoomCode>, ApiError> {
    let (handle, _) = authorize(
        &svc,
        id,
        &headers,
        &[Role::Display, Role::Chair, Role::OnlineModerator],
        "the display's link is required",
    )
    .await?;
    let now = svc.now().0;
    let code = svc.settings.keys.room_code(id, now);
    let cap = Capability {
        role: Role::Participant,
        session: id,
        participant: None,
        epoch: handle.key_epoch(),
    };
    let join_url = format!(
        "{}/s/{id}/join#t={}&room={code}",
        svc.settings.public_url,
        svc.settings.keys.sign(&cap)
    );
    let qr_svg = qr_svg(&join_url)?;
    let period = crate::auth::ROOM_CODE_PERIOD_MS;
    Ok(Json(RoomCode {
        code,
        next_at: (now / period + 1) * period,
        join_url,
        qr_svg,
    }))
}

/// A QR code of `text` (a link), as SVG markup.
pub(super) fn qr_svg(text: &str) -> Result<String, ApiError> {
    let qr = qrcode::QrCode::with_error_correction_level(text.as_bytes(), qrcode::EcLevel::M)
        .map_err(|_| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "qr",
                "the link does not fit a QR code",
            )
        })?;
    Ok(qr
        .render::<qrcode::render::svg::Color<'_>>()
        .min_dimensions(256, 256)
        .quiet_zone(true)
        .build())
}
