//! User-side values with precomputed facets (dcs-semantics §2.1, §2.3).
//!
//! # Design
//!
//! A user is built once and then evaluated against hundreds of entities, so
//! every coercion an operator may need is derived from the JSON exactly once,
//! in [`DynValue::from_json`], and stored as an optional *facet*:
//!
//! | JSON    | string                      | float      | int              | timestamp | bool | array / object          |
//! |---------|-----------------------------|------------|------------------|-----------|------|-------------------------|
//! | string  | itself                      | f64 parse  | i64 parse        | §2.3      | –    | –                       |
//! | number  | f64 `Display` (`1.0`→`"1"`) | f64        | if exactly integral | –      | –    | –                       |
//! | bool    | `"true"` / `"false"`        | –          | –                | –         | yes  | –                       |
//! | array   | compact JSON text           | –          | –                | –         | –    | element string facets   |
//! | object  | none                        | –          | –                | –         | –    | value string facets     |
//! | null    | none                        | –          | –                | –         | –    | –                       |
//!
//! Arrays and objects keep only what the operators read from them: the string
//! facet of each element / member (`eq` and the `array_contains_*` family), plus
//! a sorted, de-duplicated copy of the element strings for allocation-free
//! membership tests. Elements without a string facet (null, objects) are left
//! out of that copy: §5.2 says they read as `""`, but in the reference that
//! substitute `""` is a static string whose hash differs from every real `""`
//! (statsig-rust `interned_string.rs`: `EMPTY` has hash 0), so its hash-set
//! lookup misses it and such elements match no target element (verified
//! against statsig-rust 0.24.0; a 7-bit hash-tag collision can make the
//! reference find it anyway, about 1 time in 128, at random).
//!
//! The Unicode-lowercased string facet (case-insensitive operators) is computed
//! lazily on first use and cached in a [`OnceLock`], so `DynValue` stays
//! `Send + Sync + Clone` and values never used case-insensitively pay nothing.
//!
//! JSON text of arrays (and of nested containers) is produced by `serde_json`
//! itself, so object members appear in the order the [`Value`] holds them:
//! insertion order with serde_json's `preserve_order` feature (as in the
//! reference, which always enables it), sorted keys without it.

use serde_json::Value;
use std::collections::HashMap;
use std::sync::OnceLock;

/// The JSON type a value came from (plus the synthetic int-only value).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
enum Kind {
    #[default]
    Null,
    Bool,
    Number,
    String,
    Array,
    Object,
    /// Built by [`DynValue::int_only`]; carries no JSON.
    IntOnly,
}

/// Array facet: what the operators need from a user array.
#[derive(Clone, Debug)]
pub(crate) struct ArrayFacet {
    /// String facet of every element, in order (`None` for null/object elements).
    pub(crate) elems: Box<[Option<Box<str>>]>,
    /// Element string facets, sorted and de-duplicated; elements without one
    /// (null, objects) are absent (see the module doc).
    pub(crate) sorted: Box<[Box<str>]>,
}

impl ArrayFacet {
    /// Whether some element's string facet equals `s`.
    pub(crate) fn contains(&self, s: &str) -> bool {
        self.sorted.binary_search_by(|e| (**e).cmp(s)).is_ok()
    }
}

/// Object facet: member name → the member's string facet.
pub(crate) type ObjectFacet = HashMap<Box<str>, Option<Box<str>>>;

/// A user-side ("left") value: the facets every operator needs, computed
/// once when the user is built.
#[derive(Clone, Debug, Default)]
pub struct DynValue {
    kind: Kind,
    string: Option<Box<str>>,
    /// Lazily computed lowercase of `string`; the inner `None` means "already
    /// lowercase, use `string`" (saves the copy for the common case).
    lower: OnceLock<Option<Box<str>>>,
    float: Option<f64>,
    int: Option<i64>,
    timestamp: Option<i64>,
    boolean: Option<bool>,
    array: Option<Box<ArrayFacet>>,
    object: Option<Box<ObjectFacet>>,
}

