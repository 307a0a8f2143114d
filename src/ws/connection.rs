//! One connection's life: hello, then a loop over the socket, the session's updates, pings
//! and shutdown.

use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Instant;

use futures_util::{FutureExt, SinkExt};
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use tokio::sync::watch;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};
use bytes::Bytes;
use tokio::sync::broadcast::error::{RecvError, TryRecvError};
use tokio::time::{MissedTickBehavior, interval, timeout};

use crate::auth::{Capability, Role, RoomCode, SessionId};
use crate::metrics;
use crate::protocol::{
    self, Audience, Caller, Hello, Incoming, Outgoing, Resume, VERSION, WireCommand, WireError,
    encode,
};
use crate::queue::{Actor, Command, Modality};
use crate::service::Shared;
use crate::session::{Answer, Frame, Gate, PresenceGuard, SessionHandle, Subscription};
use crate::store::StoreError;

/// Close codes (RFC 6455).
const GOING_AWAY: u16 = 1001;
const PROTOCOL: u16 = 1002;
const INVALID_DATA: u16 = 1007;
const POLICY: u16 = 1008;
const TOO_BIG: u16 = 1009;
const INTERNAL: u16 = 1011;

/// How long a refused client has to answer our close before the socket is dropped.
const CLOSE_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

/// Frames written together, at most, when a connection finds several waiting.
const BATCH: usize = 32;

/// The socket failed or the peer went away: end the connection.
struct Closed;

pub(super) async fn run(mut socket: WebSocket, svc: Shared, ip: IpAddr) {
    let cancel = svc.cancel.clone();
    let waited = tokio::select! {
        waited = timeout(svc.settings.ws.hello_timeout, Box::pin(await_hello(&mut socket, &svc))) => waited,
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

/// Wait for `hello`, answering anything else with an error; past the burst of messages without
/// a hello, the socket is closed as a flood.
async fn await_hello(socket: &mut WebSocket, svc: &Shared) -> Option<Hello> {
    let mut allowed = svc.settings.ws.message_burst;
    loop {
        let text = match socket.recv().await? {
            Ok(Message::Text(t)) => {
                metrics::hot().frames_in.increment(1);
                t
            }
            Ok(Message::Close(_)) => {
                echo_close(socket).await;
                return None;
            }
            Err(e) => {
                fail(socket, e, svc).await;
                return None;
            }
            Ok(_) => continue,
        };
        if allowed == 0 {
            let e = WireError::TooManyMessages;
            let _ = socket
                .send(Message::Text(protocol::wire_error(None, &e).into()))
                .await;
            refuse_close(socket, &e, svc).await;
            return None;
        }
        allowed -= 1;
        let reply = match protocol::parse(&text) {
            Ok(Incoming::Hello(h)) => return Some(h),
            Ok(Incoming::Command { req, .. }) => {
                protocol::wire_error(Some(req), &WireError::HelloFirst)
            }
            Ok(Incoming::Resync) => protocol::wire_error(None, &WireError::HelloFirst),
            Err((req, e)) => protocol::wire_error(req, &e),
        };
        let write = svc.settings.ws.write_timeout;
        if !matches!(
            timeout(write, socket.send(Message::Text(reply.into()))).await,
            Ok(Ok(()))
        ) {
            return None;
        }
    }
}

/// Close with 1008 and `e`'s code, then finish the closing handshake: read (and drop) what the
/// client still sends until its close, so the socket is not reset with our close still unread.
async fn refuse_close(socket: &mut WebSocket, e: &WireError, svc: &Shared) {
    let _ = close(socket, POLICY, e.code()).await;
    let drain = async {
        while let Some(Ok(m)) = socket.recv().await {
            if matches!(m, Message::Close(_)) {
                break;
            }
        }
    };
    tokio::select! {
        _ = timeout(CLOSE_GRACE, drain) => {}
        () = svc.cancel.cancelled() => {}
    }
}

async fn close(socket: &mut WebSocket, code: u16, reason: &str) -> Result<(), axum::Error> {
    socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: Utf8Bytes::from(reason),
        })))
        .await
}

