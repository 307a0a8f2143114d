//! The consoles: pages and their assets, made ready at build time (`build.rs`) and embedded in
//! the binary, debug builds too (an edit under `web/` needs `cargo build`, which redoes it).
//!
//! A page file holds only what is its own. Its first line names its title and script, and
//! whether it opens its socket early, `<!--head title="rostrum" script="join" socket="early"-->`,
//! and is replaced by the head every page shares
//! (`web/pages/parts/head.html`: charset, viewport, icon, stylesheet, and from `build.rs` the
//! script's bundle (the script and every module it imports, as one module), the English
//! catalogue's preload and every catalogue's hashed URL); `<!--session-bar-->` is replaced by the header of
//! the session pages (`parts/session-bar.html`). Nothing inline but the early socket
//! (`web/lib/early.js`), which the CSP allows by its hash alone.
//!
//! Every file is served in the encoding the client asks for (`Accept-Encoding`: brotli, gzip
//! or none), precompressed at build time, with `Vary: Accept-Encoding` and an `ETag`
//! (`If-None-Match` answered 304). A module, stylesheet or catalogue at its content-hashed URL
//! (`/assets/app/common.1a2b3c4d5e.js`, the names the pages and the modules' imports use) is
//! cached for a year, `immutable`; at its plain URL, and every page, `no-cache` (revalidated).
//! A page's bundle is at `/assets/bundle/join.1a2b3c4d5e.js`; the modules stay served one by
//! one too, as written but for their imports' URLs.

use std::collections::HashMap;
use std::sync::LazyLock;

use axum::body::Body;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

/// A file of `web/` as `build.rs` made it.
pub struct Asset {
    /// Its path under `web/` (`app/common.js`, `pages/join.html`).
    path: &'static str,
    /// Its content-hashed path (`app/common.1a2b3c4d5e.js`); none for a page.
    hashed: Option<&'static str>,
    mime: &'static str,
    /// The first 10 hex digits of the SHA-256 of `identity`.
    tag: &'static str,
    identity: &'static [u8],
    /// Brotli at quality 11, if smaller.
    br: Option<&'static [u8]>,
    /// gzip at level 9, if smaller.
    gz: Option<&'static [u8]>,
}

mod built {
    use super::Asset;
    include!(concat!(env!("OUT_DIR"), "/web.rs"));
}
pub use built::EARLY_SCRIPT;

/// The assets by path, hashed (immutable) and plain.
static BY_PATH: LazyLock<HashMap<&'static str, (&'static Asset, bool)>> = LazyLock::new(|| {
    let mut map = HashMap::new();
    for a in built::ASSETS {
        map.insert(a.path, (a, false));
        if let Some(h) = a.hashed {
            map.insert(h, (a, true));
        }
    }
    map
});

/// A year: what a hashed URL may be cached for (its bytes never change).
const IMMUTABLE: &str = "public, max-age=31536000, immutable";

/// How a body is sent.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Coding {
    Br,
    Gzip,
    Identity,
}

/// The coding to send, by the client's `Accept-Encoding` (its q-values: `br;q=0` refuses
/// brotli) and the forms `asset` has. Brotli first, the smaller.
fn negotiate(headers: &HeaderMap, asset: &Asset) -> Coding {
    let accept = headers
        .get_all(header::ACCEPT_ENCODING)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect::<Vec<_>>()
        .join(",");
    let q = |coding: &str| -> f32 {
        let mut star = 0.0;
        for (name, weight) in weighted(&accept) {
            if name.eq_ignore_ascii_case(coding) {
                return weight;
            }
            if name == "*" {
                star = weight;
            }
        }
        star
    };
    if asset.br.is_some() && q("br") > 0.0 {
        Coding::Br
    } else if asset.gz.is_some() && q("gzip") > 0.0 {
        Coding::Gzip
    } else {
        Coding::Identity
    }
}

/// The items of a weighted list header (`Accept-Encoding`, `Accept-Language`): each name with
/// its `q` (1 when absent).
fn weighted(list: &str) -> impl Iterator<Item = (&str, f32)> {
    list.split(',').map(|item| {
        let mut it = item.split(';');
        let name = it.next().unwrap_or("").trim();
        let q = it
            .find_map(|p| p.trim().strip_prefix("q="))
            .and_then(|w| w.trim().parse().ok())
            .unwrap_or(1.0);
        (name, q)
    })
}

