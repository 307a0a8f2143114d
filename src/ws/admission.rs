//! Admission: waiting for `hello`, checking its version, session and capability, choosing the
//! client's secret, and welcoming the client with its first frames (a snapshot, or what it
//! missed on a resume). A resync later goes through the same welcome.

use std::collections::VecDeque;
use std::net::IpAddr;

use tokio::time::timeout;

use axum::extract::ws::{Message, Utf8Bytes, WebSocket};
use bytes::Bytes;

use crate::ids::SessionId;
use crate::metrics;
use crate::principal::Principal;
use crate::protocol::{self, Hello, Incoming, Outgoing, Resume, VERSION, WireError, encode};
use crate::service::Shared;
use crate::session::{SessionHandle, Subscription};

use super::close::{Closed, INTERNAL, POLICY, close, echo_close, fail, refuse_close};
use super::connection::{Conn, text};
use super::rate;

/// The WebSocket subprotocol a page offers, and the server selects, to say its `hello` in the
/// handshake: the page offers `rostrum` and `rostrum.hello.<the hello, base64url>`, and the
/// server answers with its welcome as soon as the socket opens, a round trip sooner than a
/// hello sent as the first message (600 ms on a satellite link).
pub const SUBPROTOCOL: &str = "rostrum";
const HELLO_PREFIX: &str = "rostrum.hello.";

/// The hello offered in a handshake's `Sec-WebSocket-Protocol` values, still encoded.
pub fn handshake_hello<'a>(offered: impl IntoIterator<Item = &'a str>) -> Option<String> {
    offered
        .into_iter()
        .flat_map(|v| v.split(','))
        .find_map(|p| p.trim().strip_prefix(HELLO_PREFIX))
        .map(str::to_owned)
}

/// A hello from the handshake, decoded.
fn decode_hello(encoded: &str) -> Result<String, WireError> {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(encoded)
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(|| {
            WireError::BadJson(
                "the hello in the handshake is not base64url (no padding) of UTF-8 JSON".into(),
            )
        })
}

/// Wait for `hello` (the handshake's, if it carried one, else the first message), answering
/// anything else with an error; past the burst of messages without a hello, the socket is
/// closed as a flood.
pub(super) async fn await_hello(
    socket: &mut WebSocket,
    svc: &Shared,
    mut early: Option<String>,
) -> Option<Hello> {
    let mut allowed = svc.settings.ws.message_burst;
    loop {
        let text: Utf8Bytes = match early.take().map(|e| decode_hello(&e)) {
            Some(Ok(hello)) => hello.into(),
            Some(Err(e)) => {
                let reply = protocol::wire_error(None, &e);
                if socket.send(Message::Text(reply.into())).await.is_err() {
                    return None;
                }
                continue;
            }
            None => match socket.recv().await? {
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
            },
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

impl Conn {
    /// Check the hello and subscribe; on failure the client is told why and the socket closed.
    pub(super) async fn start(
        mut socket: WebSocket,
        svc: Shared,
        hello: Hello,
        ip: IpAddr,
    ) -> Result<Self, ()> {
        match admit(&svc, &hello).await {
            Ok((session, handle, principal, link_epoch)) => {
                let role = principal.name();
                tracing::Span::current()
                    .record("session", tracing::field::display(session))
                    .record("role", role);
                let sub = handle
                    .subscribe(principal.audience(), hello.resume)
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
                let present = principal.participant().map(|p| handle.present(p));
                let mut conn = Conn {
                    gate: handle.gate(),
                    link_epoch,
                    rate: rate::message_limiter(&svc.settings.ws),
                    _counted: metrics::ConnectionGauge::open(role),
                    socket,
                    svc,
                    ip,
                    session,
                    handle,
                    principal,
                    client,
                    updates,
                    presence,
                    present,
                    epoch,
                    seq,
                    handles: 0,
                    due: VecDeque::new(),
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
        let session = self.session.to_string();
        let welcome = encode(&Outgoing::Welcome {
            v: VERSION,
            session: &session,
            role: self.principal.name(),
            participant: self.principal.participant().map(|p| p.0),
            epoch: self.epoch,
            seq: self.seq,
            recovered,
            client: &self.client,
            nodes: &self.svc.settings.peer_sockets,
        });
        // One flush for the welcome and the frames after it: one write, one wake of the client.
        let mut msg = Message::Text(welcome.into());
        for frame in initial {
            self.feed(std::mem::replace(&mut msg, text(frame))).await?;
        }
        self.send(msg).await
    }

    /// Subscribe again (a resync, or a lag past the broadcast's depth) from `resume`, on a
    /// restarted actor if this one stopped, and welcome the client again.
    pub(super) async fn resubscribe(&mut self, resume: Option<Resume>) -> Result<(), Closed> {
        let audience = self.principal.audience();
        let sub = match self.handle.subscribe(audience, resume).await {
            Ok(sub) => sub,
            Err(_) => {
                if !self.reattach().await {
                    let _ = close(&mut self.socket, INTERNAL, "session unavailable").await;
                    return Err(Closed);
                }
                self.handle
                    .subscribe(audience, resume)
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

    /// Subscribe again from where this client is (it fell behind, or missed a frame).
    pub(super) async fn resume_here(&mut self) -> Result<(), Closed> {
        let resume = Resume {
            epoch: self.epoch,
            seq: self.seq,
        };
        Box::pin(self.resubscribe(Some(resume))).await
    }

    /// Move to the session's actor as the hub has it now (started again from the log if the
    /// one this connection used stopped); `false` if the session cannot be served.
    pub(super) async fn reattach(&mut self) -> bool {
        match self.svc.hub.get(self.session).await {
            Ok(Some(h)) => {
                self.use_handle(h);
                true
            }
            _ => false,
        }
    }
}

/// Check a hello: version, session, capability. Returns the session, who the link makes its
/// holder and the link's key epoch, or the error to send with the close code.
async fn admit(
    svc: &Shared,
    hello: &Hello,
) -> Result<(SessionId, SessionHandle, Principal, Option<u32>), (WireError, u16)> {
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
        Err(e) => return Err((e.into(), INTERNAL)),
    };
    if let Some(c) = &cap {
        if c.session != session {
            return Err((WireError::BadToken, POLICY));
        }
        if !handle.gate().borrow().admits(c.epoch, c.participant) {
            return Err((WireError::Revoked, POLICY));
        }
    }
    Ok((
        session,
        handle,
        Principal::of(cap.as_ref()),
        cap.map(|c| c.epoch),
    ))
}
