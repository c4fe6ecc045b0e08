//! Operators and their compiled targets (dcs-semantics §2.2, §5.2).
//!
//! # Design
//!
//! A [`Comparison`] is an [`Operator`] plus its `targetValue` *compiled at spec
//! load* into exactly the form that operator reads, so that
//! [`Comparison::eval`] only looks things up:
//!
//! | operators | compiled target |
//! |---|---|
//! | `gt` `gte` `lt` `lte` | the target's f64 (numbers; numeric strings) |
//! | `version_*` | the target string's parsed dotted parts ([`version`]) |
//! | `any` `none` | hash set of the lowercased array elements, or of an object's keys as written |
//! | `any_case_sensitive` `none_case_sensitive` | hash set of the array elements as written |
//! | `str_starts_with_any` `str_ends_with_any` `str_contains_any` `str_contains_none` | the lowercased array elements |
//! | `str_matches` | a compiled [`fancy_regex::Regex`] |
//! | `eq` `neq` | the target by JSON type (null, bool, f64, string, indexed array strings, object member strings) |
//! | `before` `after` `on` | the target instant in ms |
//! | `array_contains_*`, `not_array_contains_all` | the array elements as written |
//! | `in_segment_list` `not_in_segment_list` | nothing: the evaluator decides (see [`Comparison::target_str`]) |
//!
//! A target of the wrong shape compiles to "invalid", which yields the
//! reference's answer for that operator (false for the positive forms, true
//! for `none`/`none_case_sensitive`/`str_contains_none`, false for every
//! `version_*` and `array_*` operator).
//!
//! Target arrays are first reduced the way the reference stores them: each
//! element stringified (strings as-is, anything else as compact JSON text) and
//! keyed by its lowercase, a later element replacing an earlier one whose
//! lowercase collides (QUIRK §2.2: `["A","a"]` keeps only `"a"`, which is
//! visible to the case-sensitive and `array_*` operators and to `eq`).
//!
//! The user side is a [`DynValue`] whose facets (string, lowercase, float, int,
//! timestamp, array elements) were computed when the user was built; `eval`
//! does not allocate.
//!
//! Two inputs make the reference (statsig-rust 0.24.0) panic; here they get a
//! plain answer: `eq` with a collided target array (an element index beyond
//! the user array's length: false), and `on` with an instant of `i64::MIN` ms
//! (chrono's `Duration::milliseconds` bound: compared by truncated day).

mod version;

#[cfg(test)]
mod tests;

use crate::value::{parse_timestamp, DynValue};
use fancy_regex::Regex;
use rustc_hash::{FxHashMap as HashMap, FxHashSet as HashSet};
use serde_json::Value;
use std::sync::Arc;
use version::Version;

/// Every operator the reference supports.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Operator {
    Gt,
    Gte,
    Lt,
    Lte,
    VersionGt,
    VersionGte,
    VersionLt,
    VersionLte,
    VersionEq,
    VersionNeq,
    Any,
    None,
    AnyCaseSensitive,
    NoneCaseSensitive,
    StrStartsWithAny,
    StrEndsWithAny,
    StrContainsAny,
    StrContainsNone,
    StrMatches,
    Eq,
    Neq,
    Before,
    After,
    On,
    InSegmentList,
    NotInSegmentList,
    ArrayContainsAny,
    ArrayContainsNone,
    ArrayContainsAll,
    NotArrayContainsAll,
}

/// Operator ↔ spec string, one row per variant.
const NAMES: [(Operator, &str); 30] = [
    (Operator::Gt, "gt"),
    (Operator::Gte, "gte"),
    (Operator::Lt, "lt"),
    (Operator::Lte, "lte"),
    (Operator::VersionGt, "version_gt"),
    (Operator::VersionGte, "version_gte"),
    (Operator::VersionLt, "version_lt"),
    (Operator::VersionLte, "version_lte"),
    (Operator::VersionEq, "version_eq"),
    (Operator::VersionNeq, "version_neq"),
    (Operator::Any, "any"),
    (Operator::None, "none"),
    (Operator::AnyCaseSensitive, "any_case_sensitive"),
    (Operator::NoneCaseSensitive, "none_case_sensitive"),
    (Operator::StrStartsWithAny, "str_starts_with_any"),
    (Operator::StrEndsWithAny, "str_ends_with_any"),
    (Operator::StrContainsAny, "str_contains_any"),
    (Operator::StrContainsNone, "str_contains_none"),
    (Operator::StrMatches, "str_matches"),
    (Operator::Eq, "eq"),
    (Operator::Neq, "neq"),
    (Operator::Before, "before"),
    (Operator::After, "after"),
    (Operator::On, "on"),
    (Operator::InSegmentList, "in_segment_list"),
    (Operator::NotInSegmentList, "not_in_segment_list"),
    (Operator::ArrayContainsAny, "array_contains_any"),
    (Operator::ArrayContainsNone, "array_contains_none"),
    (Operator::ArrayContainsAll, "array_contains_all"),
    (Operator::NotArrayContainsAll, "not_array_contains_all"),
];

