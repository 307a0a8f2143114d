//! One connection's life: hello, then a loop over the socket, the session's updates, the
//! presence book (moderators), revocations, pings and shutdown. Each turn of the loop hands its
//! work to the file that owns it: `admission`, `submit`, `writer`, `rate`, `close`.

use std::collections::VecDeque;
use std::net::IpAddr;
use std::sync::Arc;
use std::time::Instant;

use governor::DefaultDirectRateLimiter;
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::watch;
use tokio::time::{MissedTickBehavior, interval_at, timeout};

use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use bytes::Bytes;

use crate::ids::SessionId;
use crate::metrics;
use crate::principal::Principal;
use crate::protocol::{self, WireError};
use crate::service::Shared;
use crate::session::{Frame, Gate, PresenceGuard, SessionHandle};

use super::admission::await_hello;
use super::close::{Closed, GOING_AWAY, POLICY, close, echo_close, fail, refuse_close};
use super::submit::{Due, next_answer};
use super::writer::Lagged;

/// Run one upgraded connection from `ip` until it closes or the service shuts down. `early` is
/// the hello its handshake carried, still encoded (see [`super::SUBPROTOCOL`]).
pub async fn run(mut socket: WebSocket, svc: Shared, ip: IpAddr, early: Option<String>) {
    let cancel = svc.cancel.clone();
    let waited = tokio::select! {
        waited = timeout(svc.settings.ws.hello_timeout, Box::pin(await_hello(&mut socket, &svc, early))) => waited,
        () = cancel.cancelled() => Ok(None),
    };
    let hello = match waited {
        Ok(Some(hello)) => hello,
        Ok(None) if cancel.is_cancelled() => {
            let _ = close(&mut socket, GOING_AWAY, "server shutting down").await;
            return;
        }
        Ok(None) => return,
        Err(_) => {
            let _ = close(&mut socket, POLICY, "no hello in time").await;
            return;
        }
    };
    // The hello's and the commands' futures are boxed: they run once or rarely, and unboxed
    // they would size every idle connection's task for their largest moment.
    let mut conn = match Box::pin(Conn::start(socket, svc, hello, ip)).await {
        Ok(conn) => conn,
        Err(()) => return,
    };
    let ended = conn.serve().await;
    tracing::debug!(by_error = ended.is_err(), "connection closed");
}

/// An admitted connection: its socket, its session and who it acts as.
pub(super) struct Conn {
    pub(super) socket: WebSocket,
    pub(super) svc: Shared,
    /// The client's address (the peer's, or a trusted proxy's report).
    pub(super) ip: IpAddr,
    pub(super) session: SessionId,
    pub(super) handle: SessionHandle,
    /// How many times the connection moved to a restarted actor's handle.
    pub(super) handles: u32,
    /// The answers it owes, in the order its messages came (`submit.rs`).
    pub(super) due: VecDeque<Due>,
    /// Who the connection acts as: from its link, and a participant once a newcomer joins.
    pub(super) principal: Principal,
    /// The client secret issued in `welcome`: who sends this connection's commands.
    pub(super) client: String,
    pub(super) updates: tokio::sync::broadcast::Receiver<Arc<Frame>>,
    /// Moderators: who is connected (the whole book first, then what changed).
    pub(super) presence: Option<tokio::sync::broadcast::Receiver<Bytes>>,
    /// A participant's connection reports itself present while it lives.
    pub(super) present: Option<PresenceGuard>,
    pub(super) epoch: u32,
    /// The last seq this client was sent.
    pub(super) seq: u64,
    /// Which links still work, and the key epoch of this connection's link (none without one).
    pub(super) gate: watch::Receiver<Gate>,
    pub(super) link_epoch: Option<u32>,
    /// The per-connection message rate.
    pub(super) rate: DefaultDirectRateLimiter,
    /// Counts this connection under its role while it lives.
    pub(super) _counted: metrics::ConnectionGauge,
}

