//! What clients send, read in one pass: each text frame is deserialized once into its
//! top-level fields (`req` and `type` picked out, the rest kept as serde's own internally tagged
//! enums keep them), and the message its `type` names is built from the rest. Whether a
//! mistake is in the JSON, the `req`, the `type` or a field is known from where it was found,
//! never from an error's text.

use std::fmt;

use serde::de::{self, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::{WireCommand, WireError};

/// Where a client left off: the log's epoch and the last seq it applied.
#[derive(schemars::JsonSchema, Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Resume {
    /// The session log's epoch.
    pub epoch: u32,
    /// The last seq applied.
    pub seq: u64,
}

/// The first message on every connection (unknown fields are refused).
#[derive(schemars::JsonSchema, Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Hello {
    /// Protocol version.
    pub v: u32,
    /// Session id.
    pub session: String,
    /// Capability token from the link's fragment; absent for the public view.
    #[serde(default)]
    pub token: Option<String>,
    /// The client secret a previous `welcome` issued, presented on reconnect so resent
    /// commands are answered from the record; anything else gets a fresh one.
    #[serde(default)]
    pub client: Option<String>,
    /// Where the client left off, when reconnecting.
    #[serde(default)]
    pub resume: Option<Resume>,
}

/// A parsed client message.
#[derive(Debug, Clone)]
pub enum Incoming {
    /// `hello`.
    Hello(Hello),
    /// `resync`: send a fresh snapshot.
    Resync,
    /// A command with its client request id.
    Command {
        /// Client request id.
        req: u64,
        /// The command.
        command: WireCommand,
    },
}

/// Parse one text frame. On error, the client's `req` is returned too when it could be read.
pub fn parse(text: &str) -> Result<Incoming, (Option<u64>, WireError)> {
    let top: Top =
        serde_json::from_str(text).map_err(|e| (None, WireError::BadJson(e.to_string())))?;
    let Top::Object { req, kind, rest } = top else {
        return Err((None, WireError::BadJson("expected a JSON object".into())));
    };
    let req = match req {
        None => None,
        Some(v) => Some(v.as_u64().ok_or((
            None,
            WireError::BadField("req: must be a non-negative integer".into()),
        ))?),
    };
    let Some(Value::String(kind)) = kind else {
        return Err((req, WireError::BadField("type: missing".into())));
    };
    match kind.as_str() {
        "hello" => Hello::deserialize(Value::Object(rest))
            .map(Incoming::Hello)
            .map_err(|e| (req, WireError::BadField(e.to_string()))),
        "resync" => match rest.keys().next() {
            Some(k) => Err((
                req,
                WireError::BadField(format!("unknown field `{k}`: resync has no fields")),
            )),
            None => Ok(Incoming::Resync),
        },
        command if WireCommand::TYPES.contains(&command) => {
            // The command's derive reads its own tag back: it is kept with its fields.
            let mut fields = rest;
            fields.insert("type".into(), Value::String(kind));
            let command = WireCommand::deserialize(Value::Object(fields))
                .map_err(|e| (req, WireError::BadField(e.to_string())))?;
            let req = req.ok_or((
                None,
                WireError::BadField("req: every command needs a client request id".into()),
            ))?;
            Ok(Incoming::Command { req, command })
        }
        _ => Err((req, WireError::UnknownType(kind))),
    }
}

/// A frame's top level: an object's `req`, `type` and other fields, or something else (which
/// is still read to its end, so trailing garbage is a JSON error as it always was).
enum Top {
    NotObject,
    Object {
        req: Option<Value>,
        kind: Option<Value>,
        rest: Map<String, Value>,
    },
}

impl<'de> Deserialize<'de> for Top {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TopVisitor)
    }
}

struct TopVisitor;

impl<'de> Visitor<'de> for TopVisitor {
    type Value = Top;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_bool<E: de::Error>(self, _: bool) -> Result<Top, E> {
        Ok(Top::NotObject)
    }

    fn visit_i64<E: de::Error>(self, _: i64) -> Result<Top, E> {
        Ok(Top::NotObject)
    }

    fn visit_u64<E: de::Error>(self, _: u64) -> Result<Top, E> {
        Ok(Top::NotObject)
    }

    fn visit_f64<E: de::Error>(self, _: f64) -> Result<Top, E> {
        Ok(Top::NotObject)
    }

    fn visit_str<E: de::Error>(self, _: &str) -> Result<Top, E> {
        Ok(Top::NotObject)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Top, E> {
        Ok(Top::NotObject)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Top, A::Error> {
        while seq.next_element::<IgnoredAny>()?.is_some() {}
        Ok(Top::NotObject)
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Top, A::Error> {
        let (mut req, mut kind, mut rest) = (None, None, Map::new());
        // A repeated key keeps its last value, as a JSON object read whole does.
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "req" => req = Some(map.next_value()?),
                "type" => kind = Some(map.next_value()?),
                _ => {
                    let value = map.next_value()?;
                    rest.insert(key, value);
                }
            }
        }
        Ok(Top::Object { req, kind, rest })
    }
}
