//! The server side of the consoles: pages and assets with their security headers, and the room's
//! rotating code that lets people in the room join as onsite.

use serde_json::json;

use crate::support::spawn_app;

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
        assert!(
            !page.contains("<script>") && !page.contains("style="),
            "{path}: no inline script or style"
        );
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
