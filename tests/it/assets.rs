//! The pages for weak links, through the real binary: precompressed bytes by content
//! negotiation, content-hashed asset URLs cached for good, pages revalidated by `ETag`, and a
//! page's one script, its bundle, holding its script's whole import graph (so no new import is
//! forgotten).

use std::collections::{BTreeSet, VecDeque};
use std::io::Read;

use reqwest::StatusCode;
use reqwest::header::HeaderMap;

use crate::support::Server;

/// Every page the server has, by a URL that serves it.
const PAGES: &[&str] = &[
    "/",
    "/organize",
    "/event",
    "/rooms/r1",
    "/rooms/r1/join",
    "/rooms/r1/poster",
    "/rooms/r1/programme",
    "/s/{id}",
    "/s/{id}/join",
    "/s/{id}/chair",
    "/s/{id}/moderator",
    "/s/{id}/display",
    "/s/{id}/report",
    "/s/{id}/poster",
];

async fn server() -> (tempfile::TempDir, Server, String) {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let created = server.create_session_json("Weak links").await;
    let id = created["id"].as_str().unwrap().to_owned();
    (dir, server, id)
}

async fn get(url: &str, headers: &[(&str, &str)]) -> (StatusCode, HeaderMap, Vec<u8>) {
    // reqwest here has no decompression: what this reads is what the server sent.
    let mut req = reqwest::Client::new().get(url);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = req.send().await.unwrap();
    let (status, headers) = (resp.status(), resp.headers().clone());
    (status, headers, resp.bytes().await.unwrap().to_vec())
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> &'a str {
    h.get(name).map_or("", |v| v.to_str().unwrap())
}

/// The values of `attr` in the tags of `html` that contain `marker`.
fn attrs(html: &str, marker: &str, attr: &str) -> Vec<String> {
    html.lines()
        .filter(|l| l.contains(marker))
        .filter_map(|l| {
            let from = l.find(&format!("{attr}=\""))? + attr.len() + 2;
            Some(l[from..from + l[from..].find('"')?].to_owned())
        })
        .collect()
}

/// The specifiers a module imports (static `import`/`export … from`), read here independently
/// of `build.rs`.
fn imports(module: &str) -> Vec<String> {
    module
        .lines()
        .map(str::trim_start)
        .filter(|l| l.starts_with("import ") || l.starts_with("export "))
        .filter_map(|l| {
            let rest = l
                .find(" from ")
                .map_or(&l[6..], |at| &l[at + 6..])
                .trim_start();
            let rest = rest.strip_prefix('"').or_else(|| rest.strip_prefix('\''))?;
            Some(rest[..rest.find(['"', '\''])?].to_owned())
        })
        .collect()
}

fn is_hashed(url: &str) -> bool {
    let name = url.rsplit('/').next().unwrap();
    let parts: Vec<_> = name.split('.').collect();
    parts.len() == 3 && parts[1].len() == 10 && parts[1].bytes().all(|b| b.is_ascii_hexdigit())
}

fn decode(coding: &str, sent: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        "br" => brotli::Decompressor::new(sent, 4096)
            .read_to_end(&mut out)
            .unwrap(),
        "gzip" => flate2::read::GzDecoder::new(sent)
            .read_to_end(&mut out)
            .unwrap(),
        _ => {
            out.extend_from_slice(sent);
            0
        }
    };
    out
}

#[tokio::test]
async fn pages_and_assets_come_precompressed_by_what_the_client_accepts() {
    let (_dir, server, id) = server().await;
    let (_, _, page) = get(&format!("{}/s/{id}/join", server.url), &[]).await;
    let page = String::from_utf8(page).unwrap();
    let script = attrs(&page, "<script type=\"module\"", "src").remove(0);
    let css = attrs(&page, "rel=\"stylesheet\"", "href").remove(0);
    let mut brotli_sent = 0;
    let mut gzip_sent = 0;
    for path in [
        format!("/s/{id}/join"),
        "/".to_owned(),
        script,
        css,
        "/assets/app/common.js".to_owned(),
        "/assets/i18n/en.json".to_owned(),
    ] {
        let url = format!("{}{path}", server.url);
        let (status, h, plain) = get(&url, &[]).await;
        assert_eq!(status, 200, "{path}");
        assert_eq!(
            header(&h, "content-encoding"),
            "",
            "{path}: asked for nothing"
        );
        for (accept, coding) in [
            ("gzip, deflate, br, zstd", "br"),
            ("br", "br"),
            ("gzip", "gzip"),
            ("gzip, br;q=0", "gzip"),
            ("identity", ""),
            ("zstd", ""),
        ] {
            let (status, h, sent) = get(&url, &[("accept-encoding", accept)]).await;
            assert_eq!(status, 200, "{path} {accept}");
            assert_eq!(header(&h, "content-encoding"), coding, "{path} {accept}");
            assert!(
                header(&h, "vary").contains("accept-encoding"),
                "{path}: caches must key on the encoding"
            );
            // Precompressed: its length known up front, not streamed by a compressor.
            assert_eq!(
                header(&h, "content-length"),
                sent.len().to_string(),
                "{path} {accept}"
            );
            assert_eq!(decode(coding, &sent), plain, "{path} over {accept}");
            if !coding.is_empty() {
                assert!(sent.len() < plain.len(), "{path} {coding}");
            }
            match accept {
                "br" => brotli_sent += sent.len(),
                "gzip" => gzip_sent += sent.len(),
                _ => {}
            }
        }
    }
    // Brotli at quality 11 beats gzip at 9 on these files (tower-http's runtime brotli, at
    // quality 4, did not: docs/performance.md).
    assert!(
        brotli_sent < gzip_sent * 95 / 100,
        "{brotli_sent} vs {gzip_sent}"
    );
    // The API's answers are still compressed as they go.
    let (_, h, _) = get(
        &format!("{}/api/openapi.json", server.url),
        &[("accept-encoding", "br")],
    )
    .await;
    assert_eq!(header(&h, "content-encoding"), "br");
}

