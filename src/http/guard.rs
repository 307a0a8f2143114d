//! Middleware every request passes: request tracing, the security headers, limits on request
//! headers, the request timeout, compression, and the per-address rate limit of the API.
//!
//! tower-http does what it can (tracing, the headers, compression); the timeout is tower's, so
//! that its error becomes our JSON error. What tower-http has no layer for stays here as axum
//! middleware: the header limits and the API's rate limit.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;
use std::time::Duration;

use axum::error_handling::HandleErrorLayer;
use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use axum::{BoxError, Router};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};
use tower::ServiceBuilder;
use tower_http::classify::ServerErrorsFailureClass;
use tower_http::compression::CompressionLayer;
use tower_http::set_header::SetResponseHeaderLayer;
use tower_http::trace::TraceLayer;
use tracing::Span;

use super::ApiError;
use crate::config::HttpLimits;
use crate::limits::client_ip;
use crate::service::Shared;

/// Only our own scripts, styles, images and sockets; no inline code but the early socket, by its
/// hash ([`csp`]). `frame-ancestors` comes from `--frame-ancestors`.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'";

/// Most request headers, and most bytes of them, accepted (a browser sends about 20 and 2 KiB).
pub const MAX_HEADERS: usize = 64;
/// See [`MAX_HEADERS`].
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// The full CSP for `limits`.
pub fn csp(limits: &HttpLimits) -> String {
    let csp = CSP
        .replace(
            "script-src 'self'",
            &format!("script-src 'self' {}", super::pages::EARLY_SCRIPT),
        )
        .replace(
            "connect-src 'self'",
            &format!("connect-src 'self'{}", limits.connect_src),
        );
    format!("{csp}; frame-ancestors {}", limits.frame_ancestors)
}

/// Wrap the routes of `app` in the layers every request passes, from the outside in: the
/// security headers, a tracing span, the header limits, the request timeout. The WebSocket
/// upgrade (`ws`) gets the security headers only: a connect is measured in microseconds, and a
/// span, a timer and two more layers' futures per upgrade were a tenth of its server CPU; it
/// checks the header limits itself, and its socket outlives any request timeout. The headers
/// are built here, once, from the configuration.
pub fn around<S>(app: Router<S>, ws: Router<S>, limits: &HttpLimits) -> Router<S>
where
    S: Clone + Send + Sync + 'static,
{
    // Configuration refuses control characters in the source lists, so this always parses.
    let csp = HeaderValue::from_str(&csp(limits)).expect("the CSP is a valid header value");
    // For browsers that predate frame-ancestors.
    let deny = (limits.frame_ancestors == "'none'").then(|| HeaderValue::from_static("DENY"));
    let limit = limits.request_timeout;
    // tower's timeout fails with an error; this turns it into our answer.
    let timeout = ServiceBuilder::new()
        .layer(HandleErrorLayer::new(move |_: BoxError| async move {
            timed_out(limit)
        }))
        .timeout(limit);
    app.layer(timeout)
        .layer(axum::middleware::from_fn(header_limits))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(request_span)
                .on_request(())
                .on_response(answered)
                .on_body_chunk(())
                .on_eos(())
                .on_failure(failed),
        )
        .merge(ws)
        .layer(SetResponseHeaderLayer::overriding(
            header::CONTENT_SECURITY_POLICY,
            csp,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_FRAME_OPTIONS,
            deny,
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::overriding(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
}

/// API answers compressed (brotli or gzip) for a client that asks in `Accept-Encoding`.
/// tower-http leaves alone what is small (under 32 bytes), images and event streams. Applied
/// only to the dynamic routes: pages and assets come precompressed at build time
/// (`http/pages.rs`), and the WebSocket upgrade is not wrapped.
pub fn compression() -> CompressionLayer {
    CompressionLayer::new().br(true).gzip(true)
}

/// A request's span, named by its route template (`/s/{id}/{role}`), never its path: a path
/// can hold a short join code, which is as good as a link.
fn request_span(req: &Request) -> Span {
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map_or("(none)", MatchedPath::as_str);
    tracing::info_span!("request", method = %req.method(), route)
}

/// Each answer, at debug: its status and time.
fn answered(resp: &Response, latency: Duration, _: &Span) {
    tracing::debug!(
        status = resp.status().as_u16(),
        ms = latency.as_secs_f64() * 1e3,
        "answered"
    );
}

/// A server error (5xx), at warn.
fn failed(failure: ServerErrorsFailureClass, latency: Duration, _: &Span) {
    tracing::warn!(%failure, ms = latency.as_secs_f64() * 1e3, "request failed");
}

/// The answer to a request not read and answered within `limit` (a body trickled a byte at a
/// time, say): 408 `request_timeout`, and the connection is closed.
fn timed_out(limit: Duration) -> Response {
    let mut resp = ApiError::new(
        StatusCode::REQUEST_TIMEOUT,
        "request_timeout",
        format!("the request took longer than {} s", limit.as_secs()),
    )
    .into_response();
    resp.headers_mut()
        .insert(header::CONNECTION, HeaderValue::from_static("close"));
    resp
}

/// The API's rate limiter: a token bucket per client address.
pub fn api_limiter(limits: &HttpLimits) -> DefaultKeyedRateLimiter<IpAddr> {
    let n = |v: u32| NonZeroU32::new(v).unwrap_or(NonZeroU32::MIN);
    RateLimiter::keyed(Quota::per_second(n(limits.api_per_sec)).allow_burst(n(limits.api_burst)))
}

/// Refuse requests with too many or too large headers (431), before any handler reads them.
pub async fn header_limits(req: Request, next: Next) -> Response {
    match headers_too_large(req.headers()) {
        Some(refused) => refused,
        None => next.run(req).await,
    }
}

/// The 431 for `headers` with too many or too large fields; `None` if they are within limits.
/// The WebSocket upgrade, which is outside that layer, asks this itself.
pub fn headers_too_large(headers: &HeaderMap) -> Option<Response> {
    let bytes: usize = headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len())
        .sum();
    (headers.len() > MAX_HEADERS || bytes > MAX_HEADER_BYTES).then(|| {
        ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            format!("at most {MAX_HEADERS} headers and {MAX_HEADER_BYTES} bytes of them"),
        )
        .into_response()
    })
}

/// The API's per-address rate limit: past it, 429 with `Retry-After`.
pub async fn api_rate(
    State(svc): State<Shared>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    req: Request,
    next: Next,
) -> Response {
    let ip = client_ip(peer, req.headers(), svc.settings.http.trust_proxy_headers);
    match svc.api_limiter.check_key(&ip) {
        Ok(()) => next.run(req).await,
        Err(not_until) => {
            let wait = not_until.wait_time_from(governor::clock::Clock::now(
                &governor::clock::DefaultClock::default(),
            ));
            let secs = wait.as_secs() + 1;
            let mut resp = ApiError::new(
                StatusCode::TOO_MANY_REQUESTS,
                "rate_limited",
                format!("too many requests from your address; try again in {secs} s"),
            )
            .into_response();
            resp.headers_mut()
                .insert(header::RETRY_AFTER, HeaderValue::from(secs));
            resp
        }
    }
}
