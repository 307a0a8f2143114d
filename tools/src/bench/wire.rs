//! `rostrum bench --wire`: the bytes each audience receives per command kind. One session, three
//! listening sockets (a chair's, a joined participant's and a viewer's) and two that act (a
//! participant and the chair) run a fixed script; for each command the `update` bytes each
//! listener received are summed. The figures are deterministic for a given server version (up to
//! the digits of times and ids), so a test can assert them.

use std::time::Duration;

use anyhow::Context as _;
use futures_util::{SinkExt, StreamExt};
use secrecy::ExposeSecret;
use serde::Serialize;
use serde_json::{Value, json};
use tokio_tungstenite::tungstenite::Message;

use super::client::{Ws, open};
use super::{BenchArgs, Target};

/// How long a listener is given, once a moderator (who gets every update) has the command's
/// frame, for frames of its own: frames of one change leave the server together.
const SETTLE: Duration = Duration::from_millis(150);

/// Bytes of `update` frames one command sent to each audience (0: no frame).
#[derive(Debug, Clone, Serialize)]
pub struct WireRow {
    /// The command, by its wire type (`raise` is `raise_hand`, and so on).
    pub command: String,
    /// Bytes to a moderator (the chair's console).
    pub moderator: usize,
    /// Bytes to a participant not involved in the command.
    pub participant: usize,
    /// Bytes to a viewer (the public view).
    pub viewer: usize,
}

/// The script's rows, in order.
#[derive(Debug, Clone, Serialize)]
pub struct WireReport {
    /// One row per command.
    pub rows: Vec<WireRow>,
}

impl std::fmt::Display for WireReport {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(
            f,
            "| command | moderator (bytes) | participant (bytes) | viewer (bytes) |"
        )?;
        writeln!(f, "|---|---:|---:|---:|")?;
        for r in &self.rows {
            writeln!(
                f,
                "| {} | {} | {} | {} |",
                r.command, r.moderator, r.participant, r.viewer
            )?;
        }
        Ok(())
    }
}

/// A socket and what it knows of the session.
struct Sock {
    name: &'static str,
    ws: Ws,
    req: u64,
    /// The seq of the last update received.
    seq: u64,
}

impl Sock {
    async fn open(
        target: &Target,
        i: usize,
        (session, token): (&str, Option<&str>),
        v: u32,
    ) -> anyhow::Result<Self> {
        let ws = open(target, i, false).await?;
        let mut sock = Sock {
            name: "",
            ws,
            req: 0,
            seq: 0,
        };
        let hello = json!({"type": "hello", "v": v, "session": session, "token": token});
        sock.ws.send(Message::text(hello.to_string())).await?;
        let (welcome, _) = sock
            .next(Duration::from_secs(10))
            .await?
            .context("no welcome")?;
        anyhow::ensure!(
            welcome["type"] == "welcome",
            "expected welcome, got {welcome}"
        );
        Ok(sock)
    }

    /// The next text frame within `wait`, as JSON and its length.
    async fn next(&mut self, wait: Duration) -> anyhow::Result<Option<(Value, usize)>> {
        loop {
            let Ok(msg) = tokio::time::timeout(wait, self.ws.next()).await else {
                return Ok(None);
            };
            match msg.context("the connection ended")?? {
                Message::Text(t) => {
                    if std::env::var_os("WIRE_DEBUG").is_some() {
                        eprintln!("{} {t}", self.name);
                    }
                    let v: Value = serde_json::from_str(&t)?;
                    if v["type"] == "update" || v["type"] == "snapshot" {
                        self.seq = v["seq"].as_u64().unwrap_or(self.seq);
                    }
                    return Ok(Some((v, t.len())));
                }
                Message::Close(c) => anyhow::bail!("closed: {c:?}"),
                _ => {}
            }
        }
    }

    /// Send a command and read until its ack; returns the ack.
    async fn command(&mut self, mut cmd: Value) -> anyhow::Result<Value> {
        self.req += 1;
        cmd["req"] = json!(self.req);
        self.ws.send(Message::text(cmd.to_string())).await?;
        loop {
            let (v, _) = self
                .next(Duration::from_secs(10))
                .await?
                .context("no answer")?;
            if v["req"] == json!(self.req) && (v["type"] == "ack" || v["type"] == "error") {
                anyhow::ensure!(v["type"] == "ack", "{cmd} refused: {v}");
                return Ok(v);
            }
        }
    }

    /// The bytes of `update` frames received until `SETTLE` passes with nothing.
    async fn drain(&mut self) -> anyhow::Result<usize> {
        let mut bytes = 0;
        while let Some((v, n)) = self.next(SETTLE).await? {
            if v["type"] == "update" {
                bytes += n;
            }
        }
        Ok(bytes)
    }
}

