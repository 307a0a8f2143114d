//! The operations CLI through the real binary: `rostrum session list|show|end` against a
//! running server's admin API over real sockets, and `rostrum check` on a sound data directory,
//! one a service is using, and one with a damaged record.

use std::path::Path;

use serde_json::{Value, json};

use crate::support::{ADMIN, App, Server, fragment, spawn_app, spawn_app_in};

/// What one run of the binary did.
struct Run {
    ok: bool,
    stdout: String,
    stderr: String,
}

/// Run `rostrum ARGS` without blocking the runtime the server under test runs on.
async fn rostrum(args: &[&str], envs: &[(&str, &str)]) -> Run {
    let out = tokio::process::Command::new(env!("CARGO_BIN_EXE_rostrum"))
        .args(args)
        .env_remove("ROSTRUM_ADMIN_TOKEN")
        .env_remove("ROSTRUM_URL")
        .env_remove("ROSTRUM_DATA_DIR")
        .envs(envs.iter().copied())
        .output()
        .await
        .unwrap();
    Run {
        ok: out.status.success(),
        stdout: String::from_utf8(out.stdout).unwrap(),
        stderr: String::from_utf8(out.stderr).unwrap(),
    }
}

/// `rostrum session ARGS` against `app`, with the admin token in the environment.
async fn session(app: &App, args: &[&str]) -> Run {
    let mut all = vec!["session"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--url", &app.url]);
    rostrum(&all, &[("ROSTRUM_ADMIN_TOKEN", ADMIN)]).await
}

async fn check(dir: &Path) -> Run {
    rostrum(&["check", "--data-dir", dir.to_str().unwrap()], &[]).await
}

async fn api(app: &App, method: reqwest::Method, path: &str, token: &str) -> (u16, Value) {
    let resp = reqwest::Client::new()
        .request(method, format!("{}{path}", app.url))
        .bearer_auth(token)
        .send()
        .await
        .unwrap();
    (resp.status().as_u16(), resp.json().await.unwrap())
}

#[tokio::test]
async fn the_organizer_lists_shows_and_ends_sessions_from_the_command_line() {
    let app = spawn_app().await;
    let busy = app
        .create_session(json!({"title": "Plenary: the future of the IGF"}))
        .await;
    let quiet = app.create_session(json!({"title": "Day 0 workshop"})).await;
    let mut chair = app.connect(&busy.id, Some(&busy.chair)).await;
    chair
        .add_walk_ins(&["Ana Lima", "Bo Kim", "Chen Wei"])
        .await;
    chair.ok(json!({"type": "grant", "seen": null})).await;
    let _viewer = app.connect(&busy.id, None).await;

    let list = session(&app, &["list"]).await;
    assert!(list.ok, "{}", list.stderr);
    let lines: Vec<&str> = list.stdout.lines().collect();
    assert_eq!(
        lines.len(),
        3,
        "a header and a line per session:\n{}",
        list.stdout
    );
    assert!(lines[0].starts_with("ID") && lines[0].ends_with("TITLE"));
    let busy_line = lines.iter().find(|l| l.starts_with(&busy.id)).unwrap();
    for cell in [
        "live",
        " 2 ",
        " 3 ",
        " 2 ",
        "Plenary: the future of the IGF",
    ] {
        assert!(busy_line.contains(cell), "{cell:?} in {busy_line}");
    }
    let quiet_line = lines.iter().find(|l| l.starts_with(&quiet.id)).unwrap();
    assert!(
        quiet_line.contains("idle"),
        "no actor was started: {quiet_line}"
    );

    let list = session(&app, &["list", "--json"]).await;
    let json: Value = serde_json::from_str(&list.stdout).unwrap();
    let busy_json = &json["sessions"][0];
    assert_eq!(busy_json["id"], busy.id.as_str(), "oldest first");
    assert_eq!(
        (
            &busy_json["state"],
            &busy_json["connections"],
            &busy_json["participants"],
            &busy_json["queued"],
            &busy_json["ended"],
        ),
        (
            &json!("live"),
            &json!(2),
            &json!(3),
            &json!(2),
            &json!(false)
        )
    );
    assert_eq!(busy_json["floor"]["name"], "Ana Lima");
    assert_eq!(json["sessions"][1]["state"], "idle");
    assert_eq!(json["sessions"][1]["title"], "Day 0 workshop");

    // `show` gives the figures and the links as they work now.
    let show = session(&app, &["show", &busy.id]).await;
    assert!(show.ok, "{}", show.stderr);
    assert!(
        show.stdout
            .contains("title: Plenary: the future of the IGF")
    );
    assert!(
        show.stdout.contains("floor: Ana Lima (onsite), since "),
        "{}",
        show.stdout
    );
    let chair_line = show
        .stdout
        .lines()
        .find(|l| l.trim_start().starts_with("chair:"))
        .unwrap();
    assert!(
        chair_line.ends_with(&format!("/s/{}/chair#t={}", busy.id, busy.chair)),
        "{chair_line}"
    );
    // The poster's short address to type, beside the links.
    assert!(
        show.stdout
            .lines()
            .any(|l| l.trim_start().starts_with("short address: ")
                && l.contains(&format!("{}/j/", app.url))),
        "{}",
        show.stdout
    );
    let (status, rotated) = api(
        &app,
        reqwest::Method::POST,
        &format!("/api/sessions/{}/rotate", busy.id),
        ADMIN,
    )
    .await;
    assert_eq!(status, 200);
    let show = session(&app, &["show", &busy.id, "--json"]).await;
    let shown: Value = serde_json::from_str(&show.stdout).unwrap();
    assert_eq!(
        shown["links"], rotated["links"],
        "after a rotation, the new links"
    );
    assert_ne!(fragment(&shown["links"]["chair"]), busy.chair);
    assert!(shown["short_url"].as_str().unwrap().contains("/j/"));

    // `end`: every console sees the end; the list says so; a second end is refused.
    let mut chair = app
        .connect(&busy.id, Some(&fragment(&rotated["links"]["chair"])))
        .await;
    let end = session(&app, &["end", &busy.id]).await;
    assert!(end.ok, "{}", end.stderr);
    assert!(
        end.stdout
            .contains(&format!("session {} ended at seq", busy.id)),
        "{}",
        end.stdout
    );
    while !chair.view.as_ref().unwrap().session.controls.ended {
        chair.recv().await;
    }
    assert!(
        chair.view.as_ref().unwrap().floor.is_none(),
        "the turn ended first"
    );
    let list = session(&app, &["list"]).await;
    assert!(
        list.stdout
            .lines()
            .any(|l| l.starts_with(&busy.id) && l.contains("live, ended")),
        "{}",
        list.stdout
    );
    let again = session(&app, &["end", &busy.id]).await;
    assert!(!again.ok);
    assert!(
        again.stderr.contains("409 Conflict") && again.stderr.contains("(session_ended)"),
        "{}",
        again.stderr
    );

    // Wrong input says what is wrong.
    let bad = rostrum(
        &[
            "session",
            "list",
            "--url",
            &app.url,
            "--admin-token",
            "nope",
        ],
        &[],
    )
    .await;
    assert!(
        !bad.ok && bad.stderr.contains("(unauthorized)"),
        "{}",
        bad.stderr
    );
    let unknown = session(&app, &["show", "6c1f0c2a9d3b4e7f8a1b2c3d4e5f6a7b"]).await;
    assert!(
        !unknown.ok
            && unknown
                .stderr
                .contains("no session 6c1f0c2a9d3b4e7f8a1b2c3d4e5f6a7b on this server"),
        "{}",
        unknown.stderr
    );
    let malformed = session(&app, &["end", "room-12"]).await;
    assert!(
        !malformed.ok && malformed.stderr.contains("\"room-12\" is not a session id"),
        "{}",
        malformed.stderr
    );
    let missing = rostrum(&["session", "list", "--url", &app.url], &[]).await;
    assert!(
        !missing.ok && missing.stderr.contains("--admin-token"),
        "{}",
        missing.stderr
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn the_admin_api_takes_the_admin_token_and_hands_the_chair_its_links() {
    let app = spawn_app().await;
    let s = app.create_session(json!({"title": "Links"})).await;
    for token in ["", "wrong", &s.chair] {
        let (status, body) = api(&app, reqwest::Method::GET, "/api/sessions", token).await;
        assert_eq!((status, body["code"].as_str()), (401, Some("unauthorized")));
        let end = format!("/api/sessions/{}/end", s.id);
        let (status, _) = api(&app, reqwest::Method::POST, &end, token).await;
        assert_eq!(status, 401, "only the organizer ends a session here");
    }
    let links = format!("/api/sessions/{}/links", s.id);
    for token in [&s.moderator, &s.participant, &s.display] {
        let (status, body) = api(&app, reqwest::Method::GET, &links, token).await;
        assert_eq!((status, body["code"].as_str()), (403, Some("forbidden")));
    }
    for token in [ADMIN, s.chair.as_str()] {
        let (status, body) = api(&app, reqwest::Method::GET, &links, token).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["title"], "Links");
        assert_eq!(fragment(&body["links"]["participant"]), s.participant);
        assert!(
            body["participant_qr_svg"]
                .as_str()
                .unwrap()
                .contains("<svg")
        );
    }
    let unknown = "/api/sessions/6c1f0c2a9d3b4e7f8a1b2c3d4e5f6a7b/links";
    let (status, body) = api(&app, reqwest::Method::GET, unknown, ADMIN).await;
    assert_eq!(
        (status, body["code"].as_str()),
        (404, Some("unknown_session"))
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn check_passes_a_sound_data_directory_and_names_a_damaged_record() {
    let app = spawn_app().await;
    let damaged = app.create_session(json!({"title": "Damaged"})).await;
    let sound = app.create_session(json!({"title": "Sound"})).await;
    let mut chair = app.connect(&damaged.id, Some(&damaged.chair)).await;
    chair.add_walk_ins(&["A", "B", "C"]).await;

    // While the service runs: it reads a snapshot beside the writer.
    let live = check(app.dir.path()).await;
    assert!(live.ok, "{}{}", live.stdout, live.stderr);
    assert!(live.stdout.contains("integrity ok"), "{}", live.stdout);
    assert!(
        live.stdout
            .contains(&format!("{}: ok, 7 events", damaged.id)),
        "{}",
        live.stdout
    );
    assert!(
        live.stdout.contains(&format!("{}: ok, 1 events", sound.id)),
        "{}",
        live.stdout
    );
    assert!(live.stdout.ends_with("2 sessions, all ok\n"));

    let (r, dir) = app.stop_keeping_data().await;
    r.unwrap();
    let db_path = dir.path().join("rostrum.db");
    let before = std::fs::read(&db_path).unwrap();
    assert!(check(dir.path()).await.ok);
    assert_eq!(
        std::fs::read(&db_path).unwrap(),
        before,
        "checking writes nothing"
    );

    // A byte changed inside B's join (seq 4), as a bad disk would.
    let db = rusqlite::Connection::open(&db_path).unwrap();
    let changed = db
        .execute(
            "UPDATE events SET body = replace(body, '\"B\"', '\"X\"') WHERE session = ?1 AND seq = 4",
            [&damaged.id],
        )
        .unwrap();
    assert_eq!(changed, 1);
    drop(db);
    let found = check(dir.path()).await;
    assert!(!found.ok, "damage exits non-zero");
    assert!(
        found.stdout.contains(&format!(
            "{}: damaged at seq 4 (checksum mismatch); after checking it and taking a backup, stop the service and run `rostrum repair {}` to keep events 1..=3",
            damaged.id, damaged.id
        )),
        "{}",
        found.stdout
    );
    assert!(
        found
            .stdout
            .contains(&format!("{}: ok, 1 events", sound.id))
    );
    assert!(
        found.stdout.ends_with("2 sessions, 1 damaged\n"),
        "{}",
        found.stdout
    );
    assert!(found.stderr.contains("is damaged"), "{}", found.stderr);

    // The running service lists it as damaged, and `show` says what to do.
    let app = spawn_app_in(dir, |_| {}).await;
    let (status, list) = api(&app, reqwest::Method::GET, "/api/sessions", ADMIN).await;
    assert_eq!(status, 200);
    assert_eq!(list["sessions"][0]["state"], "damaged");
    assert_eq!(
        list["sessions"][0]["damaged"],
        json!({"seq": 4, "reason": "checksum mismatch"})
    );
    assert_eq!(list["sessions"][1]["state"], "idle");
    let show = session(&app, &["show", &damaged.id]).await;
    assert!(show.ok, "{}", show.stderr);
    assert!(
        show.stdout.contains("damaged at seq 4 (checksum mismatch)"),
        "{}",
        show.stdout
    );
    let (_, dir) = app.stop_keeping_data().await;

    // After the repair, the directory checks out again.
    let repaired = rostrum(
        &[
            "repair",
            &damaged.id,
            "--data-dir",
            dir.path().to_str().unwrap(),
        ],
        &[],
    )
    .await;
    assert!(repaired.ok, "{}", repaired.stderr);
    let again = check(dir.path()).await;
    assert!(again.ok, "{}", again.stdout);
    assert!(
        again
            .stdout
            .contains(&format!("{}: ok, 3 events", damaged.id))
    );

    let empty = tempfile::tempdir().unwrap();
    let nothing = check(empty.path()).await;
    assert!(
        !nothing.ok && nothing.stderr.contains("no database at"),
        "{}",
        nothing.stderr
    );
}

#[tokio::test]
async fn repair_and_a_second_service_refuse_a_directory_a_service_holds() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let (id, _, _) = server.create_session("Held").await;
    let repair = || {
        std::process::Command::new(env!("CARGO_BIN_EXE_rostrum"))
            .args(["repair", &id, "--data-dir"])
            .arg(dir.path())
            .output()
            .unwrap()
    };
    let out = repair();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("in use by another rostrum"), "{err}");
    let second = std::process::Command::new(env!("CARGO_BIN_EXE_rostrum"))
        .args([
            "serve",
            "--bind",
            "127.0.0.1:0",
            "--admin-token",
            ADMIN,
            "--data-dir",
        ])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(!second.status.success());
    assert!(
        String::from_utf8_lossy(&second.stderr).contains("in use by another rostrum"),
        "{}",
        String::from_utf8_lossy(&second.stderr)
    );
    // `check` reads beside a running service, as before.
    let check = std::process::Command::new(env!("CARGO_BIN_EXE_rostrum"))
        .args(["check", "--data-dir"])
        .arg(dir.path())
        .output()
        .unwrap();
    assert!(
        check.status.success(),
        "{}",
        String::from_utf8_lossy(&check.stdout)
    );
    assert!(server.terminate().await.success());
    let out = repair();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("kept events"));
}
