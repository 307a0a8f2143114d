//! WebSocket connections: the upgrade with explicit limits, and one task per connection that
//! says hello, forwards its session's updates, and submits its commands.
//!
//! A connection never slows its session: updates reach it through a bounded broadcast
//! receiver; one that falls behind is caught up from the session's resume window (or sent a
//! snapshot), and one that stops reading is dropped after the write timeout.

mod connection;

use axum::extract::State;
use axum::extract::ws::WebSocketUpgrade;
use axum::response::Response;

use crate::service::Shared;

/// `GET /ws`: upgrade, with a small read buffer and the configured message limit (axum's
/// default of 64 MiB is a thousand times too large for this protocol).
pub async fn upgrade(ws: WebSocketUpgrade, State(svc): State<Shared>) -> Response {
    let max = svc.settings.ws.max_message_bytes;
    ws.read_buffer_size(4 * 1024)
        .write_buffer_size(0)
        .max_write_buffer_size(1024 * 1024)
        .max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| {
            let tracker = svc.connections.clone();
            tracker.track_future(connection::run(socket, svc))
        })
}
