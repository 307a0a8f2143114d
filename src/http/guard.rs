//! Middleware every request passes: the security headers, limits on request headers, the
//! request timeout, and the per-address rate limit of the API.

use std::net::{IpAddr, SocketAddr};
use std::num::NonZeroU32;

use axum::extract::{ConnectInfo, Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::{DefaultKeyedRateLimiter, Quota, RateLimiter};

use super::ApiError;
use crate::config::HttpLimits;
use crate::limits::client_ip;
use crate::service::Shared;

/// Only our own scripts, styles, images and sockets; no inline code. `frame-ancestors` comes
/// from `--frame-ancestors`.
pub const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    connect-src 'self'; font-src 'self'; manifest-src 'self'; base-uri 'none'; form-action 'self'";

/// Most request headers, and most bytes of them, accepted (a browser sends about 20 and 2 KiB).
pub const MAX_HEADERS: usize = 64;
/// See [`MAX_HEADERS`].
pub const MAX_HEADER_BYTES: usize = 16 * 1024;

/// The full CSP for `limits`.
pub fn csp(limits: &HttpLimits) -> String {
    let csp = CSP.replace(
        "connect-src 'self'",
        &format!("connect-src 'self'{}", limits.connect_src),
    );
    format!("{csp}; frame-ancestors {}", limits.frame_ancestors)
}

/// The API's rate limiter: a token bucket per client address.
pub fn api_limiter(limits: &HttpLimits) -> DefaultKeyedRateLimiter<IpAddr> {
    let n = |v: u32| NonZeroU32::new(v).unwrap_or(NonZeroU32::MIN);
    RateLimiter::keyed(Quota::per_second(n(limits.api_per_sec)).allow_burst(n(limits.api_burst)))
}

/// Add the security headers to every response.
pub async fn security_headers(State(svc): State<Shared>, req: Request, next: Next) -> Response {
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&csp(&svc.settings.http)) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    if svc.settings.http.frame_ancestors == "'none'" {
        // For browsers that predate frame-ancestors.
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
    }
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    resp
}

/// Refuse requests with too many or too large headers (431), before any handler reads them.
pub async fn header_limits(req: Request, next: Next) -> Response {
    let headers = req.headers();
    let bytes: usize = headers
        .iter()
        .map(|(k, v)| k.as_str().len() + v.len())
        .sum();
    if headers.len() > MAX_HEADERS || bytes > MAX_HEADER_BYTES {
        return ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "headers_too_large",
            format!("at most {MAX_HEADERS} headers and {MAX_HEADER_BYTES} bytes of them"),
        )
        .into_response();
    }
    next.run(req).await
}

/// Give up on a request that takes longer than the request timeout to read and answer (a body
/// trickled a byte at a time, say): 408 `request_timeout`, and the connection is closed. A
/// WebSocket upgrade is answered at once, so its socket is not limited by this.
pub async fn request_timeout(State(svc): State<Shared>, req: Request, next: Next) -> Response {
    let limit = svc.settings.http.request_timeout;
    match tokio::time::timeout(limit, next.run(req)).await {
        Ok(resp) => resp,
        Err(_) => {
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
    }
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