impl DynValue {
    /// The empty value (missing field / JSON null): no facets.
    pub fn null() -> Self {
        Self::default()
    }

    /// Facets of a user JSON value per §2.1.
    pub fn from_json(v: &Value) -> Self {
        match v {
            Value::Null => Self::null(),
            Value::Bool(b) => DynValue {
                kind: Kind::Bool,
                string: Some(if *b { "true" } else { "false" }.into()),
                boolean: Some(*b),
                ..Self::default()
            },
            Value::Number(n) => {
                let (float, int) = number_facets(n);
                DynValue {
                    kind: Kind::Number,
                    string: Some(number_string(n, float)),
                    float,
                    int,
                    ..Self::default()
                }
            }
            Value::String(s) => Self::from_string(s),
            Value::Array(items) => {
                let elems: Box<[Option<Box<str>>]> = items.iter().map(string_facet_of).collect();
                let mut sorted: Vec<Box<str>> = elems.iter().flatten().cloned().collect();
                sorted.sort_unstable();
                sorted.dedup();
                DynValue {
                    kind: Kind::Array,
                    string: Some(v.to_string().into_boxed_str()),
                    array: Some(Box::new(ArrayFacet {
                        elems,
                        sorted: sorted.into_boxed_slice(),
                    })),
                    ..Self::default()
                }
            }
            Value::Object(map) => DynValue {
                kind: Kind::Object,
                object: Some(Box::new(
                    map.iter()
                        .map(|(k, v)| (k.as_str().into(), string_facet_of(v)))
                        .collect(),
                )),
                ..Self::default()
            },
        }
    }

    /// Same as `from_json(&Value::String(s.into()))`, without building the JSON.
    pub fn from_string(s: &str) -> Self {
        DynValue {
            kind: Kind::String,
            string: Some(s.into()),
            float: s.parse::<f64>().ok(),
            int: s.parse::<i64>().ok(),
            timestamp: parse_timestamp(s, true),
            ..Self::default()
        }
    }

    /// A value with only an int facet (used for `current_time`).
    pub fn int_only(i: i64) -> Self {
        DynValue {
            kind: Kind::IntOnly,
            int: Some(i),
            ..Self::default()
        }
    }

    /// The string facet, if any (none for null, objects and int-only values).
    pub fn string_facet(&self) -> Option<&str> {
        self.string.as_deref()
    }

    /// The Unicode-lowercased string facet (computed on first use, then cached).
    pub fn lowercase_facet(&self) -> Option<&str> {
        let s = self.string.as_deref()?;
        let lower = self.lower.get_or_init(|| lowercase_if_changed(s));
        Some(lower.as_deref().unwrap_or(s))
    }

    /// The float facet: JSON numbers and strings that parse as f64.
    pub fn float_facet(&self) -> Option<f64> {
        self.float
    }

    /// The int facet: integral JSON numbers, strings that parse as i64, int-only values.
    pub fn int_facet(&self) -> Option<i64> {
        self.int
    }

    /// The timestamp facet of a string (§2.3, user side; unit not yet normalized).
    pub fn timestamp_facet(&self) -> Option<i64> {
        self.timestamp
    }

    /// The bool facet (JSON booleans only; the string `"true"` has none).
    pub fn bool_facet(&self) -> Option<bool> {
        self.boolean
    }

    /// True for the empty value (JSON null / missing).
    pub fn is_null(&self) -> bool {
        self.kind == Kind::Null
    }

    /// Whether `eq null` holds: JSON null, and also the int-only value, which
    /// in the reference carries a JSON `null` (so `current_time eq null` is true).
    pub(crate) fn json_is_null(&self) -> bool {
        matches!(self.kind, Kind::Null | Kind::IntOnly)
    }

    pub(crate) fn array_facet(&self) -> Option<&ArrayFacet> {
        self.array.as_deref()
    }

    pub(crate) fn object_facet(&self) -> Option<&ObjectFacet> {
        self.object.as_deref()
    }
}

