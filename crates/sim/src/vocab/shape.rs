//! What a value of the format looks like, read from its serde
//! `Deserialize` impl: a struct's field names in their order, each field's
//! shape (a bool, a number, text, a list, one of some names, optional), an
//! enum's names. A form built from this (the page's editor) lists every
//! field the reader accepts, so a new field needs no second list.
//!
//! It works by deserialising from a probe that records the first thing the
//! impl asks for and then refuses: serde's derive tells a deserializer the
//! fields of a struct and the variants of an enum when it asks for them.

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, IntoDeserializer, MapAccess, SeqAccess, Visitor};
use std::cell::RefCell;

/// The shape of one value, as its `Deserialize` impl asks for it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Shape {
    Bool,
    /// A whole number (any width, signed or not).
    Integer,
    Float,
    /// Text: strings, and what the format writes as strings (durations,
    /// addresses).
    Text,
    /// A list of values of this shape.
    List(Box<Shape>),
    /// One of these names (a unit-variant enum).
    Choice(&'static [&'static str]),
    /// May be left out.
    Optional(Box<Shape>),
    /// A struct with these fields.
    Struct(&'static [&'static str]),
    /// Anything else (maps, tuples, self-describing values).
    Other,
}

type Error = de::value::Error;

fn refused() -> Error {
    de::Error::custom("shape probe")
}

/// Records the shape asked for in `out`, then refuses (or, for options and
/// lists, goes on into the inner value).
struct Probe<'a> {
    out: &'a RefCell<Option<Shape>>,
}

impl Probe<'_> {
    fn record(&self, shape: Shape) -> Error {
        *self.out.borrow_mut() = Some(shape);
        refused()
    }
}

macro_rules! record {
    ($($method:ident => $shape:expr),* $(,)?) => {
        $(fn $method<V: Visitor<'de>>(self, _: V) -> Result<V::Value, Error> {
            Err(self.record($shape))
        })*
    };
}

impl<'de> de::Deserializer<'de> for Probe<'_> {
    type Error = Error;

    record! {
        deserialize_any => Shape::Other,
        deserialize_bool => Shape::Bool,
        deserialize_i8 => Shape::Integer,
        deserialize_i16 => Shape::Integer,
        deserialize_i32 => Shape::Integer,
        deserialize_i64 => Shape::Integer,
        deserialize_i128 => Shape::Integer,
        deserialize_u8 => Shape::Integer,
        deserialize_u16 => Shape::Integer,
        deserialize_u32 => Shape::Integer,
        deserialize_u64 => Shape::Integer,
        deserialize_u128 => Shape::Integer,
        deserialize_f32 => Shape::Float,
        deserialize_f64 => Shape::Float,
        deserialize_char => Shape::Text,
        deserialize_str => Shape::Text,
        deserialize_string => Shape::Text,
        deserialize_bytes => Shape::Other,
        deserialize_byte_buf => Shape::Other,
        deserialize_unit => Shape::Other,
        deserialize_map => Shape::Other,
        deserialize_identifier => Shape::Text,
        deserialize_ignored_any => Shape::Other,
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let inner = RefCell::new(None);
        let _ = visitor.visit_some(Probe { out: &inner });
        let shape = inner.into_inner().unwrap_or(Shape::Other);
        Err(self.record(Shape::Optional(Box::new(shape))))
    }

    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        let inner = RefCell::new(None);
        let _ = visitor.visit_seq(OneElement { out: Some(&inner) });
        let shape = inner.into_inner().unwrap_or(Shape::Other);
        Err(self.record(Shape::List(Box::new(shape))))
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value, Error> {
        Err(self.record(Shape::Other))
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        _: V,
    ) -> Result<V::Value, Error> {
        Err(self.record(Shape::Other))
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: V,
    ) -> Result<V::Value, Error> {
        Err(self.record(Shape::Other))
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, Error> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        fields: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Error> {
        Err(self.record(Shape::Struct(fields)))
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        variants: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, Error> {
        Err(self.record(Shape::Choice(variants)))
    }
}

/// A sequence of one element, probed.
struct OneElement<'a> {
    out: Option<&'a RefCell<Option<Shape>>>,
}