/// Whether `If-None-Match` names `etag` (weak comparison, as for a GET).
fn not_modified(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

/// `asset` in the coding the client accepts, or 304 if its copy is current.
fn serve(asset: &Asset, immutable: bool, headers: &HeaderMap, vary: &'static str) -> Response {
    let coding = negotiate(headers, asset);
    let (body, encoding, suffix) = match coding {
        Coding::Br => (asset.br.unwrap_or(asset.identity), Some("br"), "-br"),
        Coding::Gzip => (asset.gz.unwrap_or(asset.identity), Some("gzip"), "-gz"),
        Coding::Identity => (asset.identity, None, ""),
    };
    // Each coding is its own representation, so its own tag.
    let etag = format!("\"{}{suffix}\"", asset.tag);
    let mut resp = if not_modified(headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        let mut resp = Body::from(body).into_response();
        let h = resp.headers_mut();
        h.insert(header::CONTENT_TYPE, HeaderValue::from_static(asset.mime));
        if let Some(e) = encoding {
            h.insert(header::CONTENT_ENCODING, HeaderValue::from_static(e));
        }
        resp
    };
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&etag) {
        h.insert(header::ETAG, v);
    }
    h.insert(header::VARY, HeaderValue::from_static(vary));
    h.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(if immutable { IMMUTABLE } else { "no-cache" }),
    );
    resp
}

/// A page (`pages/{name}.html`): revalidated on each visit (`no-cache`, its `ETag`), with a
/// preload of the reader's catalogue in `Link` when that is not English (the head preloads
/// English, always loaded), so it comes in the same round trip as the modules.
fn file(path: &str, headers: &HeaderMap) -> Response {
    let Some(page) = built::PAGES.iter().find(|p| p.path == path) else {
        return (StatusCode::NOT_FOUND, "not found").into_response();
    };
    let mut resp = serve(page, false, headers, "accept-encoding, accept-language");
    if let Some(url) = reader_language(headers).and_then(|l| catalogue(&l))
        && let Ok(v) =
            HeaderValue::from_str(&format!("<{url}>; rel=preload; as=fetch; crossorigin"))
    {
        resp.headers_mut().insert(header::LINK, v);
    }
    resp
}

/// The hashed URL of a language's catalogue, if there is one.
fn catalogue(lang: &str) -> Option<String> {
    let (a, _) = BY_PATH.get(format!("i18n/{lang}.json").as_str())?;
    Some(format!("/assets/{}", a.hashed?))
}

/// The reader's language other than English, as the page's script picks it (`pickLanguage` in
/// `web/lib/i18n.js`: the first preferred language with a catalogue), from `Accept-Language`.
fn reader_language(headers: &HeaderMap) -> Option<String> {
    let accept = headers.get(header::ACCEPT_LANGUAGE)?.to_str().ok()?;
    let mut tags: Vec<(&str, f32)> = weighted(accept).filter(|(_, q)| *q > 0.0).collect();
    // Stable: equal weights keep the browser's order.
    tags.sort_by(|a, b| b.1.total_cmp(&a.1));
    let lang = tags
        .iter()
        .map(|(t, _)| t.split('-').next().unwrap_or("").to_ascii_lowercase())
        .find(|l| !l.is_empty() && catalogue(l).is_some())?;
    (lang != "en").then_some(lang)
}