impl Operator {
    /// The operator named `s` exactly as in the specs; `None` if unsupported.
    pub fn parse(s: &str) -> Option<Operator> {
        NAMES.iter().find(|(_, name)| *name == s).map(|(op, _)| *op)
    }

    /// The spec string of this operator (inverse of [`Operator::parse`]).
    pub fn as_str(self) -> &'static str {
        NAMES
            .iter()
            .find(|(op, _)| *op == self)
            .map_or("", |(_, name)| name)
    }
}

/// One day in milliseconds (`on` compares `trunc(ms / DAY_MS)`).
const DAY_MS: i64 = 86_400_000;

/// A target compiled for its operator family.
#[derive(Clone, Debug)]
enum Target {
    /// Wrong shape for the operator: the positive form can never hold.
    Invalid,
    /// `gt`/`gte`/`lt`/`lte`.
    Number(f64),
    /// `version_*`.
    Version(Version),
    /// `any`/`none` over an array: lowercased elements.
    LowerSet(HashSet<Box<str>>),
    /// `any`/`none` over an object: its keys as written (not lowercased).
    KeySet(HashSet<Box<str>>),
    /// `any_case_sensitive`/`none_case_sensitive`: elements as written.
    ExactSet(HashSet<Box<str>>),
    /// `str_*_any`/`str_contains_none`: lowercased elements.
    LowerList(Box<[Box<str>]>),
    /// `str_matches`.
    Regex(Arc<Regex>),
    /// `eq`/`neq`.
    Eq(EqTarget),
    /// `before`/`after`/`on`: the target in ms (never unit-converted).
    Time(i64),
    /// `array_contains_*`/`not_array_contains_all`: elements as written.
    Elements(Box<[Box<str>]>),
    /// `in_segment_list`/`not_in_segment_list`: decided by the evaluator.
    Segment,
}

/// An `eq` target, by JSON type.
#[derive(Clone, Debug)]
enum EqTarget {
    Null,
    Bool(bool),
    Number(f64),
    Str(Box<str>),
    /// `(original index, element string)` of the keyed array (after the
    /// collision quirk); the left array must have exactly this many elements.
    Array(Box<[(usize, Box<str>)]>),
    /// Member name → member string (strings as-is, other JSON as text).
    Object(HashMap<Box<str>, Box<str>>),
}

/// An operator with its target compiled at spec load.
#[derive(Clone, Debug)]
pub struct Comparison {
    pub op: Operator,
    target_string: Option<Box<str>>,
    target: Target,
}

impl Comparison {
    /// Compile `target` for `op`. Never fails: a target that can never match
    /// (an invalid regex, a wrong type) compiles to the reference's answer.
    pub fn compile(op: Operator, target: &Value) -> Comparison {
        use Operator as O;
        let compiled = match op {
            O::Gt | O::Gte | O::Lt | O::Lte => {
                target_float(target).map_or(Target::Invalid, Target::Number)
            }
            O::VersionGt
            | O::VersionGte
            | O::VersionLt
            | O::VersionLte
            | O::VersionEq
            | O::VersionNeq => match target {
                Value::String(s) => Target::Version(Version::parse(s)),
                _ => Target::Invalid,
            },
            O::Any | O::None => match target {
                Value::Array(items) => {
                    Target::LowerSet(keyed_array(items).into_iter().map(|e| e.lower).collect())
                }
                Value::Object(map) => {
                    Target::KeySet(map.keys().map(|k| k.as_str().into()).collect())
                }
                _ => Target::Invalid,
            },
            O::AnyCaseSensitive | O::NoneCaseSensitive => match target {
                Value::Array(items) => {
                    Target::ExactSet(keyed_array(items).into_iter().map(|e| e.original).collect())
                }
                _ => Target::Invalid,
            },
            O::StrStartsWithAny | O::StrEndsWithAny | O::StrContainsAny | O::StrContainsNone => {
                match target {
                    Value::Array(items) => {
                        Target::LowerList(keyed_array(items).into_iter().map(|e| e.lower).collect())
                    }
                    _ => Target::Invalid,
                }
            }
            O::StrMatches => match target {
                Value::String(s) => {
                    Regex::new(s).map_or(Target::Invalid, |r| Target::Regex(Arc::new(r)))
                }
                _ => Target::Invalid,
            },
            O::Eq | O::Neq => Target::Eq(eq_target(target)),
            O::Before | O::After | O::On => {
                target_time(target).map_or(Target::Invalid, Target::Time)
            }
            O::InSegmentList | O::NotInSegmentList => Target::Segment,
            O::ArrayContainsAny
            | O::ArrayContainsNone
            | O::ArrayContainsAll
            | O::NotArrayContainsAll => match target {
                Value::Array(items) => {
                    let mut elems: Vec<Box<str>> =
                        keyed_array(items).into_iter().map(|e| e.original).collect();
                    elems.sort_unstable();
                    elems.dedup();
                    Target::Elements(elems.into_boxed_slice())
                }
                _ => Target::Invalid,
            },
        };
        Comparison {
            op,
            target_string: target.as_str().map(Into::into),
            target: compiled,
        }
    }