/// Float and int facets of a JSON number. The int facet is the exact i64, or
/// the float when it survives a (saturating) cast to i64 and back unchanged.
fn number_facets(n: &serde_json::Number) -> (Option<f64>, Option<i64>) {
    let mut int = n.as_i64();
    let mut float = n.as_f64();
    match (float, int) {
        (Some(f), None) => {
            let i = f as i64;
            if i as f64 == f {
                int = Some(i);
            }
        }
        (None, Some(i)) => {
            let f = i as f64;
            if f as i64 == i {
                float = Some(f);
            }
        }
        _ => {}
    }
    (float, int)
}

/// String facet of a number: the f64 `Display` form (never an exponent,
/// integral values without `.0`); the JSON text only if no f64 exists.
fn number_string(n: &serde_json::Number, float: Option<f64>) -> Box<str> {
    match float {
        Some(f) => f.to_string().into_boxed_str(),
        None => n.to_string().into_boxed_str(),
    }
}

/// The string facet a JSON value would get per §2.1 (used for array elements
/// and object members).
fn string_facet_of(v: &Value) -> Option<Box<str>> {
    match v {
        Value::Null | Value::Object(_) => None,
        Value::Bool(b) => Some(if *b { "true" } else { "false" }.into()),
        Value::Number(n) => Some(number_string(n, number_facets(n).0)),
        Value::String(s) => Some(s.as_str().into()),
        Value::Array(_) => Some(v.to_string().into_boxed_str()),
    }
}

/// `Some(lowercase)` only when lowercasing changes `s`.
fn lowercase_if_changed(s: &str) -> Option<Box<str>> {
    if s.bytes().all(|b| b.is_ascii() && !b.is_ascii_uppercase()) {
        return None;
    }
    let lower = s.to_lowercase();
    (lower != s).then(|| lower.into_boxed_str())
}