struct Conn {
    socket: WebSocket,
    svc: Shared,
    /// The client's address (the peer's, or a trusted proxy's report).
    ip: IpAddr,
    session: SessionId,
    handle: SessionHandle,
    caller: Caller,
    audience: Audience,
    /// The client secret issued in `welcome`: who sends this connection's commands.
    client: String,
    updates: tokio::sync::broadcast::Receiver<Arc<Frame>>,
    /// Moderators: who is connected (each frame whole).
    presence: Option<tokio::sync::broadcast::Receiver<Bytes>>,
    /// A participant's connection reports itself present while it lives.
    present: Option<PresenceGuard>,
    epoch: u32,
    /// The last seq this client was sent.
    seq: u64,
    /// Which links still work, and the key epoch of this connection's link (none without one).
    gate: watch::Receiver<Gate>,
    link_epoch: Option<u32>,
    /// The per-connection message rate.
    rate: DefaultDirectRateLimiter,
    /// Counts this connection under its role while it lives.
    _counted: metrics::ConnectionGauge,
}

impl Conn {
    /// Check the hello and subscribe; on failure the client is told why and the socket closed.
    async fn start(
        mut socket: WebSocket,
        svc: Shared,
        hello: Hello,
        ip: IpAddr,
    ) -> Result<Self, ()> {
        match admit(&svc, &hello).await {
            Ok((session, handle, caller, link_epoch)) => {
                let audience = match caller {
                    Caller::Chair | Caller::OnlineModerator => Audience::Moderator,
                    _ => Audience::Public,
                };
                let role = role_name(caller);
                tracing::Span::current()
                    .record("session", tracing::field::display(session))
                    .record("role", role);
                let sub = handle
                    .subscribe(audience, hello.resume)
                    .await
                    .map_err(|_| ())?;
                // The client's secret names it as the sender of its commands: one this server
                // issued for this session is kept (a reconnect, here or on another node), anything
                // else gets a fresh one, so no client can present another's.
                let keys = &svc.settings.keys;
                let client = hello
                    .client
                    .filter(|c| keys.client_secret_valid(session, c))
                    .unwrap_or_else(|| keys.client_secret(session));
                let Subscription {
                    recovered,
                    epoch,
                    seq,
                    initial,
                    updates,
                    presence,
                } = sub;
                let present = match caller {
                    Caller::Participant(p) => Some(handle.present(p)),
                    _ => None,
                };
                let limits = &svc.settings.ws;
                let quota = Quota::per_second(nonzero(limits.messages_per_sec))
                    .allow_burst(nonzero(limits.message_burst));
                let mut conn = Conn {
                    gate: handle.gate(),
                    link_epoch,
                    rate: RateLimiter::direct(quota),
                    _counted: metrics::ConnectionGauge::open(role),
                    socket,
                    svc,
                    ip,
                    session,
                    handle,
                    caller,
                    audience,
                    client,
                    updates,
                    presence,
                    present,
                    epoch,
                    seq,
                };
                conn.welcome(recovered, initial).await.map_err(|_| ())?;
                Ok(conn)
            }
            Err((e, code)) => {
                let _ = socket
                    .send(Message::Text(protocol::wire_error(None, &e).into()))
                    .await;
                let _ = close(&mut socket, code, e.code()).await;
                Err(())
            }
        }
    }

    /// Send `welcome` for the current subscription, then its first frames.
    async fn welcome(&mut self, recovered: bool, initial: Vec<Bytes>) -> Result<(), Closed> {
        let role = role_name(self.caller);
        let participant = match self.caller {
            Caller::Participant(p) => Some(p.0),
            _ => None,
        };
        let session = self.session.to_string();
        let welcome = encode(&Outgoing::Welcome {
            v: VERSION,
            session: &session,
            role,
            participant,
            epoch: self.epoch,
            seq: self.seq,
            recovered,
            client: &self.client,
            nodes: &self.svc.settings.peer_sockets,
        });
        self.send(Message::Text(welcome.into())).await?;
        for frame in initial {
            self.send(text(frame)).await?;
        }
        Ok(())
    }

    /// Write a frame and flush.
    async fn send(&mut self, msg: Message) -> Result<(), Closed> {
        within(self.svc.settings.ws.write_timeout, self.socket.send(msg)).await
    }

    /// Write a frame into the socket's buffer; the next `send` flushes it.
    async fn feed(&mut self, msg: Message) -> Result<(), Closed> {
        within(self.svc.settings.ws.write_timeout, self.socket.feed(msg)).await
    }

