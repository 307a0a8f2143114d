//! Wiring: builds the store, hub and router, serves until the shutdown signal, then cancels
//! every connection and session and waits (bounded) for them to finish.

use std::future::Future;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use crate::config::{Settings, StoreChoice};
use crate::hub::Hub;
use crate::programme::{ProgrammeStore, Registry};
use crate::service::Service;
use crate::session::Runtime;
use crate::store::{EventLog, MemoryLog, NatsLog, SqliteLog};

/// Serve on `listener` until `shutdown` completes. Tests bind port 0 and pick the signal.
pub async fn run(
    listener: TcpListener,
    settings: Settings,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let (store, programme_store): (Arc<dyn EventLog>, _) = match &settings.store {
        StoreChoice::Memory => (Arc::new(MemoryLog::new()), ProgrammeStore::Memory),
        StoreChoice::Sqlite { dir, options } => (
            Arc::new(SqliteLog::open(dir, *options)?),
            ProgrammeStore::sqlite(dir)?,
        ),
        StoreChoice::Nats(options) => {
            // One connection for the logs and the programme, on the same stream.
            let log = Arc::new(NatsLog::connect(options).await?);
            (log.clone(), ProgrammeStore::nats(log))
        }
    };
    let programme = Arc::new(Registry::open_latest(programme_store).await?);
    crate::metrics::install();
    let cancel = CancellationToken::new();
    let sessions = TaskTracker::new();
    let rt = Runtime {
        store: store.clone(),
        config: settings.session.clone(),
        cancel: cancel.clone(),
        tracker: sessions.clone(),
    };
    let grace = settings.shutdown_grace;
    let api_limiter = crate::http::guard::api_limiter(&settings.http);
    let join_limiter = crate::ws::join_limiter(&settings.ws);
    let room_attempts = crate::attempts::RoomAttempts::new(
        settings.ws.room_attempts_per_ip,
        settings.ws.room_attempts_per_session,
    );
    let svc = Arc::new(Service {
        hub: Hub::new(rt),
        settings,
        cancel: cancel.clone(),
        connections: TaskTracker::new(),
        per_ip: Arc::default(),
        room_attempts,
        join_limiter,
        api_limiter,
        programme,
    });
    let router = crate::http::router(svc.clone());
    // On a cluster, the programme other nodes write.
    tokio::spawn(svc.programme.clone().follow(cancel.clone()));
    // Forget addresses whose API bucket is full again, so the limiter does not grow forever.
    tokio::spawn({
        let (svc, cancel) = (svc.clone(), cancel.clone());
        async move {
            let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
            loop {
                tokio::select! {
                    () = cancel.cancelled() => break,
                    _ = tick.tick() => {
                        svc.api_limiter.retain_recent();
                        svc.join_limiter.retain_recent();
                        svc.room_attempts.forget_old(svc.now().0);
                    }
                }
            }
        }
    });
    tracing::info!(addr = %listener.local_addr()?, url = %svc.settings.public_url, "rostrum serving");
    // The shutdown signal cancels everything: the accept loop stops, HTTP connections finish
    // their request, and sockets and actors (which hyper does not track) are waited for below.
    tokio::spawn({
        let cancel = cancel.clone();
        async move {
            shutdown.await;
            tracing::info!("shutting down");
            cancel.cancel();
        }
    });
    crate::server::serve(listener, router, &svc.settings.http, cancel.clone(), grace).await;
    // Upgraded WebSockets and the session actors listen to `cancel` and are waited for here.
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
    // Every session has stopped: leave the store in its final form (SQLite: the WAL copied
    // into the database file and truncated).
    if let Err(e) = store.close().await {
        tracing::warn!(error = %e, "the store could not be closed cleanly");
    }
    Ok(())
}