    /// The string target, if the target is a JSON string (ID-list name, gate name).
    pub fn target_str(&self) -> Option<&str> {
        self.target_string.as_deref()
    }

    /// Apply the operator to `left`. `InSegmentList`/`NotInSegmentList` are
    /// decided by the evaluator (they need ID lists); here they return false.
    pub fn eval(&self, left: &DynValue) -> bool {
        use Operator as O;
        match self.op {
            O::Gt | O::Gte | O::Lt | O::Lte => self.eval_number(left),
            O::VersionGt
            | O::VersionGte
            | O::VersionLt
            | O::VersionLte
            | O::VersionEq
            | O::VersionNeq => self.eval_version(left),
            O::Any
            | O::AnyCaseSensitive
            | O::StrStartsWithAny
            | O::StrEndsWithAny
            | O::StrContainsAny => self.eval_strings(left),
            O::None | O::NoneCaseSensitive | O::StrContainsNone => !self.eval_strings(left),
            O::StrMatches => self.eval_regex(left),
            O::Eq => self.eval_eq(left),
            O::Neq => !self.eval_eq(left),
            O::Before | O::After | O::On => self.eval_time(left),
            O::InSegmentList | O::NotInSegmentList => false,
            O::ArrayContainsAny
            | O::ArrayContainsNone
            | O::ArrayContainsAll
            | O::NotArrayContainsAll => self.eval_arrays(left),
        }
    }

    /// Both sides need a float facet; NaN compares false.
    fn eval_number(&self, left: &DynValue) -> bool {
        let (Target::Number(r), Some(l)) = (&self.target, left.float_facet()) else {
            return false;
        };
        match self.op {
            Operator::Gt => l > *r,
            Operator::Gte => l >= *r,
            Operator::Lt => l < *r,
            Operator::Lte => l <= *r,
            _ => false,
        }
    }

    /// Both sides need a string facet; any parse failure reached ⇒ false.
    fn eval_version(&self, left: &DynValue) -> bool {
        let (Target::Version(r), Some(l)) = (&self.target, left.string_facet()) else {
            return false;
        };
        let Some(ord) = version::compare(l, r) else {
            return false;
        };
        match self.op {
            Operator::VersionGt => ord.is_gt(),
            Operator::VersionGte => ord.is_ge(),
            Operator::VersionLt => ord.is_lt(),
            Operator::VersionLte => ord.is_le(),
            Operator::VersionEq => ord.is_eq(),
            Operator::VersionNeq => ord.is_ne(),
            _ => false,
        }
    }

    /// The positive ("any") form of the string-membership operators; a
    /// missing string facet reads as `""`.
    fn eval_strings(&self, left: &DynValue) -> bool {
        match &self.target {
            Target::LowerSet(set) | Target::KeySet(set) => {
                set.contains(left.lowercase_facet().unwrap_or(""))
            }
            Target::ExactSet(set) => set.contains(left.string_facet().unwrap_or("")),
            Target::LowerList(items) => {
                let l = left.lowercase_facet().unwrap_or("");
                match self.op {
                    Operator::StrStartsWithAny => items.iter().any(|e| l.starts_with(&**e)),
                    Operator::StrEndsWithAny => items.iter().any(|e| l.ends_with(&**e)),
                    Operator::StrContainsAny | Operator::StrContainsNone => {
                        items.iter().any(|e| l.contains(&**e))
                    }
                    _ => false,
                }
            }
            _ => false,
        }
    }

    /// Unanchored search; a runtime error (backtrack limit) counts as no match.
    fn eval_regex(&self, left: &DynValue) -> bool {
        let (Target::Regex(re), Some(l)) = (&self.target, left.string_facet()) else {
            return false;
        };
        re.is_match(l).unwrap_or(false)
    }