impl<'de> SeqAccess<'de> for OneElement<'_> {
    type Error = Error;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, Error> {
        match self.out.take() {
            Some(out) => seed.deserialize(Probe { out }).map(Some),
            None => Ok(None),
        }
    }
}

/// A map holding only `key`, whose value is probed.
struct OneField<'a> {
    key: Option<&'static str>,
    out: &'a RefCell<Option<Shape>>,
}

impl<'de> MapAccess<'de> for OneField<'_> {
    type Error = Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, Error> {
        match self.key.take() {
            Some(k) => seed.deserialize(k.into_deserializer()).map(Some),
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, Error> {
        seed.deserialize(Probe { out: self.out })
    }
}

/// A struct deserializer that hands the impl one field, probed.
struct FieldProbe<'a> {
    key: &'static str,
    out: &'a RefCell<Option<Shape>>,
}

impl<'de> de::Deserializer<'de> for FieldProbe<'_> {
    type Error = Error;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, Error> {
        visitor.visit_map(OneField {
            key: Some(self.key),
            out: self.out,
        })
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf option unit unit_struct newtype_struct seq tuple
        tuple_struct map struct enum identifier ignored_any
    }
}

/// The shape of `T`.
pub fn shape_of<'de, T: Deserialize<'de>>() -> Shape {
    let out = RefCell::new(None);
    let _ = T::deserialize(Probe { out: &out });
    out.into_inner().unwrap_or(Shape::Other)
}

/// The names of a unit-variant enum, as files write them (aliases aside).
pub fn choices<'de, T: Deserialize<'de>>() -> &'static [&'static str] {
    match shape_of::<T>() {
        Shape::Choice(names) => names,
        _ => &[],
    }
}

/// The fields of struct `T`, in their order, with their shapes.
pub fn fields_of<'de, T: Deserialize<'de>>() -> Vec<(&'static str, Shape)> {
    let Shape::Struct(fields) = shape_of::<T>() else {
        return Vec::new();
    };
    fields
        .iter()
        .map(|&key| {
            let out = RefCell::new(None);
            let _ = T::deserialize(FieldProbe { key, out: &out });
            (key, out.into_inner().unwrap_or(Shape::Other))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::vocab::nat::NatPreset;
    use crate::vocab::spec::LinkSpec;
    use mobike_protocol::Settings;

    #[test]
    fn the_settings_type_tells_its_fields_and_their_shapes() {
        let fields = fields_of::<Settings>();
        let get = |k: &str| fields.iter().find(|(n, _)| *n == k).map(|(_, s)| s.clone());
        assert_eq!(fields[0].0, "mobike");
        assert_eq!(get("mobike"), Some(Shape::Bool));
        assert_eq!(get("retransmit_tries"), Some(Shape::Integer));
        assert_eq!(get("cookie2_len"), Some(Shape::Integer));
        assert_eq!(get("retransmit_factor"), Some(Shape::Float));
        assert_eq!(get("retransmit_initial"), Some(Shape::Text));
        assert_eq!(
            get("refuse_addresses"),
            Some(Shape::List(Box::new(Shape::Text)))
        );
        assert_eq!(
            get("probe_interval"),
            Some(Shape::Optional(Box::new(Shape::Text)))
        );
        assert_eq!(
            get("list_policy"),
            Some(Shape::Choice(&["strict", "follow"]))
        );
        assert_eq!(get("no_such_setting"), None);
    }

    #[test]
    fn enums_and_specs_tell_their_names() {
        assert!(choices::<NatPreset>().contains(&"carrier_grade"));
        assert_eq!(
            choices::<mobike_protocol::Role>(),
            ["initiator", "responder"]
        );
        let link = fields_of::<LinkSpec>();
        assert_eq!(
            link.iter().map(|(k, _)| *k).collect::<Vec<_>>(),
            ["id", "label", "delay", "jitter", "loss", "duplicate", "up"]
        );
        assert_eq!(choices::<u32>(), [] as [&str; 0]);
    }
}
