//! Values of query parameters read from their text. Each type says once what it accepts:
//! the same rule parses it, words its 400 and gives its OpenAPI schema.
//!
//! A type implements [`QueryValue`] and then [`query_value!`](query_value), which derives
//! its `Deserialize` (by [`deserialize_text`]) and its `ToSchema` (from
//! [`QueryValue::schema`]); a parameter struct uses it as a field with `#[param(inline)]`.

use std::fmt;
use std::marker::PhantomData;

use chrono::NaiveDate;
use serde::Deserializer;
use serde::de::{self, Visitor};
use utoipa::openapi::schema::{KnownFormat, ObjectBuilder, SchemaFormat, Type};

/// A query value read from its text.
pub trait QueryValue: Sized {
    /// What a valid value looks like, as a 400 says it: `an integer from 1 to 100`.
    fn expected() -> String;
    /// The value `raw` (trimmed) names, if it is valid.
    fn parse(raw: &str) -> Option<Self>;
    /// Its OpenAPI schema.
    fn schema() -> ObjectBuilder;
}

/// Implements `Deserialize` (by [`deserialize_text`]) and `ToSchema` (from
/// [`QueryValue::schema`]) for a [`QueryValue`].
macro_rules! query_value {
    ($type:ty) => {
        impl<'de> serde::Deserialize<'de> for $type {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                $crate::api::values::deserialize_text(deserializer)
            }
        }

        impl utoipa::PartialSchema for $type {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                <$type as $crate::api::values::QueryValue>::schema()
                    .build()
                    .into()
            }
        }

        impl utoipa::ToSchema for $type {}
    };
}
pub(crate) use query_value;

/// Reads a [`QueryValue`] from text; a value it does not accept is an error saying what is
/// expected and what was given (at most 100 characters of it).
pub fn deserialize_text<'de, T: QueryValue, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    /// Visits the text of a `T`.
    struct Text<T>(PhantomData<T>);

    impl<T: QueryValue> Visitor<'_> for Text<T> {
        type Value = T;

        fn expecting(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
            formatter.write_str(&T::expected())
        }

        fn visit_str<E: de::Error>(self, raw: &str) -> Result<T, E> {
            T::parse(raw.trim()).ok_or_else(|| {
                E::custom(format_args!(
                    "expected {}, got {:?}",
                    T::expected(),
                    raw.chars().take(100).collect::<String>()
                ))
            })
        }
    }

    deserializer.deserialize_str(Text(PhantomData))
}

/// An integer schema from `minimum` to `maximum` (none: no upper bound).
pub fn integer_schema(minimum: i64, maximum: Option<i64>, format: KnownFormat) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::Integer)
        .format(Some(SchemaFormat::KnownFormat(format)))
        .minimum(Some(minimum))
        .maximum(maximum)
}

/// A positive integer (`offset`, `minimal_events_count`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Positive(pub i64);

impl QueryValue for Positive {
    fn expected() -> String {
        "a positive integer".into()
    }

    fn parse(raw: &str) -> Option<Self> {
        raw.parse().ok().filter(|n| *n >= 1).map(Self)
    }

    fn schema() -> ObjectBuilder {
        integer_schema(1, None, KnownFormat::Int64)
    }
}

query_value!(Positive);

/// A day, `YYYY-MM-DD`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Day(pub NaiveDate);

impl QueryValue for Day {
    fn expected() -> String {
        "a date as YYYY-MM-DD".into()
    }

    fn parse(raw: &str) -> Option<Self> {
        NaiveDate::parse_from_str(raw, "%Y-%m-%d").ok().map(Self)
    }

    fn schema() -> ObjectBuilder {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(KnownFormat::Date)))
    }
}

query_value!(Day);

/// Yes or no: `true` or `1`, `false` or `0`; no by default.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Flag(pub bool);

impl QueryValue for Flag {
    fn expected() -> String {
        "true or false".into()
    }

    fn parse(raw: &str) -> Option<Self> {
        match raw {
            "true" | "1" => Some(Self(true)),
            "false" | "0" => Some(Self(false)),
            _ => None,
        }
    }

    fn schema() -> ObjectBuilder {
        ObjectBuilder::new().schema_type(Type::Boolean)
    }
}

query_value!(Flag);

#[cfg(test)]
mod tests {
    use super::{Day, Flag, Positive, QueryValue};

    #[test]
    fn each_value_takes_its_text_and_nothing_else() {
        assert_eq!(Positive::parse("12"), Some(Positive(12)));
        for bad in ["0", "-1", "1.5", "ten", "99999999999999999999", ""] {
            assert_eq!(Positive::parse(bad), None, "{bad}");
        }
        assert!(Day::parse("2026-02-28").is_some());
        for bad in ["2026-02-30", "yesterday", "2026-2-1x"] {
            assert_eq!(Day::parse(bad), None, "{bad}");
        }
        assert_eq!(Flag::parse("1"), Some(Flag(true)));
        assert_eq!(Flag::parse("false"), Some(Flag(false)));
        assert_eq!(Flag::parse("maybe"), None);
    }

    #[test]
    fn a_refused_text_says_what_was_expected_and_what_came() {
        let error = serde_json::from_value::<Positive>(serde_json::json!("0"))
            .expect_err("0 is not positive")
            .to_string();
        assert_eq!(error, "expected a positive integer, got \"0\"");
    }
}
