//! Wiring: builds the store, hub and router, serves until the shutdown signal, then cancels
//! every connection and session and waits (bounded) for them to finish.

use std::future::Future;
use std::sync::Arc;

use axum::serve::ListenerExt;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{Settings, StoreChoice};
use crate::hub::Hub;
use crate::programme::{ProgrammeStore, Registry};
use crate::service::Service;
use crate::session::Runtime;
use crate::store::{EventLog, MemoryLog, NatsLog, SqliteLog};

/// Each socket's kernel send buffer, as asked (Linux doubles it).
const SEND_BUFFER: usize = 24 * 1024;

/// Serve on `listener` until `shutdown` completes. Tests bind port 0 and pick the signal.
pub async fn run(
    listener: TcpListener,
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let store: Arc<dyn EventLog> = match &settings.store {
        StoreChoice::Memory => Arc::new(MemoryLog::new()),
        StoreChoice::Sqlite { dir, options } => Arc::new(SqliteLog::open(dir, *options)?),
        StoreChoice::Nats(options) => Arc::new(NatsLog::connect(options).await?),
    };
    let programme = Arc::new(Registry::open(match &settings.store {
        StoreChoice::Memory => ProgrammeStore::Memory,
        StoreChoice::Sqlite { dir, .. } => ProgrammeStore::sqlite(dir)?,
        StoreChoice::Nats(_) => ProgrammeStore::Unsupported,
    })?);
    crate::metrics::install();
    let cancel = CancellationToken::new();
    let sessions = TaskTracker::new();
    let rt = Runtime {
        store,
        config: settings.session.clone(),
        cancel: cancel.clone(),
        tracker: sessions.clone(),
    };
    let grace = settings.shutdown_grace;
    let api_limiter = crate::http::guard::api_limiter(&settings.http);
    let svc = Arc::new(Service {
        hub: Hub::new(rt),
        settings,
        cancel: cancel.clone(),
        connections: TaskTracker::new(),
        per_ip: Arc::default(),
        api_limiter,
        programme,
    });
    let router = crate::http::router(svc.clone());
    // Forget addresses whose API bucket is full again, so the limiter does not grow forever.
    tokio::spawn({
        let (svc, cancel) = (svc.clone(), cancel.clone());
        async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                tokio::select! {
                    () = cancel.cancelled() => break,
                    _ = tick.tick() => svc.api_limiter.retain_recent(),
                }
            }
        }
    });
    tracing::info!(addr = %listener.local_addr()?, url = %svc.settings.public_url, "rostrum serving");
    let stop = cancel.clone();
    // Updates are small and latency matters more than packing: no Nagle delay. The send buffer
    // is fixed (Linux doubles the value: 48 KiB), so that a client that stops reading blocks our
    // writes soon and is dropped after the write timeout, instead of the kernel growing its
    // buffer to megabytes; 48 KiB is still dozens of updates, and seconds of them.
    let listener = listener.tap_io(|tcp| {
        if let Err(e) = tcp.set_nodelay(true) {
            tracing::debug!(error = %e, "could not set TCP_NODELAY");
        }
        if let Err(e) = socket2::SockRef::from(&*tcp).set_send_buffer_size(SEND_BUFFER) {
            tracing::debug!(error = %e, "could not set SO_SNDBUF");
        }
    });
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown.await;
        tracing::info!("shutting down");
        stop.cancel();
    })
    .await?;
    // axum's graceful shutdown does not wait for upgraded WebSockets: they and the session
    // actors listen to `cancel` and are waited for here.
    cancel.cancel();
    svc.connections.close();
    sessions.close();
    let drained = tokio::time::timeout(grace, async {
        svc.connections.wait().await;
        sessions.wait().await;
    })
    .await;
    if drained.is_err() {
        tracing::warn!("shutdown grace period over; exiting with work still running");
    }
    Ok(())
}
