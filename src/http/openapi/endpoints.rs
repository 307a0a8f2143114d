//! The table of the HTTP API's operations: one row per route in `http::router`, with who may
//! call it, what it reads and answers, and its errors.

use utoipa::openapi::path::HttpMethod;

/// Who may call an endpoint.
#[derive(Clone, Copy)]
pub(super) enum Auth {
    /// Anyone.
    Open,
    /// The admin token only.
    Admin,
    /// The admin token or a role link's token of the session (the roles are in the summary).
    AdminOrLink,
}

/// What an endpoint answers when it succeeds.
pub(super) enum Body {
    /// JSON of a named component schema.
    Json(&'static str),
    /// Text of a media type.
    Text(&'static str),
    /// Bytes of a media type (a file that is not text).
    Binary(&'static str),
    /// No body: a redirect whose `Location` is described in the summary.
    Redirect,
}

/// What an endpoint reads as its body.
pub(super) enum Request {
    /// JSON of a named component schema.
    Json(&'static str),
    /// A file, in any of these media types.
    File(&'static [&'static str]),
}

/// A query parameter.
pub(super) struct Param {
    pub(super) name: &'static str,
    pub(super) description: &'static str,
    /// `string`, `boolean`, or `string` limited to `values`.
    pub(super) boolean: bool,
    pub(super) values: &'static [&'static str],
}

/// One operation.
pub(super) struct Endpoint {
    pub(super) method: HttpMethod,
    pub(super) path: &'static str,
    pub(super) id: &'static str,
    pub(super) summary: &'static str,
    pub(super) auth: Auth,
    pub(super) query: &'static [Param],
    pub(super) request: Option<Request>,
    pub(super) status: &'static str,
    pub(super) answer: Body,
    /// Other answers that are not errors: status, description, JSON component schema.
    pub(super) also: &'static [(&'static str, &'static str, &'static str)],
    pub(super) errors: &'static [(&'static str, &'static str)],
}

pub(super) const NOT_FOUND: (&str, &str) = ("404", "`unknown_session`: no such session");
pub(super) const UNAVAILABLE: (&str, &str) = (
    "503",
    "`unavailable` (the store could not answer; try again) or `damaged`",
);
pub(super) const UNSUPPORTED_MEDIA: (&str, &str) = (
    "415",
    "`bad_json`: the body is not sent as `Content-Type: application/json`",
);
pub(super) const UNAUTHORIZED: (&str, &str) =
    ("401", "`unauthorized`: the admin token is required");
pub(super) const FORBIDDEN: (&str, &str) = (
    "403",
    "`forbidden`: not a token this endpoint takes for this session",
);

