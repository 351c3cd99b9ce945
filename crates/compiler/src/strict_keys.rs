//! Reads a struct that is lenient about unknown keys as if it said
//! `#[serde(deny_unknown_fields)]`.
//!
//! The wire types in `tycho_api` ignore keys they do not know, so that an older client reads a
//! newer server's status and a newer server reads the annotations an older one wrote. The
//! policy reuses some of them (its resource blocks are [`tycho_api::Resources`]) but must
//! refuse a typo there as it does everywhere else. This wrapper gives the struct's own derived
//! `Deserialize` a map whose keys are checked against the field names the derive itself passes
//! to `deserialize_struct`, so the names are not written a second time, and a stray key fails
//! with serde's own `unknown field` error, raised while the key is read, where the
//! `deny_unknown_fields` attribute would raise it (positions in the text included).

use serde::Deserialize;
use serde::de::{self, DeserializeSeed, Deserializer, IntoDeserializer, MapAccess, Visitor};

/// `#[serde(deserialize_with = "strict_keys::deserialize")]` on a field whose type is a struct.
pub(crate) fn deserialize<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    T::deserialize(Strict(deserializer))
}

/// The deserializer, whose struct maps refuse keys that are not fields.
struct Strict<D>(D);

impl<'de, D: Deserializer<'de>> Deserializer<'de> for Strict<D> {
    type Error = D::Error;

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        name: &'static str,
        fields: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, D::Error> {
        self.0
            .deserialize_struct(name, fields, StrictVisitor { visitor, fields })
    }

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, D::Error> {
        self.0.deserialize_any(visitor)
    }

    // Only structs are read through this wrapper; anything else is read as it would be.
    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string bytes byte_buf
        option unit unit_struct newtype_struct seq tuple tuple_struct map enum identifier
        ignored_any
    }
}

struct StrictVisitor<V> {
    visitor: V,
    fields: &'static [&'static str],
}

impl<'de, V: Visitor<'de>> Visitor<'de> for StrictVisitor<V> {
    type Value = V::Value;

    fn expecting(&self, formatter: &mut std::fmt::Formatter) -> std::fmt::Result {
        self.visitor.expecting(formatter)
    }

    fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<V::Value, A::Error> {
        self.visitor.visit_map(StrictMap {
            map,
            fields: self.fields,
        })
    }
}

struct StrictMap<A> {
    map: A,
    fields: &'static [&'static str],
}

impl<'de, A: MapAccess<'de>> MapAccess<'de> for StrictMap<A> {
    type Error = A::Error;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, A::Error> {
        self.map.next_key_seed(KnownKey {
            seed,
            fields: self.fields,
        })
    }

    fn next_value_seed<S: DeserializeSeed<'de>>(&mut self, seed: S) -> Result<S::Value, A::Error> {
        self.map.next_value_seed(seed)
    }

    fn size_hint(&self) -> Option<usize> {
        self.map.size_hint()
    }
}

/// A key that must be one of `fields`, then handed to the struct's own field visitor.
struct KnownKey<K> {
    seed: K,
    fields: &'static [&'static str],
}

impl<'de, K: DeserializeSeed<'de>> DeserializeSeed<'de> for KnownKey<K> {
    type Value = K::Value;

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<K::Value, D::Error> {
        let key = String::deserialize(deserializer)?;
        if !self.fields.contains(&key.as_str()) {
            return Err(de::Error::unknown_field(&key, self.fields));
        }
        self.seed.deserialize(key.into_deserializer())
    }
}
