//! `GET /ws`: the WebSocket upgrade, with explicit limits; the connection's task is
//! [`crate::ws::run`].

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};

use axum::Extension;
use axum::extract::ws::WebSocketUpgrade;
use axum::extract::{ConnectInfo, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tracing::Instrument;

use super::ApiError;
use crate::limits::client_ip;
use crate::server::TcpSlot;
use crate::service::Shared;

/// `GET /ws`: check the origin and the client's socket count before upgrading; then upgrade with
/// a small read buffer and the configured message limit (axum's default of 64 MiB is a thousand
/// times too large for this protocol). Clients send commands of a few hundred bytes, and
/// tungstenite zeroes and keeps the whole read buffer: 1 KiB instead of 4 took an idle
/// connection from 8.7 to 5.6 KiB resident (larger messages still grow it as they come).
pub async fn upgrade(
    ws: WebSocketUpgrade,
    State(svc): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    tcp: Option<Extension<TcpSlot>>,
    headers: HeaderMap,
) -> Response {
    if let Some(refused) = super::guard::headers_too_large(&headers) {
        return refused;
    }
    let limits = &svc.settings.ws;
    // Browsers always send Origin on a WebSocket upgrade; a request without one comes from a
    // program, which could forge any Origin anyway, so only browsers' origins are checked.
    if let Some(origin) = headers.get(header::ORIGIN) {
        let allowed = origin
            .to_str()
            .is_ok_and(|o| limits.allowed_origins.iter().any(|a| a == o));
        if !allowed {
            tracing::info!(origin = ?origin, "WebSocket refused: origin not allowed");
            return ApiError::new(
                StatusCode::FORBIDDEN,
                "origin_not_allowed",
                "this page's origin may not connect to this service",
            )
            .into_response();
        }
    }
    let ip = client_ip(peer, &headers, svc.settings.http.trust_proxy_headers);
    let Some(slot) = svc.per_ip.acquire(ip, limits.max_connections_per_ip) else {
        tracing::info!(%ip, "WebSocket refused: too many connections from one address");
        return ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            "too_many_connections",
            "too many connections from your address",
        )
        .into_response();
    };
    let max = limits.max_message_bytes;
    let early = crate::ws::handshake_hello(
        headers
            .get_all(header::SEC_WEBSOCKET_PROTOCOL)
            .iter()
            .filter_map(|v| v.to_str().ok()),
    );
    ws.protocols([crate::ws::SUBPROTOCOL])
        .read_buffer_size(1024)
        .write_buffer_size(16 * 1024)
        .max_write_buffer_size(1024 * 1024)
        .max_message_size(max)
        .max_frame_size(max)
        .on_upgrade(move |socket| {
            static IDS: AtomicU64 = AtomicU64::new(1);
            let span = tracing::info_span!(
                "connection",
                id = IDS.fetch_add(1, Ordering::Relaxed),
                %ip,
                session = tracing::field::Empty,
                role = tracing::field::Empty,
            );
            let tracker = svc.connections.clone();
            tracker.track_future(Instrument::instrument(
                async move {
                    crate::ws::run(socket, svc, ip, early).await;
                    drop((slot, tcp));
                },
                span,
            ))
        })
}