pub(super) fn endpoints() -> Vec<Endpoint> {
    use HttpMethod::{Get, Post};
    let record = |path, id, summary, answer| Endpoint {
        method: Get,
        path,
        id,
        summary,
        auth: Auth::AdminOrLink,
        query: &[],
        request: None,
        status: "200",
        answer,
        also: &[],
        errors: &[FORBIDDEN, NOT_FOUND, UNAVAILABLE],
    };
    vec![
        Endpoint {
            method: Post,
            path: "/api/sessions",
            id: "create_session",
            summary: "Create a session (admin token); its role links carry their capability in the fragment, `#t=TOKEN`. Unknown fields are refused.",
            auth: Auth::Admin,
            query: &[],
            request: Some(Request::Json("NewSession")),
            status: "201",
            answer: Body::Json("Created"),
            also: &[],
            errors: &[
                ("400", "`bad_json`: the body is not JSON"),
                UNSUPPORTED_MEDIA,
                (
                    "422",
                    "`bad_field` (a missing, invalid or unknown field, named) or `invalid` (a value out of range)",
                ),
                ("413", "`body_too_large`"),
                UNAUTHORIZED,
                UNAVAILABLE,
            ],
        },
        Endpoint {
            method: Get,
            path: "/api/sessions",
            id: "list_sessions",
            summary: "Every session in the store, oldest first (admin token).",
            auth: Auth::Admin,
            query: &[],
        request: None,
            status: "200",
            answer: Body::Json("SessionList"),
            also: &[],
            errors: &[UNAUTHORIZED, UNAVAILABLE],
        },
        Endpoint {
            method: Get,
            path: "/api/sessions/{id}",
            id: "session_info",
            summary: "A session's public facts.",
            auth: Auth::Open,
            query: &[],
        request: None,
            status: "200",
            answer: Body::Json("PublicInfo"),
            also: &[],
            errors: &[NOT_FOUND, UNAVAILABLE],
        },
        Endpoint {
            method: Get,
            path: "/api/sessions/{id}/links",
            id: "session_links",
            summary: "The role links as they work now, and the join link's QR code (admin token or the chair's).",
            auth: Auth::AdminOrLink,
            query: &[],
        request: None,
            status: "200",
            answer: Body::Json("Handout"),
            also: &[],
            errors: &[FORBIDDEN, NOT_FOUND, UNAVAILABLE],
        },
        Endpoint {
            method: Get,
            path: "/api/sessions/{id}/room",
            id: "room_code",
            summary: "The room's current code, for onsite joins (the display's, chair's or online moderator's token).",
            auth: Auth::AdminOrLink,
            query: &[],
        request: None,
            status: "200",
            answer: Body::Json("RoomCode"),
            also: &[],
            errors: &[FORBIDDEN, NOT_FOUND, UNAVAILABLE],
        },
        Endpoint {
            method: Post,
            path: "/api/sessions/{id}/rotate",
            id: "rotate_links",
            summary: "Every role link of the session stops working; the new ones (admin token or the chair's).",
            auth: Auth::AdminOrLink,
            query: &[],
        request: None,
            status: "200",
            answer: Body::Json("Created"),
            also: &[],
            errors: &[
                FORBIDDEN,
                NOT_FOUND,
                ("409", "a queue code, e.g. `session_ended`"),
                UNAVAILABLE,
            ],
        },
        Endpoint {
            method: Post,
            path: "/api/sessions/{id}/end",
            id: "end_session",
            summary: "End the session as the organizer; a turn in progress ends first (admin token).",
            auth: Auth::Admin,
            query: &[],
        request: None,
            status: "200",
            answer: Body::Json("Ended"),
            also: &[],
            errors: &[
                UNAUTHORIZED,
                NOT_FOUND,
                ("409", "`session_ended`"),
                UNAVAILABLE,
            ],
        },
        record(
            "/api/sessions/{id}/events.ndjson",
            "events_ndjson",
            "Every event, a JSON object a line, as moderators see them (admin token or a moderator's).",
            Body::Text("application/x-ndjson"),
        ),
        record(
            "/api/sessions/{id}/turns.csv",
            "turns_csv",
            "One row per turn (admin token or a moderator's).",
            Body::Text("text/csv"),
        ),
        record(
            "/api/sessions/{id}/report",
            "report_json",
            "The session report, recomputed from the log (admin token or a moderator's).",
            Body::Json("Report"),
        ),
        record(
            "/api/sessions/{id}/report.md",
            "report_markdown",
            "The session report as Markdown (admin token or a moderator's).",
            Body::Text("text/markdown"),
        ),
        Endpoint {
            method: Get,
            path: "/j/{code}",
            id: "short_address",
            summary: "The poster's short address: 303 to the session's join link as it works now (after any rotation); no token, under the API's per-address rate limit.",
            auth: Auth::Open,
            query: &[],
        request: None,
            status: "303",
            answer: Body::Redirect,
            also: &[],
            errors: &[
                (
                    "404",
                    "`unknown_session`: no session has this short address",
                ),
                UNAVAILABLE,
            ],
        },
        Endpoint {
            method: Get,
            path: "/api/openapi.json",
            id: "openapi",
            summary: "This document.",
            auth: Auth::Open,
            query: &[],
        request: None,
            status: "200",
            answer: Body::Text("application/json"),
            also: &[],
            errors: &[],
        },
        Endpoint {
            method: Get,
            path: "/healthz",
            id: "healthz",
            summary: "`ok` while the process runs.",
            auth: Auth::Open,
            query: &[],
        request: None,
            status: "200",
            answer: Body::Text("text/plain"),
            also: &[],
            errors: &[],
        },
        Endpoint {
            method: Get,
            path: "/readyz",
            id: "readyz",
            summary: "`ok` while accepting clients.",
            auth: Auth::Open,
            query: &[],
        request: None,
            status: "200",
            answer: Body::Text("text/plain"),
            also: &[],
            errors: &[("503", "`shutting_down`")],
        },
    ]
    .into_iter()
    .chain(super::event::endpoints())
    .collect()
}
