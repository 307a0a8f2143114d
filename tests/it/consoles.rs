//! The server side of the consoles: pages and assets with their security headers, and the room's
//! rotating code that lets people in the room join as onsite.

use serde_json::json;

use crate::support::{Client, spawn_app};

#[tokio::test]
async fn pages_and_assets_are_served_with_a_strict_policy() {
    let app = spawn_app().await;
    let s = app.create_session(json!({"title": "Pages"})).await;
    for (path, kind) in [
        (format!("/s/{}", s.id), "text/html"),
        (format!("/s/{}/chair", s.id), "text/html"),
        (format!("/s/{}/moderator", s.id), "text/html"),
        (format!("/s/{}/join", s.id), "text/html"),
        (format!("/s/{}/display", s.id), "text/html"),
        (format!("/s/{}/poster", s.id), "text/html"),
        ("/organize".to_owned(), "text/html"),
        ("/".to_owned(), "text/html"),
        ("/assets/app/common.js".to_owned(), "javascript"),
        ("/assets/css/rostrum.css".to_owned(), "text/css"),
        ("/assets/i18n/ar.json".to_owned(), "json"),
    ] {
        let r = reqwest::get(format!("{}{path}", app.url)).await.unwrap();
        assert_eq!(r.status(), 200, "{path}");
        let h = r.headers();
        assert!(
            h["content-type"].to_str().unwrap().contains(kind),
            "{path}: {:?}",
            h["content-type"]
        );
        let csp = h["content-security-policy"].to_str().unwrap();
        assert!(
            csp.contains("script-src 'self'") && !csp.contains("unsafe-inline"),
            "{csp}"
        );
        assert!(csp.contains("frame-ancestors 'none'"));
        assert_eq!(h["x-content-type-options"], "nosniff");
        assert_eq!(h["referrer-policy"], "no-referrer");
    }
    let api = reqwest::get(format!("{}/healthz", app.url)).await.unwrap();
    assert!(
        api.headers().contains_key("content-security-policy"),
        "every response"
    );
    for path in [
        "/assets/../Cargo.toml",
        "/assets/pages/chair.html",
        "/assets/pages/parts/head.html",
        "/assets/nope.js",
        "/s/x/admin",
        "/assets/.hidden",
    ] {
        let r = reqwest::get(format!("{}{path}", app.url)).await.unwrap();
        assert_eq!(r.status(), 404, "{path}");
    }
    for path in [
        format!("/s/{}/chair", s.id),
        format!("/s/{}/poster", s.id),
        "/organize".to_owned(),
    ] {
        let page = reqwest::get(format!("{}{path}", app.url))
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        // The one inline script is the early socket, allowed by its hash (`assets.rs`).
        let inline = page.split("<script>").skip(1);
        assert!(
            inline.clone().all(|s| s.contains("window.rostrumEarly")),
            "{path}: no inline script but the early socket"
        );
        assert_eq!(
            inline.count(),
            usize::from(path.ends_with("/chair")),
            "{path}"
        );
        assert!(!page.contains("style="), "{path}: no inline style");
    }
}

#[tokio::test]
async fn the_display_shows_a_room_code_that_lets_people_join_as_onsite() {
    let app = spawn_app().await;
    let s = app.create_session(json!({"title": "Room"})).await;
    let http = reqwest::Client::new();
    let url = format!("{}/api/sessions/{}/room", app.url, s.id);
    let room: serde_json::Value = http
        .get(&url)
        .bearer_auth(&s.display)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let code = room["code"].as_str().unwrap().to_owned();
    assert_eq!(code.len(), 6);
    assert!(
        room["qr_svg"].as_str().unwrap().starts_with("<?xml")
            || room["qr_svg"].as_str().unwrap().contains("<svg")
    );
    let join_url = room["join_url"].as_str().unwrap();
    assert!(
        join_url.contains(&format!("/s/{}/join#t=", s.id))
            && join_url.ends_with(&format!("&room={code}"))
    );
    for token in [Some(s.participant.as_str()), None] {
        let mut r = http.get(&url);
        if let Some(t) = token {
            r = r.bearer_auth(t);
        }
        assert_eq!(
            r.send().await.unwrap().status(),
            403,
            "only the display and moderators see the code"
        );
    }
    let mut p = app.connect(&s.id, Some(&s.participant)).await;
    let onsite = |room: &str| json!({"type": "join", "room": room, "profile": {"name": "In the room", "modality": "onsite"}});
    let wrong = if code == "000000" { "111111" } else { "000000" };
    p.refused(onsite(wrong), "wrong_room_code").await;
    let ack = p.ok(onsite(&code)).await;
    let me = ack["participant"].as_u64().unwrap();
    p.ok(json!({"type": "raise_hand"})).await;
    let r = p.my_request(me).unwrap();
    assert_eq!(
        p.view.as_ref().unwrap().requests[&(r as u32)].who.modality,
        rostrum::queue::Modality::Onsite
    );
}

