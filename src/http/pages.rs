//! The consoles: pages and their assets, embedded in the binary (read from `web/` on disk in
//! debug builds, so editing a page needs no rebuild).

use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use rust_embed::RustEmbed;

/// The `web/` directory.
#[derive(RustEmbed)]
#[folder = "web/"]
#[exclude = "test/*"]
#[exclude = "node_modules/*"]
struct Web;

fn file(path: &str) -> Response {
    match Web::get(path) {
        Some(f) => {
            let mime = f.metadata.mimetype().to_owned();
            let mut resp = Body::from(f.data.into_owned()).into_response();
            let h = resp.headers_mut();
            if let Ok(v) = HeaderValue::from_str(&mime) {
                h.insert(header::CONTENT_TYPE, v);
            }
            // Pages and modules change with each release; revalidate rather than go stale.
            h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
            resp
        }
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// `GET /assets/{*path}`: scripts, styles, translations.
pub async fn asset(Path(path): Path<String>) -> Response {
    if path
        .split('/')
        .any(|seg| seg == ".." || seg.starts_with('.'))
        || path.starts_with("pages/")
    {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    }
    file(&path)
}

/// The page of a role: `/s/{id}` (public view) and `/s/{id}/{join|chair|moderator|display}`;
/// `/s/{id}/report` is the printable report (a moderator's token in the fragment), and
/// `/s/{id}/poster` the room's printable join poster (the admin token or the chair's).
pub async fn page(Path(params): Path<Vec<(String, String)>>) -> Response {
    let role = params
        .iter()
        .find(|(k, _)| k == "role")
        .map_or("public", |(_, v)| v.as_str());
    match role {
        "public" | "join" | "display" | "report" | "poster" => file(&format!("pages/{role}.html")),
        // One console for both moderators; the page keeps what its role uses.
        "chair" | "moderator" => file("pages/console.html"),
        _ => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// `GET /`: what this is, for someone who typed the address.
pub async fn home() -> Response {
    file("pages/home.html")
}

/// `GET /organize`: the organizer's page (the admin token rides in the fragment).
pub async fn organize() -> Response {
    file("pages/organize.html")
}

/// `GET /rooms/{id}`: a room's display, following the programme (the room's token rides in the
/// fragment).
pub async fn room() -> Response {
    file("pages/room.html")
}

/// `GET /event`: the organizer's event view, rooms by time (the admin token rides in the
/// fragment).
pub async fn event() -> Response {
    file("pages/event.html")
}

/// `GET /rooms/{id}/join` (a room's poster link: on to the session on in the room),
/// `/rooms/{id}/poster` (the room's permanent poster) and `/rooms/{id}/programme` (its sessions
/// with their links), to print.
pub async fn room_page(Path((_, page)): Path<(String, String)>) -> Response {
    match page.as_str() {
        "join" => file("pages/room-join.html"),
        "poster" => file("pages/room-poster.html"),
        "programme" => file("pages/room-programme.html"),
        _ => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}
