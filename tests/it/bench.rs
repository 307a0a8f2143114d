//! `rostrum bench` on a small load, against the hub and against the floor (`examples/floor.rs`):
//! the tool works and counts what it should. Its numbers come from `benches/table.py`, not here.

use std::path::PathBuf;
use std::process::Stdio;

use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::Command;

use crate::support::{ADMIN, spawn_app_with};

const VIEWERS: u64 = 20;

async fn bench(url: &str, extra: &[&str]) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_rostrum"))
        .args(["bench", "--url", url, "--json", "--duration", "1s"])
        .args(["--viewers", &VIEWERS.to_string(), "--rate", "8"])
        .args(["--admin-token", ADMIN])
        .args(extra)
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "bench failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Every command was answered and reached every viewer, and the figures add up.
fn check(report: &Value, target: &str) {
    assert_eq!(report["target"], target);
    assert_eq!(report["connect"]["opened"], VIEWERS);
    let sent = report["commands"]["sent"].as_u64().unwrap();
    assert_eq!(sent, 8, "{report}");
    assert_eq!(report["commands"]["acked"], sent, "{report}");
    assert_eq!(report["commands"]["complete"], sent, "{report}");
    assert_eq!(report["deliveries"], sent * VIEWERS, "{report}");
    assert_eq!(report["delivery"]["count"], sent * VIEWERS);
    let (p50, max) = (
        report["delivery"]["p50_ms"].as_f64().unwrap(),
        report["delivery"]["max_ms"].as_f64().unwrap(),
    );
    assert!(0.0 < p50 && p50 <= max, "{report}");
}

#[tokio::test]
async fn bench_drives_the_hub_and_reads_its_process() {
    let app = spawn_app_with(|s| s.ws.max_connections_per_ip = 10_000).await;
    let report = bench(&app.url, &["--pid", &std::process::id().to_string()]).await;
    check(&report, "hub");
    // The hub runs in this test's process, so /proc/self is the server's.
    let server = &report["server"];
    assert!(
        server["rss_connected_kib"].as_u64().unwrap() > 0,
        "{report}"
    );
    assert!(server["cpu_us_per_delivery"].as_f64().unwrap() > 0.0);
    app.stop().await.unwrap();
}

/// The floor (`examples/floor.rs`) on a free port, with `args`; killed when dropped.
async fn floor(args: &[&str]) -> (tokio::process::Child, String) {
    let floor = PathBuf::from(env!("CARGO_BIN_EXE_rostrum"))
        .with_file_name("examples")
        .join("floor");
    assert!(floor.exists(), "build the examples first: {floor:?}");
    let mut child = Command::new(floor)
        .args(args)
        .arg("127.0.0.1:0")
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let line = lines.next_line().await.unwrap().unwrap();
    let addr = line.rsplit(' ').next().unwrap();
    (child, format!("http://{addr}"))
}

#[tokio::test]
async fn bench_drives_the_floor() {
    let (_child, url) = floor(&[]).await;
    let report = bench(&url, &["--floor"]).await;
    check(&report, "floor");
}

#[tokio::test]
async fn bench_drives_the_batching_floor() {
    let (_child, url) = floor(&["--batch"]).await;
    let report = bench(&url, &["--floor"]).await;
    check(&report, "floor");
}

#[tokio::test]
async fn bench_fills_a_session_with_joins_then_measures_a_batch_of_joins_alone() {
    let app = spawn_app_with(|s| {
        s.ws.max_connections_per_ip = 10_000;
        s.ws.joins_per_minute_per_ip = 10_000;
    })
    .await;
    let pid = std::process::id().to_string();
    let report = bench(&app.url, &["--join", "--batch", "6", "--pid", &pid]).await;
    assert_eq!(report["join"], true);
    assert_eq!(report["connect"]["opened"], VIEWERS, "{report}");
    assert_eq!(report["connect"]["failed"], 0);
    let batch = &report["batch"];
    assert_eq!(batch["opened"], 6, "{report}");
    assert_eq!(batch["failed"], 0);
    assert!(batch["cpu_us_per_socket"].as_f64().unwrap() >= 0.0);
    assert!(report["connect"]["cpu_us_per_socket"].as_f64().unwrap() >= 0.0);
    // Every joined socket, the batch's too, is live: each command reached all of them.
    let sent = report["commands"]["sent"].as_u64().unwrap();
    assert_eq!(report["commands"]["complete"], sent, "{report}");
    assert_eq!(report["deliveries"], sent * (VIEWERS + 6), "{report}");
    // They joined for real: the session holds them, and the commander.
    let sessions: Value = reqwest::Client::new()
        .get(format!("{}/api/sessions", app.url))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let text = sessions.to_string();
    assert!(
        text.contains(&format!("\"participants\":{}", VIEWERS + 6 + 1)),
        "{sessions}"
    );
    app.stop().await.unwrap();
}
