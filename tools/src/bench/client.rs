//! The bench's clients: sockets from spread source addresses, and the commanders that send
//! on the schedule (the viewers are `viewers.rs`).

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::net::{TcpSocket, TcpStream};
use tokio::sync::{Semaphore, mpsc};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

use super::{Run, SETUP_REQ, Session, SessionLoad, Target};

pub(super) type Ws = WebSocketStream<TcpStream>;

/// Open a WebSocket to the target from source address number `i`. A stalled client gets a
/// small receive buffer, as a phone on a bad link has, so that it blocks the server soon.
pub(super) async fn open(target: &Target, i: usize, small_buffer: bool) -> anyhow::Result<Ws> {
    let socket = match target.addr {
        SocketAddr::V4(_) => TcpSocket::new_v4()?,
        SocketAddr::V6(_) => TcpSocket::new_v6()?,
    };
    if let Some(ip) = target.source(i) {
        socket.bind(SocketAddr::new(ip, 0))?;
    }
    if small_buffer {
        socket.set_recv_buffer_size(4096)?;
    }
    let stream = socket.connect(target.addr).await?;
    stream.set_nodelay(true)?;
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(0);
    let (ws, _) =
        tokio_tungstenite::client_async_with_config(target.ws_url.as_str(), stream, Some(config))
            .await?;
    Ok(ws)
}

/// The first fields of a server frame.
#[derive(Deserialize)]
struct Head<'a> {
    #[serde(rename = "type", borrow)]
    kind: &'a str,
    req: Option<u64>,
    code: Option<&'a str>,
}

/// A server frame's `type`.
pub(super) fn frame_type(text: &str) -> Option<String> {
    let head: Head = serde_json::from_str(text).ok()?;
    Some(head.kind.to_owned())
}

/// The `req` of an update frame.
pub(super) fn update_req(text: &str) -> Option<u64> {
    let head: Head = serde_json::from_str(text).ok()?;
    (head.kind == "update").then_some(head.req).flatten()
}

/// Say hello and wait for `welcome`; returns the client secret it issued (the bare floor issues
/// none). A client names no id of its own: the server's secret is what a reconnect would present
/// so that resends are answered from the record. (The bench never reconnects, so never resends.)
pub(super) async fn hello(
    ws: &mut Ws,
    session: &str,
    token: Option<&str>,
) -> anyhow::Result<Option<String>> {
    let hello = serde_json::json!({"type": "hello", "v": 2, "session": session, "token": token});
    ws.send(Message::text(hello.to_string())).await?;
    loop {
        match ws.next().await.context("closed before welcome")?? {
            Message::Text(t) => {
                let head: Head = serde_json::from_str(&t)?;
                anyhow::ensure!(head.kind == "welcome", "expected welcome, got {t}");
                let welcome: serde_json::Value = serde_json::from_str(&t)?;
                return Ok(welcome["client"].as_str().map(str::to_owned));
            }
            Message::Close(c) => anyhow::bail!("closed before welcome: {c:?}"),
            _ => {}
        }
    }
}

/// The measured phase, as every commander follows it.
#[derive(Clone)]
pub(super) struct Plan {
    /// When the first command is planned, in the run's nanoseconds.
    pub start: u64,
    /// When sending stops.
    pub end: u64,
    /// Commands per second per session (0: saturate).
    pub rate: f64,
    pub commanders: usize,
    /// The slots per session.
    pub commands: usize,
}

/// What one commander sent and was answered.
#[derive(Debug, Default)]
pub(super) struct Sent {
    pub sent: u64,
    pub acked: u64,
    pub errors: BTreeMap<String, u64>,
    /// How late sends left against their planned time, in microseconds (the generator's lag).
    pub late_us: Vec<u64>,
}

/// A participant that sends the commands.
pub(super) struct Commander {
    sink: futures_util::stream::SplitSink<Ws, Message>,
    request: u64,
    /// Room for commands in flight (saturation only).
    window: Option<Arc<Semaphore>>,
    /// Tells the answer reader how many commands were sent, once sending ends.
    sent_tx: mpsc::UnboundedSender<u64>,
    /// The answer reader: acks and errors counted.
    answers: tokio::task::JoinHandle<(u64, BTreeMap<String, u64>)>,
}

