//! HTTP routes: the organizer API, session info, health, and the WebSocket upgrade. Every
//! error is one JSON shape, `{"code", "message"}`, with its status.

pub(crate) mod admin;
pub(crate) mod api;
mod error;
pub mod guard;
mod igf;
pub mod openapi;
mod pages;
mod programme;
mod rooms;
mod short;
mod upgrade;

pub use error::{ApiError, ErrorBody, SessionPath};
pub use guard::CSP;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use secrecy::ExposeSecret as _;

use crate::service::Shared;

/// The largest request body accepted (a session with its agenda and rosters fits easily).
const BODY_LIMIT: usize = 64 * 1024;

/// Every route of the service.
pub fn router(svc: Shared) -> Router {
    let api = Router::new()
        .route(
            "/api/sessions",
            post(api::create_session).get(admin::list_sessions),
        )
        .route("/api/sessions/{id}/links", get(admin::session_links))
        .route("/api/sessions/{id}/end", post(admin::end_session))
        .route("/api/sessions/{id}", get(api::session_info))
        .route("/api/sessions/{id}/events.ndjson", get(api::events_ndjson))
        .route("/api/sessions/{id}/rotate", post(api::rotate_links))
        .route("/api/sessions/{id}/report", get(api::report_json))
        .route("/api/sessions/{id}/report.md", get(api::report_markdown))
        .route("/api/sessions/{id}/turns.csv", get(api::turns_csv))
        .route("/api/sessions/{id}/room", get(api::room_code))
        .route("/api/rooms", get(rooms::list_rooms).put(rooms::set_rooms))
        .route("/api/rooms/{id}", delete(rooms::delete_room))
        .route("/api/rooms/{id}/now", get(rooms::room_now))
        .route("/api/rooms/{id}/join", get(rooms::room_join))
        .route("/api/rooms/{id}/poster", get(rooms::room_poster))
        .route("/api/programme", get(programme::programme))
        .route("/api/programme.csv", get(programme::programme_csv))
        .route(
            "/api/programme/entries/{id}",
            delete(programme::delete_entry),
        )
        .route("/api/programme/report.md", get(igf::event_report))
        .route("/api/programme/report.json", get(igf::event_report_json))
        .route("/api/sessions/{id}/report.igf.md", get(igf::igf_report))
        .route(
            "/api/sessions/{id}/report.igf.json",
            get(igf::igf_report_json),
        )
        .route(
            "/api/sessions/{id}/report.igf.html",
            get(igf::igf_report_html),
        )
        .route(
            "/api/sessions/{id}/report.igf.odt",
            get(igf::igf_report_odt),
        )
        .route(
            "/api/programme/import",
            post(programme::import).layer(DefaultBodyLimit::max(programme::IMPORT_LIMIT)),
        )
        .route("/j/{code}", get(short::resolve))
        .layer(axum::middleware::from_fn_with_state(
            svc.clone(),
            guard::api_rate,
        ));
    // Dynamic answers are compressed as they go; pages and assets come precompressed (from
    // `build.rs`, served by `pages`), so they are outside the compression layer.
    let dynamic = Router::new()
        .merge(api)
        .route("/api/openapi.json", get(openapi_json))
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .route("/metrics", get(metrics))
        .layer(guard::compression());
    let app = Router::new()
        .merge(dynamic)
        .route("/", get(pages::home))
        .route("/organize", get(pages::organize))
        .route("/rooms/{id}", get(pages::room))
        .route("/rooms/{id}/{page}", get(pages::room_page))
        .route("/event", get(pages::event))
        .route("/s/{id}", get(pages::page))
        .route("/s/{id}/{role}", get(pages::page))
        .route("/assets/{*path}", get(pages::asset))
        .layer(DefaultBodyLimit::max(BODY_LIMIT));
    let ws = Router::new().route("/ws", get(upgrade::upgrade));
    guard::around(app, ws, &svc.settings.http).with_state(svc)
}

/// `GET /metrics`: Prometheus text, for the metrics token (or the admin token). The figures
/// hold no names, titles or ids, but a public endpoint would still tell anyone how busy an
/// event is, so it asks for a token that Prometheus sends as `Authorization: Bearer`.
async fn metrics(State(svc): State<Shared>, headers: axum::http::HeaderMap) -> Response {
    let token = svc
        .settings
        .http
        .metrics_token
        .as_ref()
        .unwrap_or(&svc.settings.admin_token);
    if !crate::auth::secret_matches(token.expose_secret(), api::bearer(&headers)) {
        return ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "a valid metrics (or admin) token is required",
        )
        .into_response();
    }
    (
        [(
            axum::http::header::CONTENT_TYPE,
            "text/plain; version=0.0.4; charset=utf-8",
        )],
        crate::metrics::render(),
    )
        .into_response()
}

/// `GET /api/openapi.json`: the HTTP API as OpenAPI 3.1, generated once.
async fn openapi_json() -> Response {
    static DOC: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    let doc = DOC.get_or_init(|| openapi::openapi().to_string());
    (
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        doc.as_str(),
    )
        .into_response()
}

/// Ready while not shutting down (a load balancer stops sending new clients first) and while
/// the store can write: a read-only database file, a full or frozen disk make it fail until
/// the store writes again.
async fn readyz(State(svc): State<Shared>) -> Response {
    if svc.cancel.is_cancelled() {
        return ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            "the service is shutting down",
        )
        .into_response();
    }
    match svc.hub.ready() {
        Ok(()) => "ready".into_response(),
        Err(why) => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "store_unavailable",
            format!("the store cannot write: {why}"),
        )
        .into_response(),
    }
}