/// `GET /api/sessions/{id}/links` as the organizer.
async fn handout(app: &crate::support::App, id: &str) -> serde_json::Value {
    let r = reqwest::Client::new()
        .get(format!("{}/api/sessions/{id}/links", app.url))
        .bearer_auth(crate::support::ADMIN)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    r.json().await.unwrap()
}

/// `GET path` without following redirects: status, `Location`, body.
async fn get_raw(app: &crate::support::App, path: &str) -> (u16, Option<String>, String) {
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let r = http.get(format!("{}{path}", app.url)).send().await.unwrap();
    let location = r
        .headers()
        .get("location")
        .map(|v| v.to_str().unwrap().to_owned());
    (r.status().as_u16(), location, r.text().await.unwrap())
}

#[tokio::test]
async fn the_posters_short_address_leads_to_the_join_link_across_restarts_and_rotations() {
    use crate::support::{ADMIN, fragment, spawn_app_in};
    let app = spawn_app().await;
    let s = app.create_session(json!({"title": "Short"})).await;
    let other = app.create_session(json!({"title": "Another"})).await;
    let h = handout(&app, &s.id).await;
    let short = h["short_url"].as_str().unwrap().to_owned();
    let code = short
        .strip_prefix(&format!("{}/j/", app.url))
        .unwrap()
        .to_owned();
    assert_eq!(code.len(), 11, "five, a hyphen, five: {code}");
    assert_ne!(handout(&app, &other.id).await["short_url"], short.as_str());

    // Typed as printed, in capitals, or without the hyphen: a 303 to the join link as it works now.
    for typed in [code.clone(), code.to_uppercase(), code.replace('-', "")] {
        let (status, location, _) = get_raw(&app, &format!("/j/{typed}")).await;
        assert_eq!(status, 303, "/j/{typed}");
        assert_eq!(location.as_deref(), h["links"]["participant"].as_str());
    }
    // The link it leads to works: a newcomer joins with it.
    let mut ana = app.connect(&s.id, Some(&s.participant)).await;
    ana.join("Ana Lima", "online").await;

    // A wrong code (another real code's neighbour, a malformed one) is the normal 404.
    let mut wrong = code.replace('-', "").into_bytes();
    wrong[0] = if wrong[0] == b'z' { b'y' } else { b'z' };
    let wrong = String::from_utf8(wrong).unwrap();
    for bad in [wrong.as_str(), "abc", "uuuuu-uuuuu", "0000000000"] {
        let (status, location, body) = get_raw(&app, &format!("/j/{bad}")).await;
        assert_eq!((status, location), (404, None), "/j/{bad}");
        let body: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(body["code"], "unknown_session");
    }

    // After a rotation the same code leads to the new join link; the old link is refused.
    let rotated: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/api/sessions/{}/rotate", app.url, s.id))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let new_link = rotated["links"]["participant"].as_str().unwrap().to_owned();
    assert_ne!(fragment(&json!(new_link)), s.participant);
    let (status, location, _) = get_raw(&app, &format!("/j/{code}")).await;
    assert_eq!(
        (status, location.as_deref()),
        (303, Some(new_link.as_str()))
    );
    assert_eq!(handout(&app, &s.id).await["short_url"], short.as_str());
    let mut old = Client::open(&app.ws_url).await;
    old.send_json(&json!({"type": "hello", "v": 2, "session": s.id, "token": s.participant}))
        .await;
    assert_eq!(old.until_closed().await.1.as_deref(), Some("revoked"));

    // After a restart on the same data (and secret): the same code, the current link.
    let (stopped, dir) = app.stop_keeping_data().await;
    stopped.unwrap();
    let app = spawn_app_in(dir, |_| {}).await;
    // (The port is new, so the addresses differ before their path.)
    let (status, location, _) = get_raw(&app, &format!("/j/{code}")).await;
    let path = |link: &str| link.split_once("/s/").unwrap().1.to_owned();
    assert_eq!(
        (status, location.as_deref().map(path)),
        (303, Some(path(&new_link)))
    );
    let mut bea = app.connect(&s.id, Some(&fragment(&json!(new_link)))).await;
    bea.join("Bea Souza", "online").await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn guessing_short_addresses_meets_the_api_rate_limit() {
    let app = crate::support::spawn_app_with(|s| {
        s.http.api_per_sec = 1;
        s.http.api_burst = 5;
    })
    .await;
    let mut statuses = Vec::new();
    for i in 0..8 {
        statuses.push(get_raw(&app, &format!("/j/{i:0>10}")).await.0);
    }
    assert_eq!(&statuses[..5], [404; 5]);
    assert!(statuses[5..].iter().all(|&s| s == 429), "{statuses:?}");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_moderators_tallies_count_who_is_present() {
    use rostrum::queue::Modality::{Hub, Online, Onsite};
    let app = spawn_app().await;
    let s = app.create_session(json!({"title": "Counted"})).await;
    let mut chair = app.connect(&s.id, Some(&s.chair)).await;
    chair.add_walk_ins(&["Walk-in"]).await;
    let mut ana = app.connect(&s.id, Some(&s.participant)).await;
    ana.join("Ana Lima", "online").await;
    let mut hub = app.connect(&s.id, Some(&s.participant)).await;
    let hub_id = hub.join("Nairobi hub", "hub").await;
    // The public is sent nothing for a join: the session's seq comes from the API.
    let seq = app.info(&s.id).await["seq"].as_u64().unwrap();
    chair.sync_to(seq).await;
    let present = |c: &Client| {
        let f = c.view.as_ref().unwrap().fairness.clone().unwrap();
        [Onsite, Online, Hub].map(|m| f[&m].participants)
    };
    assert_eq!(present(&chair), [1, 1, 1]);
    // Participants do not see the tallies.
    assert!(ana.view.as_ref().unwrap().fairness.is_none());
    // A removed participant no longer counts (the session cap counts the same).
    let ack = chair
        .ok(json!({"type": "remove_participant", "participant": hub_id, "reason": "test"}))
        .await;
    chair.sync_to(ack["seq"].as_u64().unwrap()).await;
    assert_eq!(present(&chair), [1, 1, 0]);
    app.stop().await.unwrap();
}

/// What resolving a short address costs as the store grows: it scans every session. Sized by
/// `ROSTRUM_SHORT_SESSIONS` (20 by default, for CI); the figure in docs/security.md is from 2,000.
#[tokio::test]
async fn resolving_a_short_address_scans_the_store_quickly() {
    let n: usize = std::env::var("ROSTRUM_SHORT_SESSIONS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(20);
    let app = crate::support::spawn_app_with(|s| {
        s.http.api_per_sec = 100_000;
        s.http.api_burst = 100_000;
    })
    .await;
    let mut last = None;
    for i in 0..n {
        last = Some(app.create_session(json!({"title": format!("S{i}")})).await);
    }
    let last = last.unwrap();
    let short = handout(&app, &last.id).await["short_url"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = short.strip_prefix(&app.url).unwrap().to_owned();
    let mut times = Vec::new();
    for _ in 0..20 {
        let t = std::time::Instant::now();
        assert_eq!(get_raw(&app, &path).await.0, 303);
        times.push(t.elapsed());
    }
    times.sort();
    let miss = std::time::Instant::now();
    assert_eq!(get_raw(&app, "/j/zzzzz-zzzzz").await.0, 404);
    println!(
        "short address over {n} sessions: median {:?}, max {:?}; a miss {:?}",
        times[times.len() / 2],
        times[times.len() - 1],
        miss.elapsed()
    );
    app.stop().await.unwrap();
}

/// The four headers of `docs/security.md` § Headers, on `resp`.
fn assert_secure(what: &str, resp: &reqwest::Response) {
    let h = resp.headers();
    let csp = h
        .get("content-security-policy")
        .unwrap_or_else(|| panic!("{what}: no CSP"))
        .to_str()
        .unwrap();
    assert!(
        csp.starts_with("default-src 'none'") && csp.ends_with("frame-ancestors 'none'"),
        "{what}: {csp}"
    );
    assert_eq!(h["x-frame-options"], "DENY", "{what}");
    assert_eq!(h["x-content-type-options"], "nosniff", "{what}");
    assert_eq!(h["referrer-policy"], "no-referrer", "{what}");
}

#[tokio::test]
async fn every_kind_of_answer_carries_the_security_headers() {
    let app = spawn_app().await;
    let s = app.create_session(json!({"title": "Headers"})).await;
    // No decompression in this client: what it reads is what the server sent.
    let http = reqwest::Client::new();
    let mut many = reqwest::header::HeaderMap::new();
    for i in 0..70 {
        many.insert(
            reqwest::header::HeaderName::from_bytes(format!("x-h{i}").as_bytes()).unwrap(),
            reqwest::header::HeaderValue::from_static("1"),
        );
    }
    let cases = [
        (
            "page",
            http.get(format!("{}/s/{}/join", app.url, s.id)),
            200,
        ),
        (
            "asset",
            http.get(format!("{}/assets/app/join.js", app.url)),
            200,
        ),
        (
            "API JSON",
            http.get(format!("{}/api/sessions/{}", app.url, s.id)),
            200,
        ),
        (
            "API error",
            http.get(format!("{}/api/sessions", app.url)),
            401,
        ),
        (
            "no such asset",
            http.get(format!("{}/assets/nope.js", app.url)),
            404,
        ),
        (
            "no such route",
            http.get(format!("{}/nowhere", app.url)),
            404,
        ),
        (
            "too many headers",
            http.get(format!("{}/", app.url)).headers(many),
            431,
        ),
        ("health", http.get(format!("{}/healthz", app.url)), 200),
    ];
    for (what, req, status) in cases {
        let resp = req.send().await.unwrap();
        assert_eq!(resp.status(), status, "{what}");
        assert_secure(what, &resp);
    }
    app.stop().await.unwrap();
}

#[tokio::test]
async fn pages_assets_and_api_answers_come_compressed_when_asked() {
    use std::io::Read;
    let app = spawn_app().await;
    let s = app.create_session(json!({"title": "Compressed"})).await;
    let http = reqwest::Client::new();
    for path in [
        format!("/s/{}/chair", s.id),
        "/".to_owned(),
        "/assets/app/console.js".to_owned(),
        "/assets/css/rostrum.css".to_owned(),
        "/assets/i18n/fr.json".to_owned(),
        "/api/openapi.json".to_owned(),
    ] {
        let url = format!("{}{path}", app.url);
        let plain = http.get(&url).send().await.unwrap();
        assert!(plain.headers().get("content-encoding").is_none(), "{path}");
        let plain = plain.bytes().await.unwrap();
        for coding in ["br", "gzip"] {
            let resp = http
                .get(&url)
                .header("accept-encoding", format!("{coding};q=1, identity;q=0.5"))
                .send()
                .await
                .unwrap();
            assert_eq!(resp.status(), 200, "{path}");
            assert_eq!(resp.headers()["content-encoding"], coding, "{path}");
            assert!(
                resp.headers()["vary"]
                    .to_str()
                    .unwrap()
                    .contains("accept-encoding"),
                "{path}: caches must key on the encoding"
            );
            assert_secure(&path, &resp);
            let sent = resp.bytes().await.unwrap();
            let mut decoded = Vec::new();
            match coding {
                "br" => brotli::Decompressor::new(&sent[..], 4096)
                    .read_to_end(&mut decoded)
                    .unwrap(),
                _ => flate2::read::GzDecoder::new(&sent[..])
                    .read_to_end(&mut decoded)
                    .unwrap(),
            };
            assert_eq!(
                decoded, plain,
                "{path} over {coding} decodes to the same bytes"
            );
            assert!(
                sent.len() < plain.len(),
                "{path}: {coding} sent {} of {} bytes",
                sent.len(),
                plain.len()
            );
        }
    }
    // A browser asks for compression on the WebSocket's upgrade too: still switched, with
    // nothing compressed, and with the headers.
    let mut tcp = tokio::net::TcpStream::connect(app.url.trim_start_matches("http://"))
        .await
        .unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    tcp.write_all(
        b"GET /ws HTTP/1.1\r\nhost: x\r\nupgrade: websocket\r\nconnection: upgrade\r\n\
          sec-websocket-version: 13\r\nsec-websocket-key: dGhlIHNhbXBsZSBub25jZQ==\r\n\
          accept-encoding: gzip, deflate, br\r\n\r\n",
    )
    .await
    .unwrap();
    let mut head = vec![0; 1024];
    let n = tokio::time::timeout(std::time::Duration::from_secs(5), tcp.read(&mut head))
        .await
        .unwrap()
        .unwrap();
    let head = String::from_utf8_lossy(&head[..n]).to_lowercase();
    assert!(head.starts_with("http/1.1 101"), "{head}");
    assert!(!head.contains("content-encoding"), "{head}");
    assert!(head.contains("content-security-policy"), "{head}");
    app.stop().await.unwrap();
}