/// Timestamp parsing of strings (§2.3): an i64 as-is (unit decided by the
/// operator), else RFC 3339, else `%Y-%m-%d %H:%M:%S` as UTC, in epoch ms.
/// `user_side` adds the reference's fast-reject: 8..=20 bytes and at least
/// one of `-`, `T`, `:` (targets are parsed without it).
pub(crate) fn parse_timestamp(s: &str, user_side: bool) -> Option<i64> {
    if let Ok(i) = s.parse::<i64>() {
        return Some(i);
    }
    if user_side && (s.len() < 8 || s.len() > 20 || !s.contains(['-', 'T', ':'])) {
        return None;
    }
    if let Ok(dt) = chrono::DateTime::parse_from_rfc3339(s) {
        return Some(dt.timestamp_millis());
    }
    if let Ok(ndt) = chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S") {
        return Some(ndt.and_utc().timestamp_millis());
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn dv(v: Value) -> DynValue {
        DynValue::from_json(&v)
    }

    #[test]
    fn value_is_send_sync_clone() {
        fn check<T: Send + Sync + Clone>() {}
        check::<DynValue>();
    }

    #[test]
    fn string_facets_per_table_2_1() {
        // Examples straight from §2.1.
        assert_eq!(dv(json!(1.0)).string_facet(), Some("1"));
        assert_eq!(dv(json!(1.5)).string_facet(), Some("1.5"));
        assert_eq!(
            dv(json!(1e21)).string_facet(),
            Some("1000000000000000000000")
        );
        // i64::MAX becomes the f64 2^63. §2.1 lists "9223372036854775808" (the
        // exact value), but Rust's f64 `Display`, which the reference uses
        // (`f.to_string()`), prints the shortest round-trip digits
        // (9.223372036854776e18) padded with zeros.
        assert_eq!(
            dv(json!(i64::MAX)).string_facet(),
            Some("9223372036854776000")
        );
        assert_eq!(dv(json!(42)).string_facet(), Some("42"));
        assert_eq!(dv(json!(true)).string_facet(), Some("true"));
        assert_eq!(dv(json!(false)).string_facet(), Some("false"));
        assert_eq!(
            dv(json!(["a", 1, true])).string_facet(),
            Some(r#"["a",1,true]"#)
        );
        assert_eq!(dv(json!({"a": 1})).string_facet(), None);
        assert_eq!(dv(Value::Null).string_facet(), None);
        assert_eq!(DynValue::null().string_facet(), None);
        assert_eq!(dv(json!("x")).string_facet(), Some("x"));
        // Arrays keep JSON-text floats (serde_json prints 1.0 as "1.0").
        assert_eq!(dv(json!([1.0, null])).string_facet(), Some("[1.0,null]"));
    }

    #[test]
    fn numeric_facets_of_strings_use_rust_grammar() {
        // §2.1: "1", "1.5", ".5", "1e3", "+1", "inf", "NaN" parse; no whitespace or `_`.
        assert_eq!(dv(json!("1")).float_facet(), Some(1.0));
        assert_eq!(dv(json!("1.5")).float_facet(), Some(1.5));
        assert_eq!(dv(json!(".5")).float_facet(), Some(0.5));
        assert_eq!(dv(json!("1e3")).float_facet(), Some(1000.0));
        assert_eq!(dv(json!("+1")).float_facet(), Some(1.0));
        assert_eq!(dv(json!("inf")).float_facet(), Some(f64::INFINITY));
        assert!(dv(json!("NaN")).float_facet().is_some_and(f64::is_nan));
        assert_eq!(dv(json!(" 1")).float_facet(), None);
        assert_eq!(dv(json!("1_000")).float_facet(), None);
        assert_eq!(dv(json!("")).float_facet(), None);
        // Int facet: i64 grammar only.
        assert_eq!(dv(json!("42")).int_facet(), Some(42));
        assert_eq!(dv(json!("+42")).int_facet(), Some(42));
        assert_eq!(dv(json!("42.0")).int_facet(), None);
        // Bools, arrays, objects, null: no numbers.
        for v in [json!(true), json!([1]), json!({"a": 1}), Value::Null] {
            assert_eq!(dv(v.clone()).float_facet(), None, "{v}");
            assert_eq!(dv(v.clone()).int_facet(), None, "{v}");
        }
    }

    #[test]
    fn int_facet_of_numbers() {
        assert_eq!(dv(json!(42)).int_facet(), Some(42));
        assert_eq!(dv(json!(42.0)).int_facet(), Some(42)); // integral float
        assert_eq!(dv(json!(42.2)).int_facet(), None); // §2.1 example
        assert_eq!(dv(json!(-7)).int_facet(), Some(-7));
        assert_eq!(dv(json!(42)).float_facet(), Some(42.0));
        // u64::MAX ≈ 1.8446744073709552e19; saturating cast gives i64::MAX ≈ 9.2e18 ≠ f.
        assert_eq!(dv(json!(u64::MAX)).int_facet(), None);
        // 2^63 as u64: the f64 is exactly 2^63 and i64::MAX as f64 rounds to 2^63.
        assert_eq!(dv(json!(1u64 << 63)).int_facet(), Some(i64::MAX));
    }

    #[test]
    fn bool_and_null_facets() {
        assert_eq!(dv(json!(true)).bool_facet(), Some(true));
        assert_eq!(dv(json!("true")).bool_facet(), None);
        assert!(dv(Value::Null).is_null());
        assert!(DynValue::null().is_null());
        assert!(!dv(json!("")).is_null());
        assert!(!DynValue::int_only(5).is_null());
        assert!(DynValue::int_only(5).json_is_null());
    }

    #[test]
    fn int_only_has_only_an_int() {
        let v = DynValue::int_only(1_700_000_000_000);
        assert_eq!(v.int_facet(), Some(1_700_000_000_000));
        assert_eq!(v.string_facet(), None);
        assert_eq!(v.float_facet(), None);
        assert_eq!(v.timestamp_facet(), None);
    }

    #[test]
    fn lowercase_is_unicode_and_cached() {
        let v = dv(json!("HeLLo ÄÖ"));
        assert_eq!(v.lowercase_facet(), Some("hello äö"));
        assert_eq!(v.lowercase_facet(), Some("hello äö"));
        assert_eq!(v.clone().lowercase_facet(), Some("hello äö"));
        assert_eq!(dv(json!("already")).lowercase_facet(), Some("already"));
        // Full lowercase: 'İ' (U+0130) lowercases to "i̇" (two chars).
        assert_eq!(dv(json!("İ")).lowercase_facet(), Some("i\u{307}"));
        assert_eq!(dv(json!(true)).lowercase_facet(), Some("true"));
        assert_eq!(DynValue::null().lowercase_facet(), None);
    }

    #[test]
    fn array_and_object_facets() {
        let v = dv(json!(["b", 1, null, {"x": 1}, [2], "a", "b"]));
        let a = v.array_facet().unwrap();
        let elems: Vec<Option<&str>> = a.elems.iter().map(|e| e.as_deref()).collect();
        assert_eq!(
            elems,
            [
                Some("b"),
                Some("1"),
                None,
                None,
                Some("[2]"),
                Some("a"),
                Some("b")
            ]
        );
        assert!(!a.contains("")); // null / object elements match nothing (module doc)
        assert!(a.contains("1") && a.contains("a") && a.contains("[2]"));
        assert!(!a.contains("B"));
        let o = dv(json!({"k": 1.0, "n": null, "s": "x", "o": {}}));
        let m = o.object_facet().unwrap();
        assert_eq!(m.len(), 4);
        assert_eq!(m.get("k").unwrap().as_deref(), Some("1"));
        assert_eq!(m.get("n").unwrap().as_deref(), None);
        assert_eq!(m.get("s").unwrap().as_deref(), Some("x"));
        assert_eq!(m.get("o").unwrap().as_deref(), None);
        assert!(dv(json!("x")).array_facet().is_none());
    }

    #[test]
    fn timestamp_parsing_2_3() {
        // 2023-01-01T00:00:00Z = 19358 days * 86400 s = 1672531200 s.
        let jan1 = Some(1_672_531_200_000);
        assert_eq!(parse_timestamp("2023-01-01T00:00:00Z", true), jan1);
        assert_eq!(parse_timestamp("2023-01-01 00:00:00Z", true), jan1); // space for T
                                                                         // Offsets and fractions make the string longer than 20 bytes: target side only.
        assert_eq!(parse_timestamp("2023-01-01T01:00:00+01:00", false), jan1);
        assert_eq!(parse_timestamp("2023-01-01T01:00:00+01:00", true), None);
        assert_eq!(
            parse_timestamp("2023-01-01T00:00:00.5Z", false),
            Some(1_672_531_200_500)
        );
        assert_eq!(parse_timestamp("2023-01-01T00:00:00.5Z", true), None);
        assert_eq!(parse_timestamp("2023-01-01 00:00:00", true), jan1); // naive = UTC
        assert_eq!(parse_timestamp("1672531200000", true), jan1);
        assert_eq!(parse_timestamp("42", true), Some(42)); // ints skip the pre-check
        assert_eq!(parse_timestamp("2023-01-01", true), None);
        assert_eq!(parse_timestamp("2023-01-01", false), None);
        assert_eq!(parse_timestamp("1672531200000.0", true), None);
        assert_eq!(parse_timestamp("invalid-date", true), None);
        // Not timestamps either way (7 bytes; no `-`/`T`/`:`).
        assert_eq!(parse_timestamp("1:2:3:4", true), None);
        assert_eq!(parse_timestamp("20230101 000000", true), None);
        assert_eq!(dv(json!("2023-01-01T00:00:00Z")).timestamp_facet(), jan1);
        assert_eq!(dv(json!(1672531200000i64)).timestamp_facet(), None); // numbers: int facet only
    }
}
