//! `/metrics` and the JSON logs, through the real binary (its own process, so the figures are
//! this test's alone).

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::{ADMIN, Server, sample};

/// Scrape until `name` reads `want` (gauges follow sockets closing a moment later).
async fn until(server: &Server, name: &str, want: f64) -> String {
    for _ in 0..100 {
        let (_, text) = server.scrape(ADMIN).await;
        if sample(&text, name) == Some(want) {
            return text;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let (_, text) = server.scrape(ADMIN).await;
    panic!("{name} never read {want}:\n{text}");
}

#[tokio::test]
async fn metrics_count_what_happened_and_logs_carry_spans() {
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start_logging(dir.path(), "127.0.0.1:0", "info,rostrum=debug").await;
    let (session, chair_token, join_token) = server.create_session("Observed").await;
    let mut chair = server.connect(&session, Some(&chair_token)).await;
    let viewers = [
        server.connect(&session, None).await,
        server.connect(&session, None).await,
    ];
    let mut person = server.connect(&session, Some(&join_token)).await;
    person.join("Ana Lima", "online").await;
    person.ok(json!({"type": "raise_hand"})).await;
    person
        .refused(
            json!({"type": "lower_hand", "request": 999}),
            "unknown_request",
        )
        .await;
    chair
        .ok(json!({"type": "grant", "force": true, "seen": null}))
        .await;

    // Only with a token: the metrics token, or else the admin token.
    assert_eq!(server.scrape("nope").await.0, 401);
    let text = until(&server, "rostrum_connections{role=\"viewer\"}", 2.0).await;
    assert_eq!(
        sample(&text, "rostrum_connections{role=\"chair\"}"),
        Some(1.0)
    );
    assert_eq!(
        sample(&text, "rostrum_connections{role=\"participant\"}"),
        Some(1.0)
    );
    assert_eq!(sample(&text, "rostrum_sessions_live"), Some(1.0));
    assert_eq!(
        sample(&text, "rostrum_commands_total{outcome=\"ok\"}"),
        Some(3.0)
    );
    assert_eq!(
        sample(&text, "rostrum_commands_total{outcome=\"error\"}"),
        Some(1.0)
    );
    assert_eq!(
        sample(
            &text,
            "rostrum_command_errors_total{code=\"unknown_request\"}"
        ),
        Some(1.0)
    );
    // Three commands appended (join, raise, grant), each timed into the histograms.
    assert_eq!(sample(&text, "rostrum_append_seconds_count"), Some(3.0));
    assert_eq!(sample(&text, "rostrum_fanout_seconds_count"), Some(3.0));
    assert!(text.contains("rostrum_fanout_seconds_bucket{le=\"0.005\"}"));
    // Four hellos, then join, raise, lower and grant.
    assert_eq!(sample(&text, "rostrum_ws_frames_in_total"), Some(8.0));
    assert!(sample(&text, "rostrum_ws_frames_out_total").unwrap() > 20.0);
    assert!(sample(&text, "process_resident_memory_bytes").unwrap() > 1e6);
    assert!(sample(&text, "process_open_fds").unwrap() >= 5.0);
    assert!(sample(&text, "process_cpu_seconds_total").is_some());
    // No title, name or token reaches the scrape.
    for secret in ["Observed", "Ana Lima", &chair_token, &session] {
        assert!(!text.contains(secret), "{secret} in /metrics");
    }

    // Closing sockets lowers the gauge.
    for v in viewers {
        v.close().await;
    }
    until(&server, "rostrum_connections{role=\"viewer\"}", 0.0).await;

    // The JSON logs: a connection's lines carry its span (id, address, session, role).
    person.close().await;
    tokio::time::sleep(Duration::from_millis(200)).await;
    let lines = server.log.lock().unwrap().clone();
    let closed: Vec<Value> = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["fields"]["message"] == "connection closed")
        .collect();
    assert!(
        !closed.is_empty(),
        "no connection closed line in {lines:#?}"
    );
    let span = &closed[0]["span"];
    assert_eq!(span["name"], "connection", "{span}");
    assert_eq!(span["session"], json!(session), "{span}");
    assert_eq!(span["ip"], "127.0.0.1", "{span}");
    assert!(span["role"].is_string() && span["id"].is_number(), "{span}");
    // Each HTTP request is answered in a span named by its route, never its path.
    let answered: Vec<Value> = lines
        .iter()
        .filter_map(|l| serde_json::from_str::<Value>(l).ok())
        .filter(|v| v["fields"]["message"] == "answered")
        .collect();
    let created = answered
        .iter()
        .find(|v| v["span"]["route"] == "/api/sessions")
        .unwrap_or_else(|| panic!("no answered line for /api/sessions in {lines:#?}"));
    assert_eq!(created["span"]["name"], "request", "{created}");
    assert_eq!(created["span"]["method"], "POST", "{created}");
    assert_eq!(created["fields"]["status"], 201, "{created}");
    for line in &lines {
        assert!(!line.contains(&chair_token), "a token in the log: {line}");
    }
    server.terminate().await;
}
