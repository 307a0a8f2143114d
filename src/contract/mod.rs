//! The machine-readable contracts, generated from the wire types so they cannot drift from the
//! code: a JSON Schema (2020-12) per client and server frame, an AsyncAPI 3.0 document for `/ws`,
//! and the schema generator the HTTP API's OpenAPI 3.1 document (`http/openapi/`, served at
//! `/api/openapi.json`) uses for its components.
//!
//! The schemas come from `schemars` derives on the types serde reads and writes; the OpenAPI
//! document's paths and operations are built with `utoipa`'s builders, its component schemas are
//! schemars' (OpenAPI 3.1 takes JSON Schema 2020-12 as it is). The copies checked in under `docs/`
//! are rewritten by `ROSTRUM_WRITE_CONTRACT=1 cargo test --test it contract`, and the tests fail
//! when they differ from these.

use std::collections::BTreeMap;

use schemars::generate::{SchemaGenerator, SchemaSettings};
use schemars::{JsonSchema, Schema};
use serde_json::{Map, Value, json};

use crate::protocol::{Hello, Outgoing, WireCommand};

/// The command that rewrites every generated document under `docs/`.
pub const WRITE_COMMAND: &str = "ROSTRUM_WRITE_CONTRACT=1 cargo test --test it contract";

/// Every generated document of the WebSocket protocol, by its path under `docs/`, as it is
/// written there. The HTTP API's, `openapi.json`, is generated next to its routes
/// ([`crate::http::openapi`]) and written with [`pretty`].
pub fn documents() -> BTreeMap<String, String> {
    let mut out = BTreeMap::new();
    let (client, server) = (client_frames(), server_frames());
    for (side, frames) in [("client", &client), ("server", &server)] {
        for (kind, schema) in frames {
            out.insert(format!("schema/{side}/{kind}.json"), pretty(schema));
        }
    }
    out.insert("asyncapi.json".into(), pretty(&asyncapi(&client, &server)));
    out
}

/// Pretty JSON with a final newline, as the documents are checked in.
pub fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).expect("JSON values serialize");
    s.push('\n');
    s
}

/// A 2020-12 generator for what clients send (`deserialize`) or receive (`serialize`), its
/// definitions kept under `defs` (a JSON pointer ending in `/`).
pub fn generator(serialize: bool, defs: &'static str) -> SchemaGenerator {
    let settings = SchemaSettings::draft2020_12().with(|s| s.definitions_path = defs.into());
    let settings = if serialize {
        settings.for_serialize()
    } else {
        settings.for_deserialize()
    };
    settings.into_generator()
}

/// One schema per client frame `type`: `hello`, `resync` and every command (with its `req`).
pub fn client_frames() -> BTreeMap<String, Value> {
    let mut g = generator(false, "/$defs/");
    let commands = g.root_schema_for::<WireCommand>();
    let hello = g.root_schema_for::<Hello>();
    let defs = Value::Object(g.take_definitions(true));
    let req = json!({"description": "The client request id: unique per client, echoed in the answer.",
                     "type": "integer", "minimum": 0});
    let mut frames = BTreeMap::new();
    for mut variant in variants(&commands) {
        let kind = tag_of(&variant);
        add_property(&mut variant, "req", req.clone(), true);
        frames.insert(kind, variant);
    }
    let mut hello = strip_root(hello.to_value());
    add_property(&mut hello, "type", json!({"const": "hello"}), true);
    frames.insert("hello".into(), hello);
    frames.insert(
        "resync".into(),
        json!({"description": "Ask for a fresh snapshot (after a gap in seq or a patch that did not apply).",
               "type": "object", "additionalProperties": false, "required": ["type"],
               "properties": {"type": {"const": "resync"}}}),
    );
    frames
        .into_iter()
        .map(|(k, v)| {
            let v = standalone(v, &defs, &format!("client/{k}"));
            (k, v)
        })
        .collect()
}

/// One schema per server frame `type`.
pub fn server_frames() -> BTreeMap<String, Value> {
    let mut g = generator(true, "/$defs/");
    let frames = g.root_schema_for::<Outgoing<'static>>();
    let defs = Value::Object(g.take_definitions(true));
    variants(&frames)
        .into_iter()
        .map(|v| {
            let kind = tag_of(&v);
            let v = standalone(v, &defs, &format!("server/{kind}"));
            (kind, v)
        })
        .collect()
}

/// The variants of an internally tagged enum's schema (`oneOf`, or `anyOf`).
fn variants(schema: &Schema) -> Vec<Value> {
    let v = schema.as_value();
    v.get("oneOf")
        .or_else(|| v.get("anyOf"))
        .and_then(Value::as_array)
        .cloned()
        .expect("a tagged enum's schema lists its variants")
}

/// The `type` a frame schema fixes.
fn tag_of(variant: &Value) -> String {
    let t = &variant["properties"]["type"];
    t.get("const")
        .or_else(|| t["enum"].get(0))
        .and_then(Value::as_str)
        .unwrap_or_else(|| panic!("a frame schema fixes its type: {variant}"))
        .to_owned()
}

fn add_property(schema: &mut Value, name: &str, property: Value, required: bool) {
    schema["properties"][name] = property;
    if required {
        let list = schema
            .as_object_mut()
            .expect("an object schema")
            .entry("required")
            .or_insert_with(|| json!([]));
        if let Some(list) = list.as_array_mut() {
            list.insert(0, json!(name));
        }
    }
}

/// A root schema without its `$schema` and `$defs` (they are added back per document).
fn strip_root(mut v: Value) -> Value {
    if let Some(o) = v.as_object_mut() {
        o.remove("$schema");
        o.remove("$defs");
    }
    v
}

