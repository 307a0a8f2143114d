//! The bench's viewers: read-only sockets that time every update by the command that caused
//! it, some of them stalling (they stop reading) as a phone on a bad link does.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use futures_util::{SinkExt, StreamExt};
use tokio::sync::{Semaphore, mpsc};
use tokio::task::JoinSet;
use tokio_tungstenite::tungstenite::Message;
use tokio_util::sync::CancellationToken;

use super::client::{Ws, frame_type, hello, open, update_req};
use super::{BenchArgs, Run, SETUP_REQ, Session, SessionLoad, Target};

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
    /// The tasks of further batches, absorbed.
    batches: Vec<JoinSet<ViewerEnd>>,
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
    pub(super) async fn finish(self) -> Stalled {
        let mut out = Stalled::default();
        for mut tasks in std::iter::once(self.tasks).chain(self.batches) {
            while let Some(end) = tasks.join_next().await {
                if let Ok(ViewerEnd::Stalled { disconnected }) = end {
                    out.stalled += 1;
                    out.disconnected += usize::from(disconnected);
                }
            }
        }
        out
    }
}

/// Whether viewer `i` of `n` is one of the `stall` fraction that stop reading (evenly spread).
fn stalls(i: usize, stall: f64) -> bool {
    (i as f64 * stall).floor() != ((i + 1) as f64 * stall).floor()
}

/// Where the viewers go and what they share.
pub(super) struct Crowd<'a> {
    pub target: &'a Target,
    pub sessions: &'a [Session],
    pub loads: &'a [Arc<SessionLoad>],
    pub run: &'a Arc<Run>,
    pub stop: &'a CancellationToken,
}

impl Connect {
    /// Count a further batch's viewers as this run's too.
    pub(super) fn absorb(&mut self, more: Connect) {
        self.ok += more.ok;
        self.failed += more.failed;
        for (a, b) in self.reading.iter_mut().zip(more.reading) {
            *a += b;
        }
        // The batch's viewers keep reading until the run stops: their tasks are kept too.
        self.batches.push(more.tasks);
        self.batches.extend(more.batches);
    }
}

/// Open viewers number `range` of every session at the connect rate; each says hello (on a
/// participant link, then joins, with `--join`), then reads (or stalls) until `stop`. A viewer
/// counts as connected once it has its `welcome` and (from the hub) its `snapshot`, and with
/// `--join`, its join's `ack`.
pub(super) async fn connect_viewers(
    args: &BenchArgs,
    crowd: &Crowd<'_>,
    range: std::ops::Range<usize>,
) -> Connect {
    let sessions = crowd.sessions;
    let first = range.start * sessions.len();
    let total = sessions.len() * range.len();
    let (ready_tx, mut ready_rx) = mpsc::unbounded_channel::<(usize, bool, bool)>();
    let mut tasks = JoinSet::new();
    let started = Instant::now();
    // Handshakes in flight at once: enough to keep the rate, few enough not to time out.
    let inflight = Arc::new(Semaphore::new(1024));
    for n in 0..total {
        let i = first + n;
        if args.connect_rate > 0.0 {
            let at = started + Duration::from_secs_f64(n as f64 / args.connect_rate);
            tokio::time::sleep_until(at.into()).await;
        }
        let s = i % sessions.len();
        let stalled = stalls(i, args.stall);
        let (target, id, token, load, run, stop, ready, inflight) = (
            crowd.target.clone(),
            sessions[s].id.clone(),
            sessions[s].join_token.clone().filter(|_| args.join),
            crowd.loads[s].clone(),
            crowd.run.clone(),
            crowd.stop.clone(),
            ready_tx.clone(),
            inflight.clone(),
        );
        let floor = args.floor;
        let Ok(permit) = inflight.acquire_owned().await else {
            break;
        };
        tasks.spawn(async move {
            let opened = async {
                let mut ws = open(&target, i, stalled).await?;
                hello(&mut ws, &id, token.as_deref()).await?;
                if !floor {
                    until(&mut ws, |kind| kind == "snapshot").await?;
                }
                if token.is_some() {
                    join(&mut ws, i).await?;
                }
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
        batches: Vec::new(),
    }
}

/// Read frames until one whose type `want` accepts; an `error` or a close fails.
async fn until(ws: &mut Ws, want: impl Fn(&str) -> bool) -> anyhow::Result<String> {
    loop {
        match ws.next().await.context("closed")?? {
            Message::Text(t) => {
                let kind = frame_type(&t).unwrap_or_default();
                if want(&kind) {
                    return Ok(t.as_str().to_owned());
                }
                anyhow::ensure!(kind != "error", "refused: {t}");
            }
            Message::Close(c) => anyhow::bail!("closed: {c:?}"),
            _ => {}
        }
    }
}

/// Join as viewer `i` (a name of its own) and wait for the join's `ack`.
async fn join(ws: &mut Ws, i: usize) -> anyhow::Result<()> {
    let join = serde_json::json!({"type": "join", "req": SETUP_REQ,
        "profile": {"name": format!("Viewer {i}"), "affiliation": "rostrum bench", "modality": "online"}});
    ws.send(Message::text(join.to_string())).await?;
    loop {
        let t = until(ws, |kind| kind == "ack").await?;
        let v: serde_json::Value = serde_json::from_str(&t)?;
        if v["req"].as_u64() == Some(SETUP_REQ) {
            return Ok(());
        }
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
