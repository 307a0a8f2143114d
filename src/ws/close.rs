//! Ending a connection: the close codes (RFC 6455) and the closing handshakes, so a client reads
//! why it was closed before its socket goes.

use futures_util::SinkExt;
use tokio::time::timeout;

use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket};

use crate::protocol::WireError;
use crate::service::Shared;

/// Close codes (RFC 6455).
pub(super) const GOING_AWAY: u16 = 1001;
const PROTOCOL: u16 = 1002;
const INVALID_DATA: u16 = 1007;
pub(super) const POLICY: u16 = 1008;
const TOO_BIG: u16 = 1009;
pub(super) const INTERNAL: u16 = 1011;

/// How long a refused client has to answer our close before the socket is dropped.
const CLOSE_GRACE: std::time::Duration = std::time::Duration::from_secs(1);

/// The socket failed or the peer went away: end the connection.
pub(super) struct Closed;

/// Close with 1008 and `e`'s code, then finish the closing handshake: read (and drop) what the
/// client still sends until its close, so the socket is not reset with our close still unread.
pub(super) async fn refuse_close(socket: &mut WebSocket, e: &WireError, svc: &Shared) {
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

pub(super) async fn close(
    socket: &mut WebSocket,
    code: u16,
    reason: &str,
) -> Result<(), axum::Error> {
    socket
        .send(Message::Close(Some(CloseFrame {
            code,
            reason: Utf8Bytes::from(reason),
        })))
        .await
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
pub(super) async fn fail(socket: &mut WebSocket, e: axum::Error, svc: &Shared) {
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
pub(super) async fn echo_close(socket: &mut WebSocket) {
    let _ = timeout(CLOSE_GRACE, socket.flush()).await;
}