impl Conn {
    async fn serve(&mut self) -> Result<(), Closed> {
        let cancel = self.svc.cancel.clone();
        // One registration for the connection's life, not one per turn of the loop.
        let mut cancelled = std::pin::pin!(cancel.cancelled());
        let ping_every = self.svc.settings.ws.ping_every;
        // The first ping after a whole period: one at once would cost every new connection a
        // write, and its pong a read, for nothing.
        let mut ping = interval_at(tokio::time::Instant::now() + ping_every, ping_every);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut heard = Instant::now();
        loop {
            tokio::select! {
                biased;
                // Updates first: a wake for an update (nearly every wake, in a busy session)
                // polls nothing else before forwarding it.
                frame = self.updates.recv() => match frame {
                    Ok(frame) => {
                        if let Lagged(true) = self.forward(frame).await? {
                            metrics::hot().resync.increment(1);
                            self.resume_here().await?;
                        }
                    }
                    // The actor stopped because the service is stopping: say so.
                    Err(RecvError::Closed) if cancel.is_cancelled() => {
                        let _ = close(&mut self.socket, GOING_AWAY, "server shutting down").await;
                        return Ok(());
                    }
                    // Fell behind (or the actor restarted): catch up from the resume window,
                    // or start again from a snapshot.
                    Err(e) => {
                        if matches!(e, RecvError::Lagged(_)) {
                            metrics::hot().resync.increment(1);
                        }
                        self.resume_here().await?;
                    }
                },
                () = &mut cancelled => {
                    let _ = close(&mut self.socket, GOING_AWAY, "server shutting down").await;
                    return Ok(());
                }
                answer = next_answer(&mut self.due) => Box::pin(self.answered(answer)).await?,
                msg = self.socket.recv(), if self.reading() => {
                    heard = Instant::now();
                    if matches!(msg, Some(Ok(Message::Text(_) | Message::Binary(_)))) {
                        metrics::hot().frames_in.increment(1);
                    }
                    if matches!(msg, Some(Ok(Message::Text(_) | Message::Binary(_))))
                        && self.rate.check().is_err()
                    {
                        tracing::info!(session = %self.session, "closing a connection over its message rate");
                        return Box::pin(self.refuse(&WireError::TooManyMessages)).await;
                    }
                    match msg {
                        Some(Ok(Message::Text(text))) => Box::pin(self.on_text(&text)).await?,
                        Some(Ok(Message::Binary(_))) => {
                            let e = WireError::BadJson("send text frames, not binary".into());
                            self.send(Message::Text(protocol::wire_error(None, &e).into())).await?;
                        }
                        Some(Ok(Message::Ping(_) | Message::Pong(_))) => {}
                        Some(Ok(Message::Close(_))) => {
                            echo_close(&mut self.socket).await;
                            return Ok(());
                        }
                        None => return Ok(()),
                        Some(Err(e)) => {
                            fail(&mut self.socket, e, &self.svc).await;
                            return Err(Closed);
                        }
                    }
                }
                presence = next_presence(&mut self.presence) => match presence {
                    Ok(bytes) => self.send(text(bytes)).await?,
                    // Presence frames carry only what changed: one missed is a gap, made good
                    // by subscribing again, which sends the whole book (and any updates missed).
                    Err(RecvError::Lagged(_)) => self.resume_here().await?,
                    Err(RecvError::Closed) => self.presence = None,
                },
                Ok(()) = self.gate.changed() => {
                    if !self.admitted() {
                        return Box::pin(self.refuse(&WireError::Revoked)).await;
                    }
                }
                _ = ping.tick() => {
                    if heard.elapsed() > ping_every * 3 {
                        return Err(Closed);
                    }
                    self.send(Message::Ping(Default::default())).await?;
                }
            }
        }
    }

    /// Switch to a restarted actor's handle; its gate is checked on the next turn of the loop
    /// (marked changed, since a link may have been revoked while the actor restarted).
    pub(super) fn use_handle(&mut self, handle: SessionHandle) {
        self.gate = handle.gate();
        self.gate.mark_changed();
        // A new actor starts with an empty presence book: report in to it.
        if let Some(p) = self.principal.participant() {
            self.present = Some(handle.present(p));
        }
        self.handle = handle;
        self.handles += 1;
    }

    /// Whether this connection's link still works.
    fn admitted(&self) -> bool {
        let participant = self.principal.participant();
        self.link_epoch
            .is_none_or(|e| self.gate.borrow().admits(e, participant))
    }

    /// Tell the client why, and close with 1008.
    async fn refuse(&mut self, e: &WireError) -> Result<(), Closed> {
        let _ = self
            .send(Message::Text(protocol::wire_error(None, e).into()))
            .await;
        refuse_close(&mut self.socket, e, &self.svc).await;
        Err(Closed)
    }
}

/// The next presence frame, for a moderator's connection; never, for anyone else's.
async fn next_presence(
    rx: &mut Option<tokio::sync::broadcast::Receiver<Bytes>>,
) -> Result<Bytes, RecvError> {
    match rx {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// A frame the session serialized, as a text message (its JSON is UTF-8: checked, not copied).
pub(super) fn text(frame: Bytes) -> Message {
    Message::Text(Utf8Bytes::try_from(frame).expect("the session's frames are JSON text"))
}
