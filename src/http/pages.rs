//! The consoles: pages and their assets, embedded in the binary (read from `web/` on disk in
//! debug builds, so editing a page needs no rebuild).
//!
//! A page file holds only what is its own. Its first line names its title and script,
//! `<!--head title="rostrum" script="join"-->`, and is replaced by the head every page shares
//! (`web/pages/parts/head.html`: charset, viewport, icon, stylesheet); `<!--session-bar-->`
//! is replaced by the header of the session pages (`parts/session-bar.html`: the session's
//! title, the connection status, the language picker). No build step and nothing inline, so the
//! CSP stays strict.

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
            let body = if path.starts_with("pages/") {
                match assemble(&String::from_utf8_lossy(&f.data)) {
                    Ok(page) => Body::from(page),
                    Err(why) => {
                        tracing::error!(path, why, "a page that cannot be assembled");
                        return (StatusCode::INTERNAL_SERVER_ERROR, "page not assembled")
                            .into_response();
                    }
                }
            } else {
                Body::from(f.data.into_owned())
            };
            let mut resp = body.into_response();
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

/// A shared part of the pages, `web/pages/parts/{name}.html`.
fn part(name: &str) -> Result<String, String> {
    let f = Web::get(&format!("pages/parts/{name}.html")).ok_or(format!("no part {name}"))?;
    String::from_utf8(f.data.into_owned()).map_err(|_| format!("part {name} is not UTF-8"))
}

/// A page with its shared parts filled in (see the module's note). Cheap enough per request:
/// a few kilobytes of text, fetched once per person.
fn assemble(page: &str) -> Result<String, String> {
    let (first, rest) = page.split_once('\n').ok_or("an empty page")?;
    let attrs = first
        .strip_prefix("<!--head ")
        .and_then(|a| a.strip_suffix("-->"))
        .ok_or("the first line is not <!--head ...-->")?;
    let title = attr(attrs, "title").ok_or("the head names no title")?;
    let script = attr(attrs, "script").map_or(String::new(), |s| {
        format!("<script type=\"module\" src=\"/assets/app/{s}.js\"></script>\n")
    });
    let head = part("head")?
        .replace("{title}", title)
        .replace("{script}\n", &script);
    let mut out = head + rest;
    if out.contains("<!--session-bar-->") {
        out = out.replace("<!--session-bar-->\n", &part("session-bar")?);
    }
    Ok(out)
}

/// The value of `name="value"` in a directive's attributes.
fn attr<'a>(attrs: &'a str, name: &str) -> Option<&'a str> {
    let from = attrs.find(&format!("{name}=\""))? + name.len() + 2;
    let len = attrs[from..].find('"')?;
    Some(&attrs[from..from + len])
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_page_is_assembled_with_the_shared_head_and_no_directive_left() {
        let pages: Vec<_> = Web::iter()
            .filter(|p| p.starts_with("pages/") && !p.starts_with("pages/parts/"))
            .collect();
        assert!(pages.len() >= 13, "{pages:?}");
        for path in pages {
            let raw = Web::get(&path).unwrap();
            let page = assemble(std::str::from_utf8(&raw.data).unwrap())
                .unwrap_or_else(|e| panic!("{path}: {e}"));
            assert!(
                page.starts_with("<!doctype html>\n<html lang=\"en\">"),
                "{path}"
            );
            for shared in [
                "<meta charset=\"utf-8\">",
                "<meta name=\"viewport\"",
                "<link rel=\"icon\" href=\"data:image/svg+xml,",
                "<link rel=\"stylesheet\" href=\"/assets/css/rostrum.css\">",
            ] {
                assert_eq!(page.matches(shared).count(), 1, "{path}: {shared}");
            }
            assert!(
                !page.contains("<!--head")
                    && !page.contains("<!--session-bar")
                    && !page.contains("{title}"),
                "{path}"
            );
            assert!(
                page.contains("<title>rostrum") && page.ends_with("</html>\n"),
                "{path}"
            );
        }
    }

    #[test]
    fn a_page_names_its_script_and_the_session_bar_is_filled_in() {
        let page = assemble("<!--head title=\"a room's page\" script=\"join\"-->\n<body>\n<!--session-bar-->\n</body>\n").unwrap();
        assert!(page.contains("<title>a room's page</title>"), "{page}");
        assert!(
            page.contains("<script type=\"module\" src=\"/assets/app/join.js\"></script>\n</head>"),
            "{page}"
        );
        assert!(
            page.contains("<header class=\"bar\">") && page.contains("<select id=\"lang\">"),
            "{page}"
        );
        assert!(
            assemble("<!doctype html>\n").is_err(),
            "a page with no head directive"
        );
    }
}