#[tokio::test]
async fn hashed_urls_are_immutable_and_pages_are_revalidated_by_their_etag() {
    let (_dir, server, id) = server().await;
    let page_url = format!("{}/s/{id}/join", server.url);
    let (_, h, page) = get(&page_url, &[("accept-encoding", "br")]).await;
    assert_eq!(header(&h, "cache-control"), "no-cache");
    let etag = header(&h, "etag").to_owned();
    assert!(etag.starts_with('"') && etag.ends_with("-br\""), "{etag}");
    let page = String::from_utf8(decode("br", &page)).unwrap();

    // The page again with its tag: 304, no body; another encoding is another representation.
    let (status, h304, body) = get(
        &page_url,
        &[("accept-encoding", "br"), ("if-none-match", &etag)],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert!(body.is_empty());
    assert_eq!(header(&h304, "etag"), etag);
    assert_eq!(header(&h304, "cache-control"), "no-cache");
    let (status, _, _) = get(
        &page_url,
        &[("accept-encoding", "gzip"), ("if-none-match", &etag)],
    )
    .await;
    assert_eq!(status, 200, "a gzip copy is not the brotli one");
    let (status, _, _) = get(&page_url, &[("if-none-match", "\"0000000000\"")]).await;
    assert_eq!(status, 200, "a stale tag");

    // Every asset the page names is at a hashed URL, cached for a year, and 304 on its tag.
    let mut named = attrs(&page, "<script type=\"module\"", "src");
    named.extend(attrs(&page, "rel=\"stylesheet\"", "href"));
    named.extend(attrs(&page, "rel=\"preload\"", "href"));
    assert_eq!(
        named.len(),
        3,
        "the bundle, the stylesheet, English: {named:?}"
    );
    for url in &named {
        assert!(is_hashed(url), "{url}");
        let (status, h, _) = get(&format!("{}{url}", server.url), &[]).await;
        assert_eq!(status, 200, "{url}");
        assert_eq!(
            header(&h, "cache-control"),
            "public, max-age=31536000, immutable",
            "{url}"
        );
        let tag = header(&h, "etag").to_owned();
        let (status, _, _) = get(
            &format!("{}{url}", server.url),
            &[("if-none-match", &format!("W/{tag}"))],
        )
        .await;
        assert_eq!(status, 304, "{url}");
    }
    // The old plain URLs still answer, revalidated rather than cached for good, with the same
    // bytes as the hashed ones.
    let (status, h, plain) = get(&format!("{}/assets/bundle/join.js", server.url), &[]).await;
    assert_eq!(status, 200);
    assert_eq!(header(&h, "cache-control"), "no-cache");
    let hashed_join = attrs(&page, "<script type=\"module\"", "src").remove(0);
    let (_, _, same) = get(&format!("{}{hashed_join}", server.url), &[]).await;
    assert_eq!(plain, same);
    let (status, _, _) = get(
        &format!("{}/assets/app/join.0123456789.js", server.url),
        &[],
    )
    .await;
    assert_eq!(status, 404, "a hash that is not the file's");

    // The reader's catalogue comes with the page: a Link preload for a language other than
    // English (English is in the head), at the hashed URL the head names for it.
    let catalogues = attrs(&page, "name=\"rostrum-catalogues\"", "content").remove(0);
    let (_, h, _) = get(
        &page_url,
        &[("accept-language", "fr-CH, fr;q=0.9, en;q=0.8")],
    )
    .await;
    let link = header(&h, "link");
    let fr = catalogues
        .split(' ')
        .find_map(|p| p.strip_prefix("fr="))
        .unwrap();
    assert_eq!(link, format!("<{fr}>; rel=preload; as=fetch; crossorigin"));
    assert!(header(&h, "vary").contains("accept-language"));
    let (_, h, _) = get(&page_url, &[("accept-language", "en-GB,en;q=0.9")]).await;
    assert_eq!(header(&h, "link"), "", "English is preloaded by the head");
}

#[tokio::test]
async fn every_pages_script_is_one_bundle_of_its_whole_import_graph() {
    let (_dir, server, id) = server().await;
    for page in PAGES {
        let path = page.replace("{id}", &id);
        let (status, _, html) = get(&format!("{}{path}", server.url), &[]).await;
        assert_eq!(status, 200, "{path}");
        let html = String::from_utf8(html).unwrap();
        let scripts = attrs(&html, "<script type=\"module\"", "src");
        assert!(
            !html.contains("modulepreload"),
            "{path}: a bundle needs no module preloaded"
        );
        let Some(bundle_url) = scripts.first() else {
            continue;
        };
        assert_eq!(scripts.len(), 1, "{path}");
        assert!(is_hashed(bundle_url), "{path}: {bundle_url}");
        let name = bundle_url
            .strip_prefix("/assets/bundle/")
            .and_then(|n| n.split('.').next())
            .unwrap_or_else(|| panic!("{path}: {bundle_url} is not a bundle"));
        let (status, _, bundle) = get(&format!("{}{bundle_url}", server.url), &[]).await;
        assert_eq!(status, 200, "{path}: {bundle_url}");
        let bundle = String::from_utf8(bundle).unwrap();
        assert_eq!(
            imports(&bundle),
            Vec::<String>::new(),
            "{path}: the bundle imports nothing"
        );
        // Walk the script's graph through the modules as served one by one (their imports read
        // here, not by build.rs): each is in the bundle, once, and nothing else is.
        let entry = format!("/assets/app/{name}.js");
        let mut reached = BTreeSet::from([format!("app/{name}.js")]);
        let mut todo = VecDeque::from([entry]);
        while let Some(url) = todo.pop_front() {
            let (status, _, module) = get(&format!("{}{url}", server.url), &[]).await;
            assert_eq!(status, 200, "{path}: {url}");
            for spec in imports(&String::from_utf8(module).unwrap()) {
                assert!(
                    spec.starts_with("/assets/") && is_hashed(&spec),
                    "{url} imports {spec}"
                );
                // `/assets/lib/view.1a2b3c4d5e.js` is web/lib/view.js.
                let (dir_name, ext) = spec["/assets/".len()..].rsplit_once('.').unwrap();
                let plain = format!("{}.{ext}", dir_name.rsplit_once('.').unwrap().0);
                if reached.insert(plain) {
                    todo.push_back(spec);
                }
            }
        }
        let bundled: BTreeSet<String> = bundle
            .lines()
            .filter_map(|l| l.strip_prefix("// bundled: web/"))
            .map(str::to_owned)
            .collect();
        assert_eq!(
            bundled, reached,
            "{path}: the bundle holds the script's import graph"
        );
        // Every page's script loads English first: it is preloaded, by its hashed URL.
        let preload = attrs(&html, "rel=\"preload\"", "href");
        assert!(
            preload.len() == 1
                && preload[0].starts_with("/assets/i18n/en.")
                && is_hashed(&preload[0]),
            "{path}: {preload:?}"
        );
        assert!(
            html.contains("as=\"fetch\" crossorigin>"),
            "{path}: a preload fetch() can use"
        );
    }
}

/// The pages that connect open their socket as their head is read (`web/lib/early.js`, inline):
/// the CSP allows that script by its SHA-256 and nothing else inline; other pages carry none.
#[tokio::test]
async fn the_pages_that_connect_carry_the_early_socket_and_the_csp_allows_only_it() {
    use base64::Engine as _;
    use sha2::Digest as _;
    let (_dir, server, id) = server().await;
    for page in PAGES {
        let path = page.replace("{id}", &id);
        let (status, h, html) = get(&format!("{}{path}", server.url), &[]).await;
        assert_eq!(status, 200, "{path}");
        let html = String::from_utf8(html).unwrap();
        let inline: Vec<&str> = html
            .split("<script>")
            .skip(1)
            .map(|s| s.split_once("</script>").unwrap().0)
            .collect();
        let connects =
            path.starts_with("/s/") && !path.ends_with("/report") && !path.ends_with("/poster");
        assert_eq!(
            inline.len(),
            usize::from(connects),
            "{path}: its inline scripts"
        );
        let csp = header(&h, "content-security-policy");
        let script_src = csp
            .split(';')
            .map(str::trim)
            .find(|d| d.starts_with("script-src "))
            .unwrap();
        let Some(early) = inline.first() else {
            continue;
        };
        assert!(early.contains("new WebSocket("), "{path}: {early}");
        let hash = base64::engine::general_purpose::STANDARD.encode(sha2::Sha256::digest(early));
        assert_eq!(
            script_src,
            format!("script-src 'self' 'sha256-{hash}'"),
            "{path}"
        );
    }
}
