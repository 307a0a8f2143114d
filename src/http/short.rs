//! `GET /j/{code}`: the short address on the room's poster, for people who cannot scan its QR
//! code. The code is derived from the session id under the server's secret
//! ([`crate::auth::Keys::short_code`]), so nothing is stored: resolving it scans the sessions in
//! the store (cheap for thousands) and answers a 303 to the session's join link as it works now,
//! signed at the current key epoch, so a code printed before a rotation leads to the new link.
//! The route sits behind the API's per-address rate limit; what guessing costs is in
//! `docs/security.md`.

use axum::extract::{Path, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::ApiError;
use super::api::links;
use crate::auth::normalize_short_code;
use crate::service::Shared;

/// The short address of session `id`, as printed: `{public_url}/j/xxxxx-xxxxx` (lowercase,
/// which is quicker to type on a phone; any case and the hyphen are optional when resolving).
pub(super) fn short_url(svc: &Shared, id: crate::ids::SessionId) -> String {
    let code = svc.settings.keys.short_code(id).to_lowercase();
    format!(
        "{}/j/{}-{}",
        svc.settings.public_url,
        &code[..5],
        &code[5..]
    )
}

/// `GET /j/{code}` (no token): 303 to the join link of the session whose short code this is;
/// 404 `unknown_session` if none.
pub async fn resolve(State(svc): State<Shared>, Path(code): Path<String>) -> Response {
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "unknown_session",
            "no session has this short address; check it on the poster",
        )
        .into_response()
    };
    let Some(code) = normalize_short_code(&code) else {
        return not_found();
    };
    let metas = match svc.hub.metas().await {
        Ok(m) => m,
        Err(e) => return ApiError::from(e).into_response(),
    };
    let keys = &svc.settings.keys;
    let Some(id) = metas
        .iter()
        .map(|m| m.id)
        .find(|&id| same(keys.short_code(id).as_bytes(), code.as_bytes()))
    else {
        return not_found();
    };
    let handle = match svc.hub.get(id).await {
        Ok(Some(h)) => h,
        Ok(None) => return not_found(),
        Err(e) => return ApiError::from(e).into_response(),
    };
    let link = links(&svc, id, handle.key_epoch()).participant;
    let Ok(location) = HeaderValue::from_str(&link) else {
        tracing::error!(%id, "the join link is not a header value: check --public-url");
        return ApiError::unavailable().into_response();
    };
    (
        StatusCode::SEE_OTHER,
        [
            (header::LOCATION, location),
            // A rotation changes where it leads: never cached.
            (header::CACHE_CONTROL, HeaderValue::from_static("no-store")),
        ],
    )
        .into_response()
}

/// Whether two codes of the same length are equal, in constant time (no early exit on the first
/// differing character, so timing says nothing about how close a guess came).
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}
