//! The HTTP API as OpenAPI 3.1: paths and operations with `utoipa`'s builders, from the table
//! below (one row per route in `http::router`), and component schemas from the types the
//! handlers read and write.

use serde_json::{Map, Value};
use utoipa::openapi::path::{HttpMethod, OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApiBuilder, PathItem, PathsBuilder, Ref,
    Required, ResponseBuilder, Schema,
};

use super::{component, generator};
use crate::http::{ErrorBody, admin, api};

/// Who may call an endpoint.
#[derive(Clone, Copy)]
enum Auth {
    /// Anyone.
    Open,
    /// The admin token only.
    Admin,
    /// The admin token or a role link's token of the session (the roles are in the summary).
    AdminOrLink,
}

/// What an endpoint answers when it succeeds.
enum Body {
    /// JSON of a named component schema.
    Json(&'static str),
    /// Text of a media type.
    Text(&'static str),
    /// No body: a redirect whose `Location` is described in the summary.
    Redirect,
}

/// One operation.
struct Endpoint {
    method: HttpMethod,
    path: &'static str,
    id: &'static str,
    summary: &'static str,
    auth: Auth,
    request: Option<&'static str>,
    status: &'static str,
    answer: Body,
    errors: &'static [(&'static str, &'static str)],
}

const NOT_FOUND: (&str, &str) = ("404", "`unknown_session`: no such session");
const UNAVAILABLE: (&str, &str) = (
    "503",
    "`unavailable` (the store could not answer; try again) or `damaged`",
);
const UNAUTHORIZED: (&str, &str) = ("401", "`unauthorized`: the admin token is required");
const FORBIDDEN: (&str, &str) = (
    "403",
    "`forbidden`: not a token this endpoint takes for this session",
);

fn endpoints() -> Vec<Endpoint> {
    use HttpMethod::{Get, Post};
    let record = |path, id, summary, answer| Endpoint {
        method: Get,
        path,
        id,
        summary,
        auth: Auth::AdminOrLink,
        request: None,
        status: "200",
        answer,
        errors: &[FORBIDDEN, NOT_FOUND, UNAVAILABLE],
    };
    vec![
        Endpoint {
            method: Post,
            path: "/api/sessions",
            id: "create_session",
            summary: "Create a session (admin token); its role links carry their capability in the fragment, `#t=TOKEN`. Unknown fields are refused.",
            auth: Auth::Admin,
            request: Some("NewSession"),
            status: "201",
            answer: Body::Json("Created"),
            errors: &[
                ("400", "`bad_json`: the body is not JSON"),
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
            request: None,
            status: "200",
            answer: Body::Json("SessionList"),
            errors: &[UNAUTHORIZED, UNAVAILABLE],
        },
        Endpoint {
            method: Get,
            path: "/api/sessions/{id}",
            id: "session_info",
            summary: "A session's public facts.",
            auth: Auth::Open,
            request: None,
            status: "200",
            answer: Body::Json("PublicInfo"),
            errors: &[NOT_FOUND, UNAVAILABLE],
        },
        Endpoint {
            method: Get,
            path: "/api/sessions/{id}/links",
            id: "session_links",
            summary: "The role links as they work now, and the join link's QR code (admin token or the chair's).",
            auth: Auth::AdminOrLink,
            request: None,
            status: "200",
            answer: Body::Json("Handout"),
            errors: &[FORBIDDEN, NOT_FOUND, UNAVAILABLE],
        },
        Endpoint {
            method: Get,
            path: "/api/sessions/{id}/room",
            id: "room_code",
            summary: "The room's current code, for onsite joins (the display's, chair's or online moderator's token).",
            auth: Auth::AdminOrLink,
            request: None,
            status: "200",
            answer: Body::Json("RoomCode"),
            errors: &[FORBIDDEN, NOT_FOUND, UNAVAILABLE],
        },
        Endpoint {
            method: Post,
            path: "/api/sessions/{id}/rotate",
            id: "rotate_links",
            summary: "Every role link of the session stops working; the new ones (admin token or the chair's).",
            auth: Auth::AdminOrLink,
            request: None,
            status: "200",
            answer: Body::Json("Created"),
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
            request: None,
            status: "200",
            answer: Body::Json("Ended"),
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
            request: None,
            status: "303",
            answer: Body::Redirect,
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
            request: None,
            status: "200",
            answer: Body::Text("application/json"),
            errors: &[],
        },
        Endpoint {
            method: Get,
            path: "/healthz",
            id: "healthz",
            summary: "`ok` while the process runs.",
            auth: Auth::Open,
            request: None,
            status: "200",
            answer: Body::Text("text/plain"),
            errors: &[],
        },
        Endpoint {
            method: Get,
            path: "/readyz",
            id: "readyz",
            summary: "`ok` while accepting clients.",
            auth: Auth::Open,
            request: None,
            status: "200",
            answer: Body::Text("text/plain"),
            errors: &[("503", "`shutting_down`")],
        },
    ]
}

fn text() -> Schema {
    ObjectBuilder::new().schema_type(Type::String).into()
}

fn error_response(description: &str) -> utoipa::openapi::Response {
    ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            ContentBuilder::new()
                .schema(Some(Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
}

/// The HTTP API as OpenAPI 3.1, as served at `/api/openapi.json` and checked in as
/// `docs/openapi.json`.
pub fn openapi() -> Value {
    let mut paths = PathsBuilder::new();
    let mut items: Vec<(&str, PathItem)> = Vec::new();
    for e in endpoints() {
        let mut op = OperationBuilder::new()
            .operation_id(Some(e.id))
            .summary(Some(e.summary))
            .tag(
                if e.path.starts_with("/api/sessions") || e.path.starts_with("/j/") {
                    "sessions"
                } else {
                    "operations"
                },
            );
        if e.path.contains("{id}") {
            op = op.parameter(
                ParameterBuilder::new()
                    .name("id")
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .description(Some("The session id: 32 lowercase hex digits."))
                    .schema(Some(Ref::from_schema_name("SessionId"))),
            );
        }
        if e.path.contains("{code}") {
            op = op.parameter(
                ParameterBuilder::new()
                    .name("code")
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .description(Some("The short code printed on the poster: ten characters of Crockford base32, any case, hyphens ignored."))
                    .schema(Some(text())),
            );
        }
        match e.auth {
            Auth::Open => {}
            Auth::Admin => {
                op = op.security(SecurityRequirement::new("admin", Vec::<String>::new()))
            }
            Auth::AdminOrLink => {
                op = op
                    .security(SecurityRequirement::new("admin", Vec::<String>::new()))
                    .security(SecurityRequirement::new("link", Vec::<String>::new()));
            }
        }
        if let Some(name) = e.request {
            op = op.request_body(Some(
                RequestBodyBuilder::new()
                    .required(Some(Required::True))
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name(name)))
                            .build(),
                    )
                    .build(),
            ));
        }
        let success = ResponseBuilder::new().description("success");
        let success = match e.answer {
            Body::Json(name) => success.content(
                "application/json",
                ContentBuilder::new()
                    .schema(Some(Ref::from_schema_name(name)))
                    .build(),
            ),
            Body::Text(media) => {
                success.content(media, ContentBuilder::new().schema(Some(text())).build())
            }
            Body::Redirect => success.description("see other: `Location` is the join link"),
        };
        op = op.response(e.status, success.build());
        for (status, description) in e.errors {
            op = op.response(*status, error_response(description));
        }
        match items.iter_mut().find(|(p, _)| *p == e.path) {
            Some((_, item)) => item.merge_operations(PathItem::new(e.method, op)),
            None => items.push((e.path, PathItem::new(e.method, op))),
        }
    }
    for (path, item) in items {
        paths = paths.path(path, item);
    }
    let scheme = |description: &str| {
        SecurityScheme::Http(
            HttpBuilder::new()
                .scheme(HttpAuthScheme::Bearer)
                .description(Some(description))
                .build(),
        )
    };
    let doc = OpenApiBuilder::new()
        .info(
            InfoBuilder::new()
                .title("rostrum HTTP API")
                .version(env!("CARGO_PKG_VERSION"))
                .description(Some("Sessions, links, the room code, the record and the report. Written for people in docs/api.md; the live queue is the WebSocket protocol (docs/protocol.md, docs/asyncapi.json). Generated from the code by rostrum's contract module."))
                .build(),
        )
        .paths(paths.build())
        .components(Some(
            ComponentsBuilder::new()
                .security_scheme("admin", scheme("The server's admin token (the organizer)."))
                .security_scheme("link", scheme("A role link's token: the fragment after `#t=`, up to any `&`."))
                .build(),
        ))
        .build();
    let mut doc = serde_json::to_value(&doc).expect("OpenAPI documents serialize");
    doc["components"]["schemas"] = Value::Object(schemas());
    doc
}

/// The component schemas: what the handlers write (serialize) and read (deserialize). A type read
/// differently from how it is written (an optional field with a default) is named `...Input`.
fn schemas() -> Map<String, Value> {
    const PATH: &str = "/components/schemas/";
    let mut out = generator(true, PATH);
    for f in [
        component::<api::Created>,
        component::<admin::SessionList>,
        component::<api::PublicInfo>,
        component::<admin::Handout>,
        component::<api::RoomCode>,
        component::<admin::Ended>,
        component::<crate::report::Report>,
        component::<ErrorBody>,
        component::<crate::auth::SessionId>,
    ] {
        f(&mut out);
    }
    let mut written = out.take_definitions(true);
    let mut input = generator(false, PATH);
    component::<crate::hub::NewSession>(&mut input);
    let mut read = input.take_definitions(true);
    let renamed: Vec<String> = read
        .iter()
        .filter(|(name, schema)| written.get(*name).is_some_and(|w| w != *schema))
        .map(|(name, _)| name.clone())
        .collect();
    let rename = |n: &str| {
        if renamed.iter().any(|r| r == n) {
            format!("#/components/schemas/{n}Input")
        } else {
            format!("#/components/schemas/{n}")
        }
    };
    for v in read.values_mut() {
        rewrite(v, &rename);
    }
    for (name, schema) in read {
        let name = if renamed.contains(&name) {
            format!("{name}Input")
        } else {
            name
        };
        written.insert(name, schema);
    }
    written.sort_keys();
    written
}

/// Rewrite `#/components/schemas/NAME` references by `rename(NAME)`.
fn rewrite(v: &mut Value, rename: &dyn Fn(&str) -> String) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get_mut("$ref")
                && let Some(name) = r.strip_prefix("#/components/schemas/")
            {
                *r = rename(name);
            }
            o.values_mut().for_each(|x| rewrite(x, rename));
        }
        Value::Array(a) => a.iter_mut().for_each(|x| rewrite(x, rename)),
        _ => {}
    }
}
