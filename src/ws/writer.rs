//! The per-client writer: every frame a connection sends goes through here, within the write
//! timeout, so a client that stops reading is dropped instead of holding anything up; frames
//! that are already waiting are written together, with one flush.

use std::sync::Arc;

use futures_util::{FutureExt, SinkExt};
use tokio::sync::broadcast::error::TryRecvError;
use tokio::time::timeout;

use axum::extract::ws::Message;

use crate::metrics;
use crate::session::Frame;

use super::close::Closed;
use super::connection::{Conn, text};

/// Frames written together, at most, when a connection finds several waiting.
const BATCH: usize = 32;

/// Whether the session's broadcast overtook this connection while it wrote.
pub(super) struct Lagged(pub(super) bool);

impl Conn {
    /// Write a frame and flush.
    pub(super) async fn send(&mut self, msg: Message) -> Result<(), Closed> {
        within(self.svc.settings.ws.write_timeout, self.socket.send(msg)).await
    }

    /// Write a frame into the socket's buffer; the next `send` flushes it.
    pub(super) async fn feed(&mut self, msg: Message) -> Result<(), Closed> {
        within(self.svc.settings.ws.write_timeout, self.socket.feed(msg)).await
    }

    /// Flush what was fed.
    pub(super) async fn flush(&mut self) -> Result<(), Closed> {
        within(self.svc.settings.ws.write_timeout, self.socket.flush()).await
    }

    /// Forward an update for this connection's audience, and (under load, when more are
    /// already waiting) up to `BATCH` more with it, with one flush (one write to the socket)
    /// for all of them. An update that is not the audience's moves the connection's seq along
    /// and sends nothing. Says whether the broadcast lagged meanwhile: the caller resumes.
    pub(super) async fn forward(&mut self, frame: Arc<Frame>) -> Result<Lagged, Closed> {
        let audience = self.principal.audience();
        self.seq = frame.seq;
        let mut msg = frame.bytes(audience).map(text);
        let mut lagged = false;
        for _ in 0..BATCH {
            match self.updates.try_recv() {
                Ok(next) => {
                    self.seq = next.seq;
                    if let Some(bytes) = next.bytes(audience)
                        && let Some(m) = msg.replace(text(bytes))
                    {
                        self.feed(m).await?;
                    }
                }
                Err(TryRecvError::Lagged(_)) => {
                    lagged = true;
                    break;
                }
                Err(_) => break,
            }
        }
        if let Some(m) = msg {
            self.send(m).await?;
        }
        Ok(Lagged(lagged))
    }

    /// Forward the updates already waiting that reach `seq` at most, before the answer to a
    /// command that ended there: a client's own command's frame comes before its ack (when
    /// this node published it first, as it does for the commands it decides). Says whether the
    /// broadcast lagged meanwhile.
    pub(super) async fn catch_up(&mut self, seq: u64) -> Result<Lagged, Closed> {
        let audience = self.principal.audience();
        // Fed, not flushed: the ack's own write flushes them with it.
        while self.seq < seq {
            match self.updates.try_recv() {
                Ok(next) => {
                    self.seq = next.seq;
                    if let Some(bytes) = next.bytes(audience) {
                        self.feed(text(bytes)).await?;
                    }
                }
                Err(TryRecvError::Lagged(_)) => return Ok(Lagged(true)),
                Err(_) => break,
            }
        }
        Ok(Lagged(false))
    }
}

/// Finish a write within `limit`. Most writes finish at once, with room in the socket's
/// buffer: they need no timer. One that does not finish in time drops the client.
async fn within(
    limit: std::time::Duration,
    write: impl Future<Output = Result<(), axum::Error>>,
) -> Result<(), Closed> {
    let mut write = std::pin::pin!(write);
    let written = match write.as_mut().now_or_never() {
        Some(written) => written,
        None => match timeout(limit, write).await {
            Ok(written) => written,
            Err(_) => {
                metrics::hot().disconnect.increment(1);
                tracing::info!("dropping a client whose writes stalled");
                return Err(Closed);
            }
        },
    };
    metrics::hot().frames_out.increment(1);
    written.map_err(|_| Closed)
}