/// Run the script against a hub and report the bytes per audience per command.
pub async fn run(args: &BenchArgs) -> anyhow::Result<WireReport> {
    anyhow::ensure!(
        !args.floor,
        "--wire needs the hub: the floor has no audiences"
    );
    let target = Target::of(&args.url, 1).await?;
    let token = args
        .admin_token
        .as_ref()
        .map(ExposeSecret::expose_secret)
        .context("--admin-token (or ROSTRUM_ADMIN_TOKEN) is needed to create the session")?;
    let body = json!({
        "title": "bench wire",
        "policy": {"order": "fifo", "starvation_ms": 900_000},
        "limits": {"default_ms": 180_000, "per_kind": {}, "warning_ms": 30_000},
        "agenda": [],
    });
    let resp = reqwest::Client::new()
        .post(format!("{}/api/sessions", target.base))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await?;
    let status = resp.status();
    let created: Value = resp.json().await?;
    anyhow::ensure!(
        status.is_success(),
        "creating the session: {status}: {created}"
    );
    let id = created["id"].as_str().context("a session id")?.to_owned();
    let link = |role: &str| {
        created["links"][role]
            .as_str()
            .and_then(|l| l.split_once("#t="))
            .map(|(_, t)| t.split('&').next().unwrap_or(t).to_owned())
    };
    let (chair_token, join_token) = (
        link("chair").context("a chair link")?,
        link("participant").context("a participant link")?,
    );

    let v = args.protocol;
    let mut chair = Sock::open(&target, 0, (&id, Some(&chair_token)), v).await?;
    let mut moderator = Sock::open(&target, 1, (&id, Some(&chair_token)), v).await?;
    let mut viewer = Sock::open(&target, 2, (&id, None), v).await?;
    viewer.name = "viewer";
    moderator.name = "moderator";
    let mut participant = Sock::open(&target, 3, (&id, Some(&join_token)), v).await?;
    let profile =
        json!({"name": "Listening Participant", "affiliation": "Vanuatu", "modality": "online"});
    participant
        .command(json!({"type": "join", "profile": profile}))
        .await?;
    let mut actor = Sock::open(&target, 4, (&id, Some(&join_token)), v).await?;
    // Everyone settles (snapshots, the listener's join) before the script starts.
    for s in [&mut chair, &mut moderator, &mut viewer, &mut participant] {
        s.drain().await?;
    }

    let profile = json!({"name": "Amina Haroun", "affiliation": "Chad", "modality": "online"});
    let mut rows = Vec::new();
    let mut request = 0;
    // (command, sent by the chair, measured); the listener's raise puts someone ahead for
    // the move.
    let script: [(&str, bool, bool); 11] = [
        ("join", false, true),
        ("raise_hand", false, true),
        ("change_request", false, true),
        ("mark_ready", true, true),
        ("grant", true, true),
        ("extend", true, true),
        ("end_turn", true, true),
        ("listener_raises", false, false),
        ("raise_hand", false, true),
        ("move", true, true),
        ("lower_hand", false, true),
    ];
    let mut turn = Value::Null;
    for (kind, by_chair, measured) in script {
        let cmd = match kind {
            "join" => json!({"type": "join", "profile": profile}),
            "raise_hand" | "listener_raises" => {
                json!({"type": "raise_hand", "kind": "intervention"})
            }
            "change_request" => {
                json!({"type": "change_request", "request": request, "kind": "question"})
            }
            "mark_ready" => json!({"type": "mark_ready", "request": request, "ready": true}),
            "grant" => json!({"type": "grant", "seen": turn}),
            "extend" => json!({"type": "extend", "seen": turn, "by_ms": 30_000}),
            "end_turn" => json!({"type": "end_turn", "seen": turn}),
            "move" => json!({"type": "move", "request": request, "position": 1}),
            _ => json!({"type": "lower_hand", "request": request}),
        };
        let sender = match (by_chair, kind) {
            (true, _) => &mut chair,
            (false, "listener_raises") => &mut participant,
            (false, _) => &mut actor,
        };
        let ack = sender.command(cmd).await?;
        let seq = ack["seq"].as_u64().context("an ack's seq")?;
        // The moderator's frames tell the script the request and turn ids.
        let mut m_bytes = 0;
        while moderator.seq < seq {
            let (v, n) = moderator
                .next(Duration::from_secs(10))
                .await?
                .context("no update")?;
            if v["type"] == "update" {
                m_bytes += n;
                for e in v["events"].as_array().into_iter().flatten() {
                    if e["type"] == "hand_raised" && kind != "listener_raises" {
                        request = e["request"].as_u64().unwrap_or(request);
                    }
                    if e["type"] == "floor_granted" {
                        turn = e["turn"].clone();
                    }
                }
            }
        }
        m_bytes += moderator.drain().await?;
        let row = WireRow {
            command: kind.to_owned(),
            moderator: m_bytes,
            participant: participant.drain().await?,
            viewer: viewer.drain().await?,
        };
        chair.drain().await?;
        actor.drain().await?;
        if measured {
            rows.push(row);
        }
    }
    Ok(WireReport { rows })
}
