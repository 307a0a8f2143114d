//! The floor: the simplest broadcast server that `rostrum bench` can drive, to show what a hub
//! with no logic at all costs on this machine. The hub's figures are read against it.
//!
//! tokio-tungstenite, one broadcast channel per session named in the hello, every command
//! forwarded to everyone in the session as an `update` naming its `req`, and an `ack` to its
//! sender. No queue, no store, no permissions, no resume, no limits.
//!
//! With `--batch`, the batching floor: the same one-flush-per-wake writer as the hub
//! (`src/ws/writer.rs`): a connection that wakes to several updates waiting writes up to 32 into
//! its buffer and flushes once, so the hub's batching is compared with a floor that has it too.
//!
//! ```text
//! cargo run --release --example floor -- 127.0.0.1:8090
//! cargo run --release --example floor -- --batch 127.0.0.1:8090
//! rostrum bench --floor --url http://127.0.0.1:8090 --viewers 1000
//! ```

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{SystemTime, UNIX_EPOCH};

use dashmap::DashMap;
use futures_util::{SinkExt, StreamExt};
use serde::Deserialize;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::broadcast;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

/// One session's channel and its running sequence number.
struct Channel {
    tx: broadcast::Sender<Utf8Bytes>,
    seq: AtomicU64,
}

type Channels = Arc<DashMap<String, Arc<Channel>>>;

#[derive(Deserialize)]
struct Frame<'a> {
    #[serde(rename = "type", borrow)]
    kind: &'a str,
    session: Option<String>,
    req: Option<u64>,
}

#[tokio::main]
async fn main() -> std::io::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let batch = args.iter().any(|a| a == "--batch");
    let addr = args
        .into_iter()
        .find(|a| !a.starts_with("--"))
        .unwrap_or_else(|| "127.0.0.1:8090".into());
    let listener = TcpListener::bind(&addr).await?;
    let kind = if batch { "batching floor" } else { "floor" };
    eprintln!("{kind} listening on {}", listener.local_addr()?);
    let channels: Channels = Arc::default();
    loop {
        let (stream, _) = listener.accept().await?;
        tokio::spawn(serve(stream, channels.clone(), batch));
    }
}

/// Updates written together, at most, with one flush (as the hub's `BATCH`).
const BATCH: usize = 32;

async fn serve(stream: TcpStream, channels: Channels, batch: bool) {
    let _ = stream.set_nodelay(true);
    // The batching floor buffers writes as the hub does (16 KiB before a write), so that
    // frames fed together leave in one write; the plain floor writes each frame at once.
    let config = WebSocketConfig::default()
        .read_buffer_size(4096)
        .write_buffer_size(if batch { 16 * 1024 } else { 0 });
    let Ok(mut ws) = tokio_tungstenite::accept_async_with_config(stream, Some(config)).await else {
        return;
    };
    // The hello names the session.
    let channel = loop {
        let Some(Ok(msg)) = ws.next().await else {
            return;
        };
        if let Message::Text(t) = msg
            && let Ok(Frame {
                kind: "hello",
                session: Some(session),
                ..
            }) = serde_json::from_str(&t)
        {
            break channels
                .entry(session)
                .or_insert_with(|| {
                    Arc::new(Channel {
                        tx: broadcast::channel(256).0,
                        seq: AtomicU64::new(0),
                    })
                })
                .clone();
        }
    };
    let mut updates = channel.tx.subscribe();
    let welcome = r#"{"type":"welcome","v":1,"role":"viewer","participant":null,"epoch":1,"seq":0,"recovered":false}"#;
    if ws.send(Message::text(welcome)).await.is_err() {
        return;
    }
    loop {
        tokio::select! {
            msg = ws.next() => match msg {
                Some(Ok(Message::Text(t))) => {
                    let Ok(Frame { req: Some(req), .. }) = serde_json::from_str(&t) else { continue };
                    let seq = channel.seq.fetch_add(1, Ordering::Relaxed) + 1;
                    let now = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default().as_millis();
                    let update = format!(
                        r#"{{"type":"update","req":{req},"from":{seq},"seq":{seq},"server_time":{now},"events":[{t}]}}"#
                    );
                    let _ = channel.tx.send(Utf8Bytes::from(update));
                    let ack = format!(r#"{{"type":"ack","req":{req},"seq":{seq}}}"#);
                    if ws.send(Message::text(ack)).await.is_err() {
                        return;
                    }
                }
                Some(Ok(Message::Close(_)) | Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
            update = updates.recv() => match update {
                Ok(bytes) if batch => {
                    // The frames already waiting go into the buffer; one flush for all.
                    let mut msg = Message::Text(bytes);
                    for _ in 0..BATCH - 1 {
                        let Ok(next) = updates.try_recv() else { break };
                        if ws.feed(msg).await.is_err() {
                            return;
                        }
                        msg = Message::Text(next);
                    }
                    if ws.send(msg).await.is_err() {
                        return;
                    }
                }
                Ok(bytes) => {
                    if ws.send(Message::Text(bytes)).await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            },
        }
    }
}
