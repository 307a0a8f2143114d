//! The accept loop: every TCP connection is counted against its address's cap before any byte
//! is read, then served by hyper's HTTP/1.1 with a timer, so a client that does not finish its
//! request headers in time, or holds a keep-alive connection idle past the same time, is closed.
//!
//! `axum::serve` has neither: it takes every connection and sets no timer, so hyper's header
//! timeout never runs (500 idle and 200 slowloris connections were all still open after 35 s,
//! and 1,050 idle ones from one address used up the process's open files).

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::pin::pin;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::extract::ConnectInfo;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use tokio::io::AsyncReadExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;
use tower_service::Service as _;

use crate::config::HttpLimits;
use crate::limits::{ConnectionCounts, ConnectionSlot};

/// Connections refused over the cap that are answered at once; past it they are dropped
/// unanswered, so a flood of refusals costs no more than a few sockets.
const REFUSING_AT_ONCE: usize = 64;

/// How long a refused connection is kept open for its client to read the 429.
const REFUSAL_LINGER: Duration = Duration::from_secs(1);

/// What a connection (and the WebSocket it may become) holds while it lives: its place under
/// its address's cap. The WebSocket upgrade finds it in the request's extensions and keeps it.
#[derive(Clone, Debug)]
pub struct TcpSlot(#[allow(dead_code)] Option<Arc<ConnectionSlot>>);

/// Serve `router` on `listener` until `stop` is cancelled; then stop accepting, ask every
/// connection to finish its request and close, and wait for them up to `grace`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: &HttpLimits,
    stop: CancellationToken,
    grace: Duration,
) {
    warn_if_few_files(limits.max_tcp_per_ip);
    let counts = Arc::new(ConnectionCounts::default());
    let refusing = Arc::new(Semaphore::new(REFUSING_AT_ONCE));
    let tracker = TaskTracker::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout);
    loop {
        let (tcp, peer) = tokio::select! {
            () = stop.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of open files, most likely: wait for some to close rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::select! {
                        () = stop.cancelled() => break,
                        () = tokio::time::sleep(Duration::from_millis(50)) => continue,
                    }
                }
            },
        };
        // Behind a trusted proxy every connection comes from the proxy; the proxy counts
        // clients (and the WebSocket cap counts them by the address it reports).
        let slot = if limits.trust_proxy_headers {
            None
        } else {
            match counts.acquire(peer.ip(), limits.max_tcp_per_ip) {
                Some(slot) => Some(Arc::new(slot)),
                None => {
                    refuse(tcp, peer.ip(), &refusing);
                    continue;
                }
            }
        };
        tune(&tcp);
        let conn = builder
            .serve_connection(
                TokioIo::new(tcp),
                per_connection(router.clone(), peer, slot),
            )
            .with_upgrades();
        let stop = stop.clone();
        tracker.spawn(async move {
            let mut conn = pin!(conn);
            tokio::select! {
                served = conn.as_mut() => {
                    if let Err(e) = served {
                        tracing::debug!(error = %e, "connection ended with an error");
                    }
                    return;
                }
                () = stop.cancelled() => conn.as_mut().graceful_shutdown(),
            }
            if let Err(e) = conn.await {
                tracing::debug!(error = %e, "connection ended with an error");
            }
        });
    }
    tracker.close();
    if tokio::time::timeout(grace, tracker.wait()).await.is_err() {
        tracing::warn!("HTTP connections still open after the grace period");
    }
}

/// The router for one connection: each request carries the peer's address (for
/// `ConnectInfo`) and the connection's slot.
fn per_connection(
    router: Router,
    peer: SocketAddr,
    slot: Option<Arc<ConnectionSlot>>,
) -> impl hyper::service::Service<
    hyper::Request<Incoming>,
    Response = axum::response::Response,
    Error = Infallible,
    Future = impl Send,
> + Clone {
    let slot = TcpSlot(slot);
    hyper::service::service_fn(move |mut req: hyper::Request<Incoming>| {
        req.extensions_mut().insert(ConnectInfo(peer));
        req.extensions_mut().insert(slot.clone());
        router.clone().call(req)
    })
}

/// Updates are small and latency matters more than packing: no Nagle delay. The send buffer is
/// fixed (Linux doubles the value: 48 KiB), so that a client that stops reading blocks our
/// writes soon and is dropped after the write timeout, instead of the kernel growing its buffer
/// to megabytes; 48 KiB is still dozens of updates, and seconds of them.
fn tune(tcp: &TcpStream) {
    const SEND_BUFFER: usize = 24 * 1024;
    if let Err(e) = tcp.set_nodelay(true) {
        tracing::debug!(error = %e, "could not set TCP_NODELAY");
    }
    if let Err(e) = socket2::SockRef::from(tcp).set_send_buffer_size(SEND_BUFFER) {
        tracing::debug!(error = %e, "could not set SO_SNDBUF");
    }
}

/// Warn when the process may open too few files for one address's allowance and everyone else:
/// a soft limit of 1,024 (a common default) lets 1,000 idle connections from one address starve
/// the rest until they time out.
fn warn_if_few_files(per_ip: u32) {
    let Ok(limits) = std::fs::read_to_string("/proc/self/limits") else {
        return;
    };
    let soft = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse::<u64>().ok());
    let wanted = 2 * u64::from(per_ip) + 256;
    if let Some(soft) = soft
        && soft < wanted
    {
        tracing::warn!(
            open_files = soft,
            wanted,
            "the open-files limit is low for --max-tcp-per-ip: one address could use most of it (raise it: LimitNOFILE, ulimit -n)"
        );
    }
}

/// Answer a connection over its address's cap with 429 `too_many_connections` and close it,
/// after reading what it sent (briefly), so the answer is not lost to a reset.
fn refuse(mut tcp: TcpStream, ip: IpAddr, refusing: &Arc<Semaphore>) {
    tracing::info!(%ip, "connection refused: too many from one address");
    let Ok(permit) = refusing.clone().try_acquire_owned() else {
        return;
    };
    tokio::spawn(async move {
        let body =
            r#"{"code":"too_many_connections","message":"too many connections from your address"}"#;
        let answer = format!(
            "HTTP/1.1 429 Too Many Requests\r\ncontent-type: application/json\r\n\
             content-length: {}\r\nconnection: close\r\nretry-after: 10\r\n\r\n{body}",
            body.len()
        );
        let _ = tokio::time::timeout(REFUSAL_LINGER, async {
            use tokio::io::AsyncWriteExt;
            tcp.write_all(answer.as_bytes()).await?;
            tcp.shutdown().await?;
            let mut sink = [0u8; 1024];
            while tcp.read(&mut sink).await? > 0 {}
            Ok::<_, std::io::Error>(())
        })
        .await;
        drop(permit);
    });
}
