//! The HTTP API as OpenAPI 3.1: paths and operations with `utoipa`'s builders, from the table
//! in `endpoints.rs` (one row per route in `http::router`), and component schemas from the types
//! the handlers read and write (with `contract`'s schema generator).

mod endpoints;
mod event;

use serde_json::{Map, Value};
use utoipa::openapi::path::{OperationBuilder, ParameterBuilder, ParameterIn};
use utoipa::openapi::request_body::RequestBodyBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme};
use utoipa::openapi::{
    ComponentsBuilder, ContentBuilder, InfoBuilder, OpenApiBuilder, PathItem, PathsBuilder, Ref,
    Required, ResponseBuilder, Schema,
};

use self::endpoints::{Auth, Body, Request, endpoints};
use super::{ErrorBody, admin, api, programme, rooms};
use crate::contract::{component, generator};

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
                } else if e.path.starts_with("/api/rooms") || e.path.starts_with("/api/programme") {
                    "event"
                } else {
                    "operations"
                },
            );
        if e.path.starts_with("/api/rooms/{id}") {
            op = op.parameter(
                ParameterBuilder::new()
                    .name("id")
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .description(Some("The room's id: 32 lowercase hex digits."))
                    .schema(Some(Ref::from_schema_name("RoomId"))),
            );
        } else if e.path.starts_with("/api/programme/entries/{id}") {
            op = op.parameter(
                ParameterBuilder::new()
                    .name("id")
                    .parameter_in(ParameterIn::Path)
                    .required(Required::True)
                    .description(Some(
                        "The entry's external id (the programme file's `id` or `UID`), percent-encoded.",
                    ))
                    .schema(Some(text())),
            );
        } else if e.path.contains("{id}") {
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
        for q in e.query {
            let schema = if q.boolean {
                ObjectBuilder::new().schema_type(Type::Boolean)
            } else {
                let s = ObjectBuilder::new().schema_type(Type::String);
                if q.values.is_empty() {
                    s
                } else {
                    s.enum_values(Some(q.values.iter().copied()))
                }
            };
            op = op.parameter(
                ParameterBuilder::new()
                    .name(q.name)
                    .parameter_in(ParameterIn::Query)
                    .required(Required::False)
                    .description(Some(q.description))
                    .schema(Some(schema)),
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
        if let Some(request) = &e.request {
            let body = RequestBodyBuilder::new().required(Some(Required::True));
            let body = match request {
                Request::Json(name) => body.content(
                    "application/json",
                    ContentBuilder::new()
                        .schema(Some(Ref::from_schema_name(*name)))
                        .build(),
                ),
                Request::File(media) => media.iter().fold(body, |body, m| {
                    body.content(*m, ContentBuilder::new().schema(Some(text())).build())
                }),
            };
            op = op.request_body(Some(body.build()));
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
            Body::Binary(media) => success.content(
                media,
                ContentBuilder::new()
                    .schema(Some(
                        ObjectBuilder::new()
                            .schema_type(Type::String)
                            .content_media_type(media),
                    ))
                    .build(),
            ),
            Body::Redirect => success.description("see other: `Location` is the join link"),
        };
        op = op.response(e.status, success.build());
        for (status, description, name) in e.also {
            op = op.response(
                *status,
                ResponseBuilder::new()
                    .description(*description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name(*name)))
                            .build(),
                    )
                    .build(),
            );
        }
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
                .description(Some("Sessions, links, the room code, the record and the report; an event's rooms, programme and official reports. Written for people in docs/api.md; the live queue is the WebSocket protocol (docs/protocol.md, docs/asyncapi.json). Generated from the code by rostrum's contract module."))
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
        component::<crate::ids::SessionId>,
        component::<rooms::Rooms>,
        component::<rooms::RoomNow>,
        component::<rooms::RoomJoin>,
        component::<rooms::RoomPoster>,
        component::<crate::programme::RoomId>,
        component::<crate::programme::Plan>,
        component::<programme::ProgrammeList>,
        component::<programme::DeletedEntry>,
        component::<crate::programme::igf::IgfReport>,
        component::<crate::programme::igf::EventSummary>,
    ] {
        f(&mut out);
    }
    let mut written = out.take_definitions(true);
    let mut input = generator(false, PATH);
    component::<crate::hub::NewSession>(&mut input);
    component::<rooms::SetRooms>(&mut input);
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
