//! `examples/client.py`, the minimal client of docs/protocol.md's "Write a client", run against
//! the real binary: it joins, raises a hand, gets the floor from a chair it drives, survives a
//! SIGKILL and restart of the server, and ends with the same view as a fresh snapshot.

use std::process::Stdio;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, BufReader};

use crate::support::{ADMIN, Server};

#[tokio::test]
async fn the_python_client_survives_a_restart_and_ends_on_a_fresh_snapshot() {
    let has_websockets = std::process::Command::new("python3")
        .args(["-c", "import websockets"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        has_websockets,
        "examples/client.py needs Python 3 with `websockets`: pip install websockets (tests/run.sh does)"
    );
    let dir = tempfile::tempdir().unwrap();
    let server = Server::start(dir.path()).await;
    let addr = server.addr.clone();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/client.py");
    let mut child = tokio::process::Command::new("python3")
        .args([script, &server.url, ADMIN, "--wait-for-restart"])
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let mut said = Vec::new();
    let wait = Duration::from_secs(30);
    loop {
        let line = tokio::time::timeout(wait, lines.next_line())
            .await
            .expect("the client reaches the floor")
            .unwrap()
            .unwrap_or_else(|| panic!("the client stopped early: {said:?}"));
        said.push(line.clone());
        if line.starts_with("restart the server") {
            break;
        }
    }
    assert!(
        said.iter().any(|l| l.starts_with("floor: turn")),
        "{said:?}"
    );

    server.kill9().await;
    let server = Server::start_at(dir.path(), &addr).await;
    while let Some(line) = tokio::time::timeout(wait, lines.next_line())
        .await
        .expect("the client finishes")
        .unwrap()
    {
        said.push(line);
    }
    let status = child.wait().await.unwrap();
    assert!(status.success(), "the client failed: {said:?}");
    assert!(
        said.iter().any(|l| l.starts_with("resumed at seq")),
        "{said:?}"
    );
    assert!(
        said.last()
            .is_some_and(|l| l.starts_with("same view as a fresh snapshot")),
        "{said:?}"
    );
    drop(server);
}
