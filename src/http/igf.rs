//! The official report's routes: one session in the IGF template (Markdown, printable HTML,
//! OpenDocument) for its moderators or the organizer, and the event's summary for the
//! secretariat (admin token); each also as JSON (`.json`), the data the others are written from.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;

use super::api::require_admin;
use super::{ApiError, SessionPath};
use crate::auth::Role;
use crate::ids::SessionId;
use crate::programme::igf::{EventSummary, IgfReport};
use crate::service::Shared;

fn markdown(body: String) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "text/markdown; charset=utf-8")],
        body,
    )
}

/// A session's report in the IGF template, for a moderator's link or the admin token; placed in
/// the programme if it is in one.
async fn igf_of(svc: &Shared, id: SessionId, headers: &HeaderMap) -> Result<IgfReport, ApiError> {
    let (handle, _) = super::api::authorize(
        svc,
        id,
        headers,
        &[Role::Chair, Role::OnlineModerator],
        "a moderator's link for this session is required",
    )
    .await?;
    let meta = handle.meta().clone();
    let events = svc.hub.log(meta.id).await?;
    let report = crate::report::Report::of(meta.id, meta.created_at, &events);
    let p = svc.programme.get();
    let placed = p
        .slots
        .iter()
        .find(|s| s.session == meta.id)
        .and_then(|s| Some((s, p.room(s.room)?)));
    Ok(IgfReport::of(&report, &events, placed))
}

async fn igf_markdown(
    svc: &Shared,
    id: SessionId,
    headers: &HeaderMap,
) -> Result<String, ApiError> {
    Ok(igf_of(svc, id, headers).await?.markdown())
}

/// `GET /api/sessions/{id}/report.igf.json`: the session's report in the IGF template, as data.
pub async fn igf_report_json(
    State(svc): State<Shared>,
    SessionPath(id): SessionPath,
    headers: HeaderMap,
) -> Result<Json<IgfReport>, ApiError> {
    Ok(Json(igf_of(&svc, id, &headers).await?))
}

/// `GET /api/sessions/{id}/report.igf.md`: the session's report in the IGF template.
pub async fn igf_report(
    State(svc): State<Shared>,
    SessionPath(id): SessionPath,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    Ok(markdown(igf_markdown(&svc, id, &headers).await?))
}

/// `GET /api/sessions/{id}/report.igf.html`: the same as a printable page.
pub async fn igf_report_html(
    State(svc): State<Shared>,
    SessionPath(id): SessionPath,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    let md = igf_markdown(&svc, id, &headers).await?;
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
    SessionPath(id): SessionPath,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    let md = igf_markdown(&svc, id, &headers).await?;
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

/// The event's summary for the secretariat (admin token), recomputed from every programme
/// session's log.
async fn event_summary(svc: &Shared, headers: &HeaderMap) -> Result<EventSummary, ApiError> {
    require_admin(svc, headers)?;
    let p = svc.programme.get();
    let mut entries = Vec::with_capacity(p.slots.len());
    for slot in &p.slots {
        let Some(room) = p.room(slot.room) else {
            continue;
        };
        let Some(meta) = svc.hub.meta(slot.session).await? else {
            continue;
        };
        let events = svc.hub.log(slot.session).await?;
        entries.push(crate::programme::igf::Entry {
            slot,
            room,
            report: crate::report::Report::of(meta.id, meta.created_at, &events),
        });
    }
    Ok(EventSummary::of(&entries))
}

/// `GET /api/programme/report.md` with the admin token: the event's summary as Markdown.
pub async fn event_report(
    State(svc): State<Shared>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    Ok(markdown(event_summary(&svc, &headers).await?.markdown()))
}

/// `GET /api/programme/report.json` with the admin token: the event's summary as data.
pub async fn event_report_json(
    State(svc): State<Shared>,
    headers: HeaderMap,
) -> Result<Json<EventSummary>, ApiError> {
    Ok(Json(event_summary(&svc, &headers).await?))
}
