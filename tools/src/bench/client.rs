//! The bench's clients: sockets from spread source addresses, viewers that time every update,
//! and commanders that send on the schedule.

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
use tokio::task::JoinSet;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_util::sync::CancellationToken;

use super::{BenchArgs, Run, SETUP_REQ, Session, SessionLoad, Target};

type Ws = WebSocketStream<TcpStream>;

/// Open a WebSocket to the target from source address number `i`. A stalled client gets a
/// small receive buffer, as a phone on a bad link has, so that it blocks the server soon.
async fn open(target: &Target, i: usize, small_buffer: bool) -> anyhow::Result<Ws> {
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

/// The `req` of an update frame.
fn update_req(text: &str) -> Option<u64> {
    let head: Head = serde_json::from_str(text).ok()?;
    (head.kind == "update").then_some(head.req).flatten()
}

/// Say hello and wait for `welcome`; returns the client secret it issued (the bare floor issues
/// none). A client names no id of its own: the server's secret is what a reconnect would present
/// so that resends are answered from the record. (The bench never reconnects, so never resends.)
async fn hello(ws: &mut Ws, session: &str, token: Option<&str>) -> anyhow::Result<Option<String>> {
    let hello = serde_json::json!({"type": "hello", "v": 1, "session": session, "token": token});
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
                    for e in v["events"].as_array().into_iter().flatten() {
                        if e["type"] == "hand_raised" && e["participant"].as_u64() == participant {
                            request = e["request"].as_u64();
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

/// How a viewer ended.
pub(super) enum ViewerEnd {
    /// Read to the end of the run.
    Reading,
    /// Stopped reading; whether the server had closed it by the end.
    Stalled { disconnected: bool },
}

/// The connected viewers.
pub(super) struct Connect {
    pub secs: f64,
    pub ok: usize,
    pub failed: usize,
    /// Reading (not stalled) viewers connected, per session.
    reading: Vec<usize>,
    tasks: JoinSet<ViewerEnd>,
}

/// Stalled clients at the end: how many, and how many the server had disconnected.
#[derive(Debug, Default, Clone, Copy, serde::Serialize)]
pub struct Stalled {
    /// Viewers that stopped reading.
    pub stalled: usize,
    /// Of those, closed by the server by the end of the run.
    pub disconnected: usize,
}

impl Connect {
    /// The fewest reading viewers in any session: what "every viewer" means for a command.
    pub(super) fn viewers_per_session(&self) -> u32 {
        self.reading
            .iter()
            .min()
            .map_or(0, |&n| u32::try_from(n).unwrap_or(u32::MAX))
    }

    /// Wait for every viewer to end (the run's stop was cancelled).
    pub(super) async fn finish(mut self) -> Stalled {
        let mut out = Stalled::default();
        while let Some(end) = self.tasks.join_next().await {
            if let Ok(ViewerEnd::Stalled { disconnected }) = end {
                out.stalled += 1;
                out.disconnected += usize::from(disconnected);
            }
        }
        out
    }
}

/// Whether viewer `i` of `n` is one of the `stall` fraction that stop reading (evenly spread).
fn stalls(i: usize, stall: f64) -> bool {
    (i as f64 * stall).floor() != ((i + 1) as f64 * stall).floor()
}

/// Open every session's viewers at the connect rate; each says hello, then reads (or stalls)
/// until `stop`.
pub(super) async fn connect_viewers(
    args: &BenchArgs,
    target: &Target,
    sessions: &[Session],
    loads: &[Arc<SessionLoad>],
    run: &Arc<Run>,
    stop: &CancellationToken,
) -> Connect {
    let total = sessions.len() * args.viewers;
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<(usize, bool, bool)>();
    let mut tasks = JoinSet::new();
    let started = Instant::now();
    // Handshakes in flight at once: enough to keep the rate, few enough not to time out.
    let inflight = Arc::new(Semaphore::new(1024));
    for i in 0..total {
        if args.connect_rate > 0.0 {
            let at = started + Duration::from_secs_f64(i as f64 / args.connect_rate);
            tokio::time::sleep_until(at.into()).await;
        }
        let s = i % sessions.len();
        let stalled = stalls(i, args.stall);
        let (target, id, load, run, stop, ready, inflight) = (
            target.clone(),
            sessions[s].id.clone(),
            loads[s].clone(),
            run.clone(),
            stop.clone(),
            ready_tx.clone(),
            inflight.clone(),
        );
        let Ok(permit) = inflight.acquire_owned().await else {
            break;
        };
        tasks.spawn(async move {
            let opened = async {
                let mut ws = open(&target, i, stalled).await?;
                hello(&mut ws, &id, None).await?;
                anyhow::Ok(ws)
            }
            .await;
            drop(permit);
            let _ = ready.send((s, opened.is_ok(), stalled));
            match opened {
                Ok(ws) if stalled => stall(ws, &stop).await,
                Ok(ws) => read(ws, &load, &run, i, &stop).await,
                Err(e) => {
                    tracing::debug!(error = %e, "viewer failed to connect");
                    ViewerEnd::Reading
                }
            }
        });
    }
    drop(ready_tx);
    let (mut ok, mut failed) = (0, 0);
    let mut reading = vec![0; sessions.len()];
    while let Some((s, opened, stalled)) = ready_rx.recv().await {
        if opened {
            ok += 1;
            reading[s] += usize::from(!stalled);
        } else {
            failed += 1;
        }
        if ok + failed == total {
            break;
        }
    }
    Connect {
        secs: started.elapsed().as_secs_f64(),
        ok,
        failed,
        reading,
        tasks,
    }
}

async fn read(
    mut ws: Ws,
    load: &SessionLoad,
    run: &Run,
    i: usize,
    stop: &CancellationToken,
) -> ViewerEnd {
    loop {
        let msg = tokio::select! {
            () = stop.cancelled() => return ViewerEnd::Reading,
            msg = ws.next() => msg,
        };
        match msg {
            Some(Ok(Message::Text(t))) => {
                if let Some(req) = update_req(&t) {
                    load.delivered(run, i, req, run.nanos(), t.len());
                }
            }
            Some(Ok(_)) => {}
            None | Some(Err(_)) => {
                run.dropped.fetch_add(1, Ordering::Relaxed);
                return ViewerEnd::Reading;
            }
        }
    }
}

/// Read nothing until the run stops; then see whether the server closed the connection: read
/// what is queued until the close, or until the server has sent nothing for half a second.
async fn stall(mut ws: Ws, stop: &CancellationToken) -> ViewerEnd {
    stop.cancelled().await;
    let deadline = Instant::now() + Duration::from_secs(3);
    while Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_millis(500), ws.next()).await {
            Err(_) => {
                return ViewerEnd::Stalled {
                    disconnected: false,
                };
            }
            Ok(None | Some(Err(_) | Ok(Message::Close(_)))) => {
                return ViewerEnd::Stalled { disconnected: true };
            }
            Ok(Some(Ok(_))) => {}
        }
    }
    ViewerEnd::Stalled {
        disconnected: false,
    }
}