/// A self-contained document for one frame: the dialect, an id, and only the definitions it uses.
fn standalone(schema: Value, defs: &Value, name: &str) -> Value {
    let mut used = BTreeMap::new();
    collect_refs(&schema, defs, &mut used);
    let mut out = Map::new();
    out.insert(
        "$schema".into(),
        json!("https://json-schema.org/draft/2020-12/schema"),
    );
    out.insert(
        "$id".into(),
        json!(format!("https://rostrum.invalid/schema/{name}.json")),
    );
    if let Value::Object(o) = schema {
        out.extend(o);
    }
    if !used.is_empty() {
        out.insert(
            "$defs".into(),
            Value::Object(used.into_iter().collect::<Map<_, _>>()),
        );
    }
    Value::Object(out)
}

/// Every definition `v` refers to (`#/$defs/NAME`), transitively.
fn collect_refs(v: &Value, defs: &Value, used: &mut BTreeMap<String, Value>) {
    match v {
        Value::Object(o) => {
            if let Some(name) = o
                .get("$ref")
                .and_then(Value::as_str)
                .and_then(|r| r.strip_prefix("#/$defs/"))
                && !used.contains_key(name)
            {
                let def = defs[name].clone();
                used.insert(name.to_owned(), def.clone());
                collect_refs(&def, defs, used);
            }
            o.values().for_each(|x| collect_refs(x, defs, used));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_refs(x, defs, used)),
        _ => {}
    }
}

/// Rewrite `#/$defs/NAME` references to `#/components/schemas/PREFIX.NAME`... by `rename`.
fn rewrite_refs(v: &mut Value, rename: &dyn Fn(&str) -> String) {
    match v {
        Value::Object(o) => {
            if let Some(Value::String(r)) = o.get_mut("$ref")
                && let Some(name) = r.strip_prefix("#/$defs/")
            {
                *r = rename(name);
            }
            o.values_mut().for_each(|x| rewrite_refs(x, rename));
        }
        Value::Array(a) => a.iter_mut().for_each(|x| rewrite_refs(x, rename)),
        _ => {}
    }
}

/// `/ws` as AsyncAPI 3.0: one channel, a message per frame type, the frame schemas as the
/// messages' payloads (their definitions under `components.schemas`, prefixed by side).
fn asyncapi(client: &BTreeMap<String, Value>, server: &BTreeMap<String, Value>) -> Value {
    let mut schemas = Map::new();
    let mut messages = Map::new();
    let mut channel_messages = Map::new();
    let mut ops = Map::new();
    for (side, frames) in [("client", client), ("server", server)] {
        let prefix = if side == "client" { "In" } else { "Out" };
        let rename = |n: &str| format!("#/components/schemas/{prefix}.{n}");
        let mut refs = Vec::new();
        for (kind, schema) in frames {
            let mut payload = schema.clone();
            let o = payload.as_object_mut().expect("frame schemas are objects");
            o.remove("$schema");
            o.remove("$id");
            if let Some(Value::Object(defs)) = o.remove("$defs") {
                for (name, mut def) in defs {
                    rewrite_refs(&mut def, &rename);
                    schemas.insert(format!("{prefix}.{name}"), def);
                }
            }
            rewrite_refs(&mut payload, &rename);
            let id = format!("{side}.{kind}");
            messages.insert(
                id.clone(),
                json!({"name": kind, "title": format!("{kind} ({side})"), "contentType": "application/json",
                       "payload": payload}),
            );
            channel_messages.insert(
                id.clone(),
                json!({"$ref": format!("#/components/messages/{id}")}),
            );
            refs.push(json!({"$ref": format!("#/channels/ws/messages/{id}")}));
        }
        let (op, action, what) = if side == "client" {
            (
                "clientSends",
                "receive",
                "What a client sends: the server receives it.",
            )
        } else {
            ("serverSends", "send", "What the server sends to a client.")
        };
        ops.insert(
            op.into(),
            json!({"action": action, "summary": what, "channel": {"$ref": "#/channels/ws"}, "messages": refs}),
        );
    }
    json!({
        "asyncapi": "3.0.0",
        "info": {
            "title": "rostrum wire protocol",
            "version": crate::protocol::VERSION.to_string(),
            "description": "One WebSocket per client at GET /ws: JSON text frames with a `type`. The first frame is `hello`, or the hello rides in the handshake: offer the subprotocols `rostrum` and `rostrum.hello.` + the hello's JSON in base64url without padding, and the server selects `rostrum` and welcomes the socket as it opens. Then snapshots, updates, acks and errors. Written for people in docs/protocol.md; generated from the code by rostrum's contract module."
        },
        "defaultContentType": "application/json",
        "channels": {"ws": {
            "address": "/ws",
            "title": "A client's connection",
            "messages": channel_messages,
            "bindings": {"ws": {"headers": {
                "type": "object",
                "properties": {"Sec-WebSocket-Protocol": {
                    "type": "string",
                    "description": "Optional: `rostrum, rostrum.hello.<the hello, base64url without padding>` (docs/protocol.md, \"The hello in the handshake\").",
                    "examples": ["rostrum, rostrum.hello.eyJ0eXBlIjoiaGVsbG8iLCJ2IjoyLCJzZXNzaW9uIjoiNmMxZjBjMmE5ZDNiNGU3ZjhhMWIyYzNkNGU1ZjZhN2IifQ"]
                }}
            }}}
        }},
        "operations": ops,
        "components": {"messages": messages, "schemas": schemas}
    })
}

/// The schema of `T` for an OpenAPI document: definitions under `components.schemas`.
pub fn component<T: JsonSchema>(g: &mut SchemaGenerator) -> Value {
    g.subschema_for::<T>().to_value()
}
