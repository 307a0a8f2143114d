//! Events as clients see them: one flat object per event (`seq`, `at`, `actor`, `type` and the
//! fact's own fields), with what the audience may not see taken out. Serialized straight into
//! the frame: each event is written once per audience, with no intermediate JSON tree.

use serde::Serialize;
use serde::ser::{self, Impossible, SerializeMap, SerializeStructVariant};
use serde_json::Value;

use super::Audience;
use crate::queue::{Event, Fact};

/// An event as one audience sees it on the wire.
#[derive(Debug, Clone, Copy)]
pub struct WireEvent<'a> {
    seq: u64,
    event: &'a Event,
    public: bool,
}

impl<'a> WireEvent<'a> {
    /// Event `seq` as `audience` sees it, or `None` if it is not theirs to see. Self-declared
    /// gender is never sent; the public does not see notes, joins, or profile fields beyond
    /// name, affiliation and modality.
    pub fn of(seq: u64, event: &'a Event, audience: Audience) -> Option<Self> {
        let public = audience == Audience::Public;
        let hidden = matches!(
            event.fact,
            Fact::ParticipantJoined { .. } | Fact::ProfileUpdated { .. }
        );
        (!(public && hidden)).then_some(Self { seq, event, public })
    }
}

/// An event as `audience` sees it, as a JSON value (for exports), or `None` if it is not
/// theirs to see.
pub fn event_json(seq: u64, e: &Event, audience: Audience) -> Option<Value> {
    WireEvent::of(seq, e, audience).map(|w| serde_json::to_value(w).expect("events serialize"))
}

impl Serialize for WireEvent<'_> {
    fn serialize<S: ser::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("seq", &self.seq)?;
        map.serialize_entry("at", &self.event.at)?;
        map.serialize_entry("actor", &self.event.actor)?;
        // The stored form nests the fact under its name; on the wire it is flat, with a `type`.
        self.event.fact.serialize(Flat {
            map: &mut map,
            public: self.public,
        })?;
        map.end()
    }
}

/// Writes a fact (an externally tagged enum of unit and struct variants) into the event's map:
/// its name as `type`, then its fields.
struct Flat<'m, M> {
    map: &'m mut M,
    public: bool,
}

/// A fact's field into the event's map, without what is not sent.
impl<M: SerializeMap> SerializeStructVariant for Flat<'_, M> {
    type Ok = ();
    type Error = M::Error;

    fn serialize_field<T: Serialize + ?Sized>(
        &mut self,
        key: &'static str,
        value: &T,
    ) -> Result<(), M::Error> {
        match key {
            "note" if self.public => Ok(()),
            // Profiles come with joins and proxies only: rare enough to go through a value.
            "profile" => {
                let mut profile = serde_json::to_value(value).map_err(ser::Error::custom)?;
                if let Value::Object(fields) = &mut profile {
                    fields.remove("gender");
                }
                self.map.serialize_entry(key, &profile)
            }
            _ => self.map.serialize_entry(key, value),
        }
    }

    fn end(self) -> Result<(), M::Error> {
        Ok(())
    }
}

/// Anything but a unit or struct variant is not a fact.
macro_rules! not_a_fact {
    ($($method:ident($($arg:ty),*) -> $ret:ty;)*) => {
        $(fn $method(self, $(_: $arg),*) -> Result<$ret, M::Error> {
            Err(ser::Error::custom("a fact is a unit or struct variant"))
        })*
    };
}

impl<'m, M: SerializeMap> ser::Serializer for Flat<'m, M> {
    type Ok = ();
    type Error = M::Error;
    type SerializeSeq = Impossible<(), M::Error>;
    type SerializeTuple = Impossible<(), M::Error>;
    type SerializeTupleStruct = Impossible<(), M::Error>;
    type SerializeTupleVariant = Impossible<(), M::Error>;
    type SerializeMap = Impossible<(), M::Error>;
    type SerializeStruct = Impossible<(), M::Error>;
    type SerializeStructVariant = Self;

    fn serialize_unit_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
    ) -> Result<(), M::Error> {
        self.map.serialize_entry("type", variant)
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Self, M::Error> {
        self.map.serialize_entry("type", variant)?;
        Ok(self)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: &T,
    ) -> Result<(), M::Error> {
        Err(ser::Error::custom("a fact is a unit or struct variant"))
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result<(), M::Error> {
        Err(ser::Error::custom("a fact is a unit or struct variant"))
    }

    fn serialize_some<T: Serialize + ?Sized>(self, _: &T) -> Result<(), M::Error> {
        Err(ser::Error::custom("a fact is a unit or struct variant"))
    }

    not_a_fact! {
        serialize_bool(bool) -> ();
        serialize_i8(i8) -> ();
        serialize_i16(i16) -> ();
        serialize_i32(i32) -> ();
        serialize_i64(i64) -> ();
        serialize_u8(u8) -> ();
        serialize_u16(u16) -> ();
        serialize_u32(u32) -> ();
        serialize_u64(u64) -> ();
        serialize_f32(f32) -> ();
        serialize_f64(f64) -> ();
        serialize_char(char) -> ();
        serialize_str(&str) -> ();
        serialize_bytes(&[u8]) -> ();
        serialize_none() -> ();
        serialize_unit() -> ();
        serialize_unit_struct(&'static str) -> ();
        serialize_seq(Option<usize>) -> Self::SerializeSeq;
        serialize_tuple(usize) -> Self::SerializeTuple;
        serialize_tuple_struct(&'static str, usize) -> Self::SerializeTupleStruct;
        serialize_tuple_variant(&'static str, u32, &'static str, usize) -> Self::SerializeTupleVariant;
        serialize_map(Option<usize>) -> Self::SerializeMap;
        serialize_struct(&'static str, usize) -> Self::SerializeStruct;
    }
}
