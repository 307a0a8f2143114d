//! The one error of every route: a status, a stable code and a human message, as
//! `{"code", "message"}`. The service's failures become it in one place each: a store's
//! ([`StoreError`]), the core's refusals ([`Refusal`]), a session that stopped ([`Gone`]), a
//! creation's ([`CreateError`]). The wire's twin for sockets is in `hub/error.rs`.

use axum::extract::{FromRequestParts, Path};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

use crate::hub::{CreateError, StoreError};
use crate::ids::SessionId;
use crate::queue::Refusal;
use crate::session::Gone;

/// An API error: status, stable code, human message.
#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
}

impl ApiError {
    /// An error with its status, stable code and human message.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            status,
            code,
            message: message.into(),
        }
    }

    /// 404 `unknown_session`: no such session, or not a session's id at all.
    pub fn unknown_session() -> Self {
        ApiError::new(StatusCode::NOT_FOUND, "unknown_session", "no such session")
    }

    /// 503 `unavailable`: nothing was done; trying again may work.
    pub fn unavailable() -> Self {
        ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "try again")
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        self.code
    }
}

/// The body of every API error.
#[derive(Debug, serde::Serialize, schemars::JsonSchema)]
pub struct ErrorBody {
    /// The stable code (see docs/api.md).
    pub code: String,
    /// For people.
    pub message: String,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = ErrorBody {
            code: self.code.to_owned(),
            message: self.message,
        };
        (self.status, axum::Json(body)).into_response()
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Damaged { .. } => {
                tracing::error!(error = %e, "refusing a damaged session: run `rostrum repair` after checking it");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "damaged",
                    "this session's record is damaged",
                )
            }
            // Already logged once by the store, when it started failing.
            StoreError::Unavailable(_) => {
                tracing::debug!(error = %e, "the store cannot write");
                ApiError::unavailable()
            }
            _ => {
                tracing::error!(error = %e, "the store failed");
                ApiError::unavailable()
            }
        }
    }
}

/// A command refused on a running session: 409, with the refusal's code.
impl From<Refusal> for ApiError {
    fn from(r: Refusal) -> Self {
        ApiError::new(StatusCode::CONFLICT, r.code(), r.to_string())
    }
}

/// The session's actor stopped under the request (idle, or the service shutting down): nothing
/// was done, and asking again starts it anew.
impl From<Gone> for ApiError {
    fn from(_: Gone) -> Self {
        tracing::debug!("a session stopped while a request waited on it");
        ApiError::unavailable()
    }
}

/// A new session refused by the core (422, with the refusal's code), or not stored.
impl From<CreateError> for ApiError {
    fn from(e: CreateError) -> Self {
        match e {
            CreateError::Invalid(r) => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, r.code(), r.to_string())
            }
            CreateError::Store(e) => {
                tracing::error!(error = %e, "creating a session failed");
                ApiError::new(
                    StatusCode::SERVICE_UNAVAILABLE,
                    "unavailable",
                    "the session could not be stored",
                )
            }
        }
    }
}

/// The `{id}` of a route, a session's id: anything else is answered 404 `unknown_session`,
/// the same as an id no session has, before the handler runs.
#[derive(Debug, Clone, Copy)]
pub struct SessionPath(pub SessionId);

impl<S: Send + Sync> FromRequestParts<S> for SessionPath {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, ApiError> {
        match Path::<SessionId>::from_request_parts(parts, state).await {
            Ok(Path(id)) => Ok(SessionPath(id)),
            Err(_) => Err(ApiError::unknown_session()),
        }
    }
}