impl Commander {
    /// Connect, join and raise a hand (the hub), or just say hello (the floor).
    /// `window`: commands in flight at most, when saturating.
    pub(super) async fn connect(
        target: &Target,
        i: usize,
        session: &Session,
        floor: bool,
        window: Option<usize>,
    ) -> anyhow::Result<Self> {
        let mut ws = open(target, i, false).await?;
        hello(&mut ws, &session.id, session.join_token.as_deref()).await?;
        if floor {
            return Ok(Self::reading(ws, 0, window));
        }
        let join = serde_json::json!({"type": "join", "req": SETUP_REQ,
            "profile": {"name": format!("Bench {i}"), "affiliation": "rostrum bench", "modality": "online"}});
        ws.send(Message::text(join.to_string())).await?;
        let mut participant = None;
        let mut request = None;
        let mut raised = false;
        while request.is_none() || !raised {
            let Message::Text(t) = ws.next().await.context("closed during setup")?? else {
                continue;
            };
            let v: serde_json::Value = serde_json::from_str(&t)?;
            match (v["type"].as_str(), v["req"].as_u64()) {
                (Some("error"), _) => anyhow::bail!("setup refused: {t}"),
                (Some("ack"), Some(SETUP_REQ)) => {
                    participant = v["participant"].as_u64();
                    let raise = serde_json::json!({"type": "raise_hand", "req": SETUP_REQ + 1, "kind": "question"});
                    ws.send(Message::text(raise.to_string())).await?;
                }
                (Some("ack"), _) => raised = true,
                (Some("update"), _) => {
                    // A participant gets no events: its new request is in the patch, whole.
                    for r in v["patch"]["requests"].as_array().into_iter().flatten() {
                        if r["participant"].as_u64().is_some()
                            && r["participant"].as_u64() == participant
                        {
                            request = r["id"].as_u64();
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(Self::reading(ws, request.unwrap_or_default(), window))
    }

    /// Start reading the answers now: from here on the socket is always read, so the server's
    /// pings are answered even while the run holds its connections idle.
    fn reading(ws: Ws, request: u64, window: Option<usize>) -> Self {
        let (sink, mut stream) = ws.split();
        let window = window.map(|n| Arc::new(Semaphore::new(n)));
        let (sent_tx, mut sent_rx) = mpsc::unbounded_channel::<u64>();
        let room = window.clone();
        let answers = tokio::spawn(async move {
            let (mut acked, mut errors) = (0u64, BTreeMap::<String, u64>::new());
            let mut expected = None;
            loop {
                if expected.is_some_and(|n| acked + errors.values().sum::<u64>() >= n) {
                    break;
                }
                let msg = tokio::select! {
                    msg = stream.next() => msg,
                    n = sent_rx.recv(), if expected.is_none() => {
                        expected = Some(n.unwrap_or(0));
                        continue;
                    }
                };
                let t = match msg {
                    Some(Ok(Message::Text(t))) => t,
                    Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                    Some(Ok(_)) => continue, // pings are answered by the stream itself
                };
                let Ok(head) = serde_json::from_str::<Head>(&t) else {
                    continue;
                };
                match head.kind {
                    "ack" => acked += 1,
                    "error" => {
                        *errors
                            .entry(head.code.unwrap_or("?").to_owned())
                            .or_default() += 1;
                    }
                    _ => continue,
                }
                if let Some(room) = &room {
                    room.add_permits(1);
                }
            }
            // A writer still waiting for room in the window gives up.
            if let Some(room) = &room {
                room.close();
            }
            (acked, errors)
        });
        Self {
            sink,
            request,
            window,
            sent_tx,
            answers,
        }
    }

    /// Send commander `c`'s share of the plan: commands `c`, `c + M`, `c + 2M`... of the
    /// session, each changing the request's kind back and forth.
    pub(super) async fn drive(
        self,
        c: usize,
        plan: &Plan,
        load: &SessionLoad,
        run: &Run,
    ) -> anyhow::Result<Sent> {
        let Self {
            mut sink,
            request,
            window,
            sent_tx,
            answers,
        } = self;
        let mut sent = Sent::default();
        let mut k = c;
        while k < plan.commands {
            let slot = &load.slots[k];
            if plan.rate > 0.0 {
                let planned = slot.planned.load(Ordering::Acquire);
                if planned >= plan.end {
                    break;
                }
                // The timer ticks in milliseconds: sleep to within one, then yield to the
                // viewers' tasks until the planned nanosecond.
                let at = run.origin + Duration::from_nanos(planned);
                tokio::time::sleep_until((at - Duration::from_millis(1)).into()).await;
                while Instant::now() < at {
                    tokio::task::yield_now().await;
                }
                sent.late_us
                    .push(run.nanos().saturating_sub(planned) / 1000);
            } else {
                if let Some(window) = &window {
                    window.acquire().await?.forget();
                }
                let now = run.nanos().max(plan.start);
                if now >= plan.end {
                    break;
                }
                if now == plan.start {
                    tokio::time::sleep_until((run.origin + Duration::from_nanos(now)).into()).await;
                }
                slot.planned.store(now, Ordering::Release);
            }
            let kind = if sent.sent % 2 == 0 {
                "intervention"
            } else {
                "question"
            };
            let frame = format!(
                r#"{{"type":"change_request","req":{},"request":{},"kind":"{kind}"}}"#,
                k + 1,
                request
            );
            sink.send(Message::text(frame)).await?;
            sent.sent += 1;
            k += plan.commanders;
        }
        let _ = sent_tx.send(sent.sent);
        let (acked, errors) = match tokio::time::timeout(Duration::from_secs(5), answers).await {
            Ok(Ok(counts)) => counts,
            _ => (0, BTreeMap::new()),
        };
        (sent.acked, sent.errors) = (acked, errors);
        let _ = sink.close().await;
        Ok(sent)
    }
}