    fn eval_eq(&self, left: &DynValue) -> bool {
        let Target::Eq(t) = &self.target else {
            return false;
        };
        match t {
            EqTarget::Null => left.json_is_null(),
            EqTarget::Bool(b) => left.bool_facet() == Some(*b),
            EqTarget::Number(f) => left.float_facet() == Some(*f),
            EqTarget::Str(s) => left.string_facet() == Some(&**s),
            EqTarget::Array(entries) => left.array_facet().is_some_and(|arr| {
                arr.elems.len() == entries.len()
                    && entries
                        .iter()
                        .all(|(i, s)| matches!(arr.elems.get(*i), Some(Some(e)) if e == s))
            }),
            EqTarget::Object(members) => left.object_facet().is_some_and(|obj| {
                obj.len() == members.len()
                    && members
                        .iter()
                        .all(|(k, v)| matches!(obj.get(k), Some(Some(e)) if e == v))
            }),
        }
    }

    /// Left: timestamp facet, else int facet, normalized seconds → ms; right
    /// is always ms.
    fn eval_time(&self, left: &DynValue) -> bool {
        let (Target::Time(r), Some(l)) =
            (&self.target, left.timestamp_facet().or(left.int_facet()))
        else {
            return false;
        };
        let l = to_millis(l);
        match self.op {
            Operator::Before => l < *r,
            Operator::After => l > *r,
            // Integer division truncates toward zero, like the reference's
            // `Duration::num_days` (UTC day for non-negative instants).
            Operator::On => l / DAY_MS == *r / DAY_MS,
            _ => false,
        }
    }

    /// Set operations between the user's array (element string facets; null
    /// and object elements match nothing, see `value.rs`) and the target
    /// elements; non-array left ⇒ false.
    fn eval_arrays(&self, left: &DynValue) -> bool {
        let (Target::Elements(items), Some(arr)) = (&self.target, left.array_facet()) else {
            return false;
        };
        match self.op {
            Operator::ArrayContainsAny => items.iter().any(|e| arr.contains(e)),
            Operator::ArrayContainsNone => !items.iter().any(|e| arr.contains(e)),
            Operator::ArrayContainsAll => items.iter().all(|e| arr.contains(e)),
            Operator::NotArrayContainsAll => !items.iter().all(|e| arr.contains(e)),
            _ => false,
        }
    }
}

/// Seconds → ms when `|t| < 10^10` (saturating), else already ms.
fn to_millis(t: i64) -> i64 {
    if t.unsigned_abs() < 10_000_000_000 {
        t.saturating_mul(1000)
    } else {
        t
    }
}

/// Float facet of a target: numbers, and strings that parse as f64.
fn target_float(target: &Value) -> Option<f64> {
    match target {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse::<f64>().ok(),
        _ => None,
    }
}

/// Time of a target in ms: a string's timestamp facet (§2.3, no pre-check),
/// else its float facet truncated (this also covers numbers).
fn target_time(target: &Value) -> Option<i64> {
    match target {
        Value::String(s) => {
            parse_timestamp(s, false).or_else(|| s.parse::<f64>().ok().map(|f| f as i64))
        }
        Value::Number(n) => n.as_f64().map(|f| f as i64),
        _ => None,
    }
}

/// A target element as the reference stringifies it: strings as-is, any
/// other JSON as compact text (`1`, `1.0`, `true`, `null`).
fn element_string(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// One surviving entry of a keyed target array.
struct Keyed {
    lower: Box<str>,
    index: usize,
    original: Box<str>,
}

/// The reference's keyed view of a target array: `lowercase → (index,
/// original)`, where a later element replaces an earlier one with the same
/// lowercase (QUIRK §2.2). Returned in index order.
fn keyed_array(items: &[Value]) -> Vec<Keyed> {
    let mut by_lower: HashMap<String, (usize, String)> =
        HashMap::with_capacity_and_hasher(items.len(), Default::default());
    for (index, v) in items.iter().enumerate() {
        let original = element_string(v);
        by_lower.insert(original.to_lowercase(), (index, original));
    }
    let mut out: Vec<Keyed> = by_lower
        .into_iter()
        .map(|(lower, (index, original))| Keyed {
            lower: lower.into_boxed_str(),
            index,
            original: original.into_boxed_str(),
        })
        .collect();
    out.sort_unstable_by_key(|k| k.index);
    out
}

fn eq_target(target: &Value) -> EqTarget {
    match target {
        Value::Null => EqTarget::Null,
        Value::Bool(b) => EqTarget::Bool(*b),
        // Without serde_json's `arbitrary_precision` every number has an f64;
        // NaN (never produced by JSON) equals nothing, like a missing facet.
        Value::Number(n) => EqTarget::Number(n.as_f64().unwrap_or(f64::NAN)),
        Value::String(s) => EqTarget::Str(s.as_str().into()),
        Value::Array(items) => EqTarget::Array(
            keyed_array(items)
                .into_iter()
                .map(|k| (k.index, k.original))
                .collect(),
        ),
        Value::Object(map) => EqTarget::Object(
            map.iter()
                .map(|(k, v)| (k.as_str().into(), element_string(v).into_boxed_str()))
                .collect(),
        ),
    }
}