/// `GET /assets/{*path}`: scripts, styles, translations.
/// At its hashed URL, immutable; at its plain one, revalidated.
pub async fn asset(Path(path): Path<String>, headers: HeaderMap) -> Response {
    match BY_PATH.get(path.as_str()) {
        Some((a, immutable)) => serve(a, *immutable, &headers, "accept-encoding"),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// The page of a role: `/s/{id}` (public view) and `/s/{id}/{join|chair|moderator|display}`;
/// `/s/{id}/report` is the printable report (a moderator's token in the fragment), and
/// `/s/{id}/poster` the room's printable join poster (the admin token or the chair's).
pub async fn page(Path(params): Path<Vec<(String, String)>>, headers: HeaderMap) -> Response {
    let role = params
        .iter()
        .find(|(k, _)| k == "role")
        .map_or("public", |(_, v)| v.as_str());
    match role {
        "public" | "join" | "display" | "report" | "poster" => {
            file(&format!("pages/{role}.html"), &headers)
        }
        // One console for both moderators; the page keeps what its role uses.
        "chair" | "moderator" => file("pages/console.html", &headers),
        _ => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

/// `GET /`: what this is, for someone who typed the address.
pub async fn home(headers: HeaderMap) -> Response {
    file("pages/home.html", &headers)
}

/// `GET /organize`: the organizer's page (the admin token rides in the fragment).
pub async fn organize(headers: HeaderMap) -> Response {
    file("pages/organize.html", &headers)
}

/// `GET /rooms/{id}`: a room's display, following the programme (the room's token rides in the
/// fragment).
pub async fn room(headers: HeaderMap) -> Response {
    file("pages/room.html", &headers)
}

/// `GET /event`: the organizer's event view, rooms by time (the admin token rides in the
/// fragment).
pub async fn event(headers: HeaderMap) -> Response {
    file("pages/event.html", &headers)
}

/// `GET /rooms/{id}/join` (a room's poster link: on to the session on in the room),
/// `/rooms/{id}/poster` (the room's permanent poster) and `/rooms/{id}/programme` (its sessions
/// with their links), to print.
pub async fn room_page(Path((_, page)): Path<(String, String)>, headers: HeaderMap) -> Response {
    match page.as_str() {
        "join" => file("pages/room-join.html", &headers),
        "poster" => file("pages/room-poster.html", &headers),
        "programme" => file("pages/room-programme.html", &headers),
        _ => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn page(name: &str) -> &'static str {
        let p = built::PAGES
            .iter()
            .find(|p| p.path == format!("pages/{name}.html"))
            .unwrap_or_else(|| panic!("no page {name}"));
        std::str::from_utf8(p.identity).unwrap()
    }

    #[test]
    fn every_page_is_assembled_with_the_shared_head_and_no_directive_left() {
        assert!(built::PAGES.len() >= 13);
        for p in built::PAGES {
            let path = p.path;
            let page = std::str::from_utf8(p.identity).unwrap();
            assert!(
                page.starts_with("<!doctype html>\n<html lang=\"en\">"),
                "{path}"
            );
            let css = format!(
                "<link rel=\"stylesheet\" href=\"/assets/{}\">",
                BY_PATH["css/rostrum.css"].0.hashed.unwrap()
            );
            for shared in [
                "<meta charset=\"utf-8\">",
                "<meta name=\"viewport\"",
                "<link rel=\"icon\" href=\"data:image/svg+xml,",
                "<meta name=\"rostrum-catalogues\" content=\"",
                css.as_str(),
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
    fn a_page_names_its_bundle_by_its_hashed_url_and_preloads_no_module() {
        let join = page("join");
        let url = |p: &str| format!("/assets/{}", BY_PATH[p].0.hashed.unwrap());
        assert!(
            join.contains(&format!(
                "<script type=\"module\" src=\"{}\"></script>\n</head>",
                url("bundle/join.js")
            )),
            "{join}"
        );
        assert!(!join.contains("modulepreload"), "{join}");
        assert!(join.contains("<header class=\"bar\">") && join.contains("<select id=\"lang\">"));
        // The bundle holds the script and every module it imports, and imports nothing itself.
        let bundle = std::str::from_utf8(BY_PATH["bundle/join.js"].0.identity).unwrap();
        for m in [
            "app/join.js",
            "app/common.js",
            "app/dom.js",
            "lib/client.js",
            "lib/view.js",
            "lib/clock.js",
            "lib/i18n.js",
            "lib/link.js",
        ] {
            assert_eq!(
                bundle.matches(&format!("\n// bundled: web/{m}\n")).count(),
                1,
                "{m}"
            );
        }
        assert!(
            !bundle
                .lines()
                .any(|l| l.starts_with("import ") || l.starts_with("export ")),
            "{bundle}"
        );
        // The modules are still served one by one, their imports by hashed URLs, relative ones
        // included.
        let client = std::str::from_utf8(BY_PATH["lib/client.js"].0.identity).unwrap();
        assert!(
            client.contains(&format!("from \"{}\"", url("lib/view.js"))),
            "{client}"
        );
    }

    #[test]
    fn encodings_are_negotiated_by_their_weights() {
        let a = BY_PATH["app/common.js"].0;
        let ask = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT_ENCODING, HeaderValue::from_str(v).unwrap());
            negotiate(&h, a)
        };
        assert_eq!(ask("gzip, deflate, br, zstd"), Coding::Br);
        assert_eq!(ask("gzip, br;q=0"), Coding::Gzip);
        assert_eq!(ask("identity"), Coding::Identity);
        assert_eq!(ask("*"), Coding::Br);
        assert_eq!(ask("*;q=0, gzip;q=0.5"), Coding::Gzip);
        assert_eq!(negotiate(&HeaderMap::new(), a), Coding::Identity);
    }

    #[test]
    fn the_readers_language_is_the_first_with_a_catalogue() {
        let ask = |v: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_str(v).unwrap());
            reader_language(&h)
        };
        assert_eq!(ask("fr-CH, fr;q=0.9, en;q=0.8"), Some("fr".into()));
        assert_eq!(ask("de-DE, es;q=0.5"), Some("es".into()));
        assert_eq!(ask("en-US,en;q=0.9,ar;q=0.8"), None);
        assert_eq!(ask("de, ru;q=0.1, zh;q=0.7"), Some("zh".into()));
    }
}