    async fn serve(&mut self) -> Result<(), Closed> {
        let cancel = self.svc.cancel.clone();
        // One registration for the connection's life, not one per turn of the loop.
        let mut cancelled = std::pin::pin!(cancel.cancelled());
        let ping_every = self.svc.settings.ws.ping_every;
        let mut ping = interval(ping_every);
        ping.set_missed_tick_behavior(MissedTickBehavior::Delay);
        let mut heard = Instant::now();
        loop {
            tokio::select! {
                biased;
                () = &mut cancelled => {
                    let _ = close(&mut self.socket, GOING_AWAY, "server shutting down").await;
                    return Ok(());
                }
                msg = self.socket.recv() => {
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
                frame = self.updates.recv() => match frame {
                    Ok(frame) => {
                        self.seq = frame.seq;
                        let mut msg = text(frame.bytes(self.audience));
                        // Under load more frames are already waiting: write them together,
                        // with one flush (one write to the socket) for all of them.
                        let mut lagged = false;
                        for _ in 0..BATCH {
                            match self.updates.try_recv() {
                                Ok(next) => {
                                    self.feed(msg).await?;
                                    self.seq = next.seq;
                                    msg = text(next.bytes(self.audience));
                                }
                                Err(TryRecvError::Lagged(_)) => {
                                    lagged = true;
                                    break;
                                }
                                Err(_) => break,
                            }
                        }
                        self.send(msg).await?;
                        if lagged {
                            metrics::hot().resync.increment(1);
                            let resume = Resume { epoch: self.epoch, seq: self.seq };
                            Box::pin(self.resubscribe(Some(resume))).await?;
                        }
                    }
                    // Fell behind (or the actor restarted): catch up from the resume window,
                    // or start again from a snapshot.
                    Err(e) => {
                        if matches!(e, RecvError::Lagged(_)) {
                            metrics::hot().resync.increment(1);
                        }
                        let resume = Resume { epoch: self.epoch, seq: self.seq };
                        Box::pin(self.resubscribe(Some(resume))).await?;
                    }
                },
                presence = next_presence(&mut self.presence) => match presence {
                    Ok(bytes) => self.send(text(bytes)).await?,
                    // Each presence frame is whole: a missed one is made good by the next.
                    Err(RecvError::Lagged(_)) => {}
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
    fn use_handle(&mut self, handle: SessionHandle) {
        self.gate = handle.gate();
        self.gate.mark_changed();
        // A new actor starts with an empty presence book: report in to it.
        if let Caller::Participant(p) = self.caller {
            self.present = Some(handle.present(p));
        }
        self.handle = handle;
    }

    /// Whether this connection's link still works.
    fn admitted(&self) -> bool {
        let participant = match self.caller {
            Caller::Participant(p) => Some(p),
            _ => None,
        };
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

    async fn resubscribe(&mut self, resume: Option<Resume>) -> Result<(), Closed> {
        let sub = match self.handle.subscribe(self.audience, resume).await {
            Ok(sub) => sub,
            Err(_) => {
                match self.svc.hub.get(self.session).await {
                    Ok(Some(h)) => self.use_handle(h),
                    _ => {
                        let _ = close(&mut self.socket, INTERNAL, "session unavailable").await;
                        return Err(Closed);
                    }
                }
                self.handle
                    .subscribe(self.audience, resume)
                    .await
                    .map_err(|_| Closed)?
            }
        };
        let Subscription {
            recovered,
            epoch,
            seq,
            initial,
            updates,
            presence,
        } = sub;
        (self.updates, self.presence, self.epoch, self.seq) = (updates, presence, epoch, seq);
        self.welcome(recovered, initial).await
    }

    async fn on_text(&mut self, text: &str) -> Result<(), Closed> {
        let reply = match protocol::parse(text) {
            Err((req, e)) => refused(req, &e),
            Ok(Incoming::Hello(_)) => refused(None, &WireError::HelloTwice),
            Ok(Incoming::Resync) => return self.resubscribe(None).await,
            Ok(Incoming::Command { req, command }) => {
                let in_room = match &command {
                    WireCommand::Join {
                        room: Some(code),
                        profile,
                    } if self.caller == Caller::Newcomer
                        && profile.modality == Modality::Onsite =>
                    {
                        if let Err(e) = self.room_code(code) {
                            return self
                                .send(Message::Text(refused(Some(req), &e).into()))
                                .await;
                        }
                        true
                    }
                    _ => false,
                };
                match (
                    self.caller.actor(),
                    command.into_command(self.caller, in_room),
                ) {
                    (None, _) => refused(Some(req), &WireError::ReadOnly),
                    (_, Err(e)) => refused(Some(req), &e),
                    (Some(actor), Ok(command)) => match self.join_allowed(&command) {
                        Ok(()) => self.submit(actor, req, command).await,
                        Err(e) => refused(Some(req), &e),
                    },
                }
            }
        };
        self.send(Message::Text(reply.into())).await
    }

    /// A newcomer's join, within the joins allowed to this address.
    fn join_allowed(&self, command: &Command) -> Result<(), WireError> {
        if self.caller != Caller::Newcomer || !matches!(command, Command::Join { .. }) {
            return Ok(());
        }
        self.svc
            .join_limiter
            .check_key(&self.ip)
            .map_err(|not_until| {
                let clock = governor::clock::DefaultClock::default();
                let wait = not_until.wait_time_from(governor::clock::Clock::now(&clock));
                tracing::info!(session = %self.session, ip = %self.ip, "join refused: too many from one address");
                WireError::TooManyJoins {
                    retry_after_ms: u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
                }
            })
    }

    /// Check a room code typed (or scanned) to join as onsite, within the attempts allowed to
    /// this address for this session; only wrong codes are counted (an expired one was seen).
    fn room_code(&self, code: &str) -> Result<(), WireError> {
        let now = self.svc.now().0;
        let attempts = &self.svc.room_attempts;
        attempts
            .admit(self.ip, self.session, now)
            .map_err(|retry_after_ms| WireError::TooManyAttempts { retry_after_ms })?;
        match self
            .svc
            .settings
            .keys
            .room_code_check(self.session, code, now)
        {
            RoomCode::Current => Ok(()),
            RoomCode::Expired => Err(WireError::RoomCodeExpired),
            RoomCode::Wrong => {
                attempts.wrong(self.ip, self.session, now);
                tracing::info!(session = %self.session, ip = %self.ip, "wrong room code");
                Err(WireError::WrongRoomCode)
            }
        }
    }

    /// Submit a command and phrase the answer; a `join` turns a newcomer into a participant
    /// and hands them their own link.
    async fn submit(&mut self, actor: Actor, req: u64, command: Command) -> String {
        let joining = matches!(command, Command::Join { .. }) && self.caller == Caller::Newcomer;
        let mut answer = self
            .handle
            .command(actor, Some(self.client.clone()), req, command.clone())
            .await;
        if answer.is_err() {
            // The actor stopped between lookups: start it again and resend once.
            if let Ok(Some(h)) = self.svc.hub.get(self.session).await {
                self.use_handle(h);
                answer = self
                    .handle
                    .command(actor, Some(self.client.clone()), req, command)
                    .await;
            }
        }
        match answer {
            Ok(Answer::Ack { seq, participant }) => {
                metrics::hot().commands_ok.increment(1);
                let token = match participant.filter(|_| joining) {
                    Some(p) => {
                        self.caller = Caller::Participant(p);
                        self.present = Some(self.handle.present(p));
                        let epoch = self.handle.key_epoch();
                        self.link_epoch = Some(epoch);
                        Some(self.svc.settings.keys.sign(&Capability {
                            role: Role::Participant,
                            session: self.session,
                            participant: Some(p),
                            epoch,
                        }))
                    }
                    None => None,
                };
                encode(&Outgoing::Ack {
                    req,
                    seq,
                    participant: participant.map(|p| p.0),
                    token: token.as_deref(),
                })
            }
            Ok(Answer::Refused(r)) => {
                metrics::command_error(r.code());
                protocol::refusal(Some(req), &r)
            }
            Ok(Answer::Unavailable) | Err(_) => refused(Some(req), &WireError::Unavailable),
        }
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

/// The role a caller is welcomed (and counted) as.
fn role_name(caller: Caller) -> &'static str {
    match caller {
        Caller::Chair => "chair",
        Caller::OnlineModerator => "online_moderator",
        Caller::Participant(_) | Caller::Newcomer => "participant",
        Caller::Viewer => "viewer",
    }
}

/// The error frame for a message refused before or outside the core, counted by its code.
fn refused(req: Option<u64>, e: &WireError) -> String {
    metrics::command_error(e.code());
    protocol::wire_error(req, e)
}

/// Check a hello: version, session, capability. Returns the session, the caller and its link's
/// key epoch, or the error to send with the close code.
async fn admit(
    svc: &Shared,
    hello: &Hello,
) -> Result<(SessionId, SessionHandle, Caller, Option<u32>), (WireError, u16)> {
    if hello.v != VERSION {
        return Err((WireError::Version(hello.v), POLICY));
    }
    let session: SessionId = hello
        .session
        .parse()
        .map_err(|_| (WireError::UnknownSession, POLICY))?;
    let cap = match &hello.token {
        None => None,
        Some(t) => Some(
            svc.settings
                .keys
                .verify(t)
                .map_err(|_| (WireError::BadToken, POLICY))?,
        ),
    };
    let handle = match svc.hub.get(session).await {
        Ok(Some(h)) => h,
        Ok(None) => return Err((WireError::UnknownSession, POLICY)),
        Err(e @ StoreError::Damaged { .. }) => {
            tracing::error!(%session, error = %e, "refusing a damaged session: run `rostrum repair` after checking it");
            return Err((WireError::Damaged, INTERNAL));
        }
        Err(e) => {
            tracing::error!(%session, error = %e, "loading session failed");
            return Err((WireError::Unavailable, INTERNAL));
        }
    };
    let caller = match cap {
        None => Caller::Viewer,
        Some(c) if c.session != session => return Err((WireError::BadToken, POLICY)),
        Some(c) if !handle.gate().borrow().admits(c.epoch, c.participant) => {
            return Err((WireError::Revoked, POLICY));
        }
        Some(c) => match (c.role, c.participant) {
            (Role::Chair, _) => Caller::Chair,
            (Role::OnlineModerator, _) => Caller::OnlineModerator,
            (Role::Participant, Some(p)) => Caller::Participant(p),
            (Role::Participant, None) => Caller::Newcomer,
            (Role::Display, _) => Caller::Viewer,
        },
    };
    Ok((session, handle, caller, cap.map(|c| c.epoch)))
}

fn nonzero(n: u32) -> NonZeroU32 {
    NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN)
}

/// The close code (RFC 6455, section 7.4.1) for a read that failed on the client's bytes: 1009
/// for a message or a single frame over the limit, 1007 for a text message that is not UTF-8,
/// 1002 for a broken frame (reserved bits or opcodes, an unmasked frame, a fragmented or long
/// control frame...). None when the connection itself failed: nobody is left to tell.
fn close_code(e: &tungstenite::Error) -> Option<(u16, &'static str)> {
    use tungstenite::error::ProtocolError as P;
    match e {
        tungstenite::Error::Capacity(_) => Some((TOO_BIG, "message too big")),
        tungstenite::Error::Utf8(_) => Some((INVALID_DATA, "text is not UTF-8")),
        tungstenite::Error::Protocol(
            P::ResetWithoutClosingHandshake | P::SendAfterClosing | P::ReceivedAfterClosing,
        ) => None,
        tungstenite::Error::Protocol(_) => Some((PROTOCOL, "protocol error")),
        _ => None,
    }
}

/// Fail the connection after a bad read: close with the code that says why, then keep the
/// socket open (without reading) for the close grace, so the client reads our close before the
/// socket is dropped. A frame over the limit is refused from its header, its payload unread; a
/// socket dropped at once with unread bytes sends a reset, which may reach the client before
/// our close does. Reading the payload to drain it would buffer all of it, so we wait instead.
async fn fail(socket: &mut WebSocket, e: axum::Error, svc: &Shared) {
    let Some(e) = e.into_inner().downcast::<tungstenite::Error>().ok() else {
        return;
    };
    let Some((code, reason)) = close_code(&e) else {
        return;
    };
    tracing::debug!(code, error = %e, "failing a connection on a bad frame");
    if close(socket, code, reason).await.is_ok() {
        tokio::select! {
            () = tokio::time::sleep(CLOSE_GRACE) => {}
            () = svc.cancel.cancelled() => {}
        }
    }
}

/// Send the answer to the client's close (tungstenite queues it when the close is read, and
/// writes it on the next write or flush).
async fn echo_close(socket: &mut WebSocket) {
    let _ = timeout(CLOSE_GRACE, socket.flush()).await;
}

/// A frame the session serialized, as a text message (its JSON is UTF-8: checked, not copied).
fn text(frame: Bytes) -> Message {
    Message::Text(Utf8Bytes::try_from(frame).expect("the session's frames are JSON text"))
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
