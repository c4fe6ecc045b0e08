//! Random dcs-v2 payloads for differential testing (`tests/random_specs.rs`).
//!
//! [`random_payload`] builds a payload the reference accepts in full: every spec, rule and
//! condition has its required keys (dcs-semantics.md §1.3–§1.6; a malformed condition would
//! fail the whole payload, a malformed spec would be skipped silently). What varies:
//!
//! - entities: feature gates, `segment:` gates, holdouts, disabled gates, dynamic configs,
//!   autotunes, experiments (`isActive`, `hasSharedParams`, `explicitParameters`, group rules)
//!   and layers (`configDelegate` to existing and missing experiments, `useNewLayerEval`);
//! - rules: pass percentages 0, 100 and fractional, rule salts present / absent / empty, id types
//!   `userID`, `stableID`, `companyID`, `companyid`;
//! - conditions of every type × every operator of §5.2, with targets chosen to hit the
//!   coercions of §2 (numbers vs numeric strings, `1.0` vs `1`, bools, null, mixed and
//!   case-colliding arrays, objects, versions, timestamps in all formats, valid and invalid
//!   regexes, unicode), plus a small share of unknown operators / types, missing operators and
//!   missing `condition_map` keys (the unsupported paths).
//!
//! Gate and experiment references only point to entities generated earlier (or to missing
//! names), so the reference graph is acyclic, and its depth stays below [`MAX_REF_DEPTH`] (the
//! reference errors at 64 nested levels and `experiment_group` cycles would recurse forever).
//!
//! Time targets are far from now (years 2000/2001 and 2100+), and `on` targets lie in the past,
//! so results do not change while the test suite lives.
//!
//! [`users_for_payload`] mixes [`generate_users_for_specs`] users with users built from the
//! payload's own targets; [`id_list_ids`] picks the unit ids to put in [`ID_LIST_NAME`].
//!
//! Objects nested in arrays are always built with sorted keys (see docs/CONFORMANCE.md,
//! `preserve_order`).

use crate::users::{generate_users_for_specs, map_entry, Rng, IPV4_ADDRESSES};
use serde_json::{json, Map, Value};

/// The ID list that generated `in_segment_list` conditions name (the test serves it).
pub const ID_LIST_NAME: &str = "random_id_list";
/// An ID list name that generated conditions use but that is never served.
pub const MISSING_ID_LIST_NAME: &str = "missing_id_list";
/// The `time` (lcut) of every generated payload.
pub const PAYLOAD_TIME: u64 = 1_700_000_000_000;
/// Gate / experiment references never form chains deeper than this.
pub const MAX_REF_DEPTH: usize = 12;

/// How many entities of each kind a payload gets, and how big rules get.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SpecSize {
    pub gates: usize,
    pub segments: usize,
    pub holdouts: usize,
    pub configs: usize,
    pub autotunes: usize,
    pub experiments: usize,
    pub layers: usize,
    /// Rules per spec: 0..=max_rules.
    pub max_rules: usize,
    /// Conditions per rule: 0..=max_conditions.
    pub max_conditions: usize,
}

impl SpecSize {
    pub const SMALL: SpecSize = SpecSize {
        gates: 5,
        segments: 2,
        holdouts: 1,
        configs: 2,
        autotunes: 1,
        experiments: 3,
        layers: 2,
        max_rules: 3,
        max_conditions: 3,
    };
    pub const MEDIUM: SpecSize = SpecSize {
        gates: 9,
        segments: 3,
        holdouts: 2,
        configs: 4,
        autotunes: 1,
        experiments: 5,
        layers: 3,
        max_rules: 5,
        max_conditions: 4,
    };
    pub const LARGE: SpecSize = SpecSize {
        gates: 14,
        segments: 4,
        holdouts: 2,
        configs: 6,
        autotunes: 2,
        experiments: 8,
        layers: 4,
        max_rules: 6,
        max_conditions: 5,
    };

    /// The size the random-spec test uses for `seed` (mostly small, some medium and large).
    pub fn for_seed(seed: u64) -> SpecSize {
        match seed % 8 {
            0 => SpecSize::LARGE,
            1 | 2 => SpecSize::MEDIUM,
            _ => SpecSize::SMALL,
        }
    }
}

// ----------------------------------------------------------------------------- value pools

/// Every operator of dcs-semantics.md §5.2.
/// The supported condition types (dcs-semantics.md §5.1).
pub const CONDITION_TYPES: &[&str] = &[
    "public",
    "pass_gate",
    "fail_gate",
    "user_field",
    "environment_field",
    "ua_based",
    "ip_based",
    "current_time",
    "user_bucket",
    "unit_id",
    "target_app",
    "experiment_group",
];

pub const OPERATORS: &[&str] = &[
    "gt",
    "gte",
    "lt",
    "lte",
    "version_gt",
    "version_gte",
    "version_lt",
    "version_lte",
    "version_eq",
    "version_neq",
    "any",
    "none",
    "any_case_sensitive",
    "none_case_sensitive",
    "str_starts_with_any",
    "str_ends_with_any",
    "str_contains_any",
    "str_contains_none",
    "str_matches",
    "eq",
    "neq",
    "before",
    "after",
    "on",
    "in_segment_list",
    "not_in_segment_list",
    "array_contains_any",
    "array_contains_none",
    "array_contains_all",
    "not_array_contains_all",
];

/// Operators the reference does not support (unsupported path).
const UNKNOWN_OPERATORS: &[&str] = &["encoded_any", "multi_any", "ANY", "str_matches_all", ""];
/// Condition types the reference does not support (unsupported path).
const UNKNOWN_TYPES: &[&str] = &["multi_pass_gate", "multi_fail_gate", "USER_FIELD", "bogus"];

/// User fields the generated users carry (see `users.rs`), with values they may hold.
fn field_pool(field: &str) -> Vec<Value> {
    match field.to_lowercase().as_str() {
        "userid" | "user_id" => vec![
            json!("9"),
            json!("a_user"),
            json!("123"),
            json!(123),
            json!("marcos_1"),
            json!("random_user_99"),
            json!("ユーザー42"),
            json!("unicode 🗻"),
            json!("İstanbul"),
            json!(""),
            json!(3),
            json!("user_"),
        ],
        "email" => vec![
            json!("a_user@statsig.com"),
            json!("someone@gmail.com"),
            json!("UPPER.CASE@STATSIG.COM"),
            json!("@statsig.com"),
            json!("@gmail.com"),
            json!("dev+tag@statsig.io"),
            json!("ünï@exämple.de"),
            json!("jane"),
            json!(""),
        ],
        "ip" => vec![
            json!("8.8.8.8"),
            json!("81.2.69.142"),
            json!("127.0.0.1"),
            json!("1.0.0.0"),
            json!("2001:4860:4860::8888"),
            json!("8.8."),
            json!("not-an-ip"),
        ],
        "country" => vec![
            json!("US"),
            json!("us"),
            json!("GB"),
            json!("CA"),
            json!("DE"),
            json!("JP"),
            json!("NZ"),
            json!(""),
            json!("AU"),
        ],
        "locale" => vec![
            json!("en_US"),
            json!("en-US"),
            json!("EN_us"),
            json!("fr_FR"),
            json!("zh-Hans-CN"),
            json!("en"),
            json!("_"),
        ],
        "appversion" | "app_version" => vec![
            json!("1.3"),
            json!("1.2.3.4"),
            json!("2.0.0-beta"),
            json!("10"),
            json!("1.2.3"),
            json!("1.3.0"),
            json!("3.10.2"),
            json!("v1.0"),
            json!("1..2"),
            json!(1.3),
            json!(2),
            json!(10.25),
            json!("0.0.1"),
        ],
        "useragent" | "user_agent" => vec![
            json!("Mozilla"),
            json!("iPhone"),
            json!("Android"),
            json!("Chrome/140"),
            json!("curl/8.4.0"),
            json!("okhttp"),
            json!("Googlebot"),
            json!(""),
        ],
        "level" => vec![
            json!(9),
            json!("9"),
            json!(9.0),
            json!("9.0"),
            json!(10),
            json!(5),
            json!("5"),
            json!(1.5),
            json!(19),
            json!(0),
            json!(-1),
        ],
        "os_version" | "osversion" => vec![
            json!("Android 15"),
            json!("10.3.1"),
            json!("17.5"),
            json!("0"),
            json!("17.5.1"),
            json!("15"),
            json!("10"),
            json!("13"),
        ],
        "os_name" | "osname" => vec![
            json!("iOS"),
            json!("Android"),
            json!("Mac OS X"),
            json!("Windows"),
            json!("Linux"),
            json!("Chrome OS"),
            json!("ios"),
            json!("Other"),
        ],
        "browser_name" | "browsername" => vec![
            json!("Chrome"),
            json!("Safari"),
            json!("chrome"),
            json!("Firefox"),
            json!("Edge"),
            json!("Mobile Safari"),
            json!("Opera"),
            json!("Other"),
        ],
        "browser_version" | "browserversion" => vec![
            json!("140.0.0"),
            json!("17.5"),
            json!("139.0"),
            json!("10.0"),
            json!("120"),
            json!("3.3"),
        ],
        "flavor" => vec![json!("chocolate"), json!("vanilla"), json!("Chocolate")],
        "region" => vec![
            json!("somewhere"),
            json!("us-east"),
            json!("eu"),
            json!("EU"),
        ],
        "service" => vec![json!("some-service"), json!("other"), json!("some")],
        "newuser" => vec![json!(true), json!(false), json!("true"), json!("TRUE")],
        "plays_league" => vec![json!("yes"), json!("no"), json!("true"), json!(true)],
        "tags" | "flavors" => vec![
            json!("a"),
            json!("b"),
            json!(1),
            json!(true),
            json!("[\"a\",\"b\",1,true]"),
            json!("[]"),
        ],
        "nested" | "list_of_objects" => vec![
            json!("{\"a\":1,\"b\":[1,2]}"),
            json!("[{\"a\":1,\"z\":\"y\"},null,2.5]"),
            json!(1),
            json!("a"),
        ],
        "bigint" => vec![
            json!(9_007_199_254_740_993_u64),
            json!("9007199254740993"),
            json!("123456789012345678901234567890"),
            json!(1e60),
            json!(1e21),
            json!("1000000000000000000000"),
        ],
        "created_at" => vec![
            json!("2023-01-01T00:00:00Z"),
            json!("2023-01-01 00:00:00"),
            json!("2023-01-01"),
            json!(1_672_531_200_000_u64),
            json!("1672531200000"),
            json!(1_672_531_200),
            json!("2024-06-30T12:34:56.789+02:00"),
        ],
        "device_model" => vec![json!("iPhone14,2"), json!("Pixel 8"), json!("SM-S908U")],
        "foo" => vec![json!("bar"), json!("BAR"), json!("")],
        "tier" => vec![
            json!("production"),
            json!("staging"),
            json!("development"),
            json!("Staging"),
            json!("qa"),
        ],
        "secret" => vec![json!("x"), json!("X")],
        _ => vec![json!("x"), json!(1), json!(true), json!("unicode 🗻")],
    }
}

/// `user_field` field names: what users carry, case variants, aliases and missing ones.
const USER_FIELDS: &[&str] = &[
    "userID",
    "userid",
    "user_id",
    "email",
    "Email",
    "ip",
    "country",
    "locale",
    "appVersion",
    "app_version",
    "APPVERSION",
    "userAgent",
    "user_agent",
    "level",
    "Level",
    "os_version",
    "flavor",
    "region",
    "service",
    "newUser",
    "plays_league",
    "tags",
    "nested",
    "list_of_objects",
    "nothing",
    "bigInt",
    "created_at",
    "device_model",
    "Foo",
    "foo",
    "browser_name",
    "secret",
    "missing_field",
    "unicodé",
];

/// Fields that generated users hold arrays in (for the `array_contains_*` operators).
const ARRAY_FIELDS: &[&str] = &["tags", "list_of_objects", "tags", "flavors"];

const UA_FIELDS: &[&str] = &[
    "os_name",
    "osname",
    "OS_Name",
    "os_version",
    "osVersion",
    "browser_name",
    "browserName",
    "browser_version",
    "browserversion",
];

const UNIT_ID_TYPES: &[&str] = &[
    "userID",
    "userID",
    "userid",
    "stableID",
    "companyID",
    "companyid",
    "hubID",
    "podId",
];

const RULE_ID_TYPES: &[&str] = &[
    "userID",
    "userID",
    "userID",
    "stableID",
    "companyID",
    "companyid",
];

/// Unit ids that generated users carry.
const UNIT_IDS: &[&str] = &[
    "9",
    "a_user",
    "123",
    "marcos_1",
    "some-service-123",
    "statsig",
    "random_user_99",
    "user-not-in-layer-holdout",
    "",
    "4",
    "ユーザー42",
];

const VERSION_TARGETS: &[&str] = &[
    "1.2.3",
    "1.3",
    "1.2.3.4",
    "2.0.0-beta",
    "2.0.0",
    "10",
    "1..2",
    " 1.3 ",
    "+1.2",
    "v1",
    "",
    "1.2.3.4.5.6",
    "17.5",
    "15.0",
    "140",
    "1.",
    "0",
    "3.10.2-rc.1",
];

/// Valid and invalid regexes; none catastrophic.
const REGEXES: &[&str] = &[
    "^9$",
    "user",
    "^a_",
    "@statsig\\.com$",
    "(?i)STATSIG",
    "[0-9]+",
    "^$",
    ".*",
    "Chrome/\\d+",
    "^(US|CA)$",
    "(?<=@)gmail",
    "(a)\\1",
    "🗻",
    "[",
    "(unclosed",
    "a{2,1}",
    "\\",
    "(?P<n>x)(?P=n)",
    "^1\\.3",
    "true",
    "ユーザー",
];

/// Timestamp targets: RFC 3339, `%Y-%m-%d %H:%M:%S`, ms and seconds, as strings and numbers,
/// plus non-timestamps. All far from now.
fn time_target(rng: &mut Rng, past_only: bool) -> Value {
    let past = [
        json!("2000-01-01T00:00:00Z"),
        json!("2001-09-09T01:46:40.000+02:00"),
        json!("2000-06-15 12:00:00"),
        json!(946_684_800_000_u64),
        json!("946684800000"),
        json!(946_684_800),
        json!("946684800"),
        json!(1_672_531_200_000_u64),
        json!("2023-01-01T00:00:00Z"),
        json!("2023-01-01 00:00:00"),
        json!(1_672_531_200_000.5),
        json!(-86_400_000),
        json!(0),
    ];
    let future_or_odd = [
        json!("2100-01-01T00:00:00Z"),
        json!("2150-12-31 23:59:59"),
        json!(4_102_444_800_000_u64),
        json!("4102444800000"),
        json!("2023-01-01"),
        json!("1672531200000.0"),
        json!("not a time"),
        json!(null),
        json!(true),
        json!(["2000-01-01T00:00:00Z"]),
    ];
    if past_only || rng.chance(55) {
        rng.pick(&past).clone()
    } else {
        rng.pick(&future_or_odd).clone()
    }
}

/// A lowercase/uppercase/affix variation of a string (for targets).
fn mutate_string(rng: &mut Rng, s: &str) -> String {
    let chars: Vec<char> = s.chars().collect();
    match rng.below(10) {
        0 => s.to_uppercase(),
        1 => s.to_lowercase(),
        2 if chars.len() > 1 => chars[..chars.len() / 2].iter().collect(),
        3 if chars.len() > 1 => chars[chars.len() / 2..].iter().collect(),
        4 if chars.len() > 2 => chars[1..chars.len() - 1].iter().collect(),
        _ => s.to_string(),
    }
}

/// A scalar drawn from `pool`, or one of the coercion edge cases.
fn scalar(rng: &mut Rng, pool: &[Value]) -> Value {
    if rng.chance(75) {
        let v = rng.pick(pool).clone();
        return match (rng.below(8), &v) {
            (0, Value::String(s)) => json!(mutate_string(rng, s)),
            (1, Value::Number(n)) => json!(n.to_string()),
            (2, Value::Number(n)) => n.as_f64().map_or(v.clone(), |f| json!(f)),
            _ => v,
        };
    }
    let odd = [
        json!(1),
        json!(1.0),
        json!("1"),
        json!("1.0"),
        json!(true),
        json!("true"),
        json!(null),
        json!(""),
        json!(-0.0),
        json!(12_345_678_901_234_567_890_u64),
        json!(1e21),
        json!("İ"),
        json!("ß"),
        json!("A"),
        json!("a"),
    ];
    rng.pick(&odd).clone()
}

/// An array of 0..=6 elements from `pool`, with mixed types and case collisions.
fn target_array(rng: &mut Rng, pool: &[Value]) -> Value {
    let n = match rng.below(10) {
        0 => 0,
        1..=3 => 1,
        _ => 2 + rng.below(5),
    };
    let mut items: Vec<Value> = (0..n).map(|_| scalar(rng, pool)).collect();
    if rng.chance(15) {
        items.push(json!("A"));
        items.push(json!("a"));
    }
    if rng.chance(10) {
        // An object element, keys sorted (preserve_order).
        items.push(json!({"a": 1, "b": "x"}));
    }
    if rng.chance(8) {
        items.push(json!(["nested"]));
    }
    if rng.chance(20) && !items.is_empty() {
        // Case collision of an existing string element.
        if let Some(s) = items.iter().find_map(|v| v.as_str().map(str::to_string)) {
            let upper = s.to_uppercase();
            let i = rng.below(items.len() + 1);
            items.insert(i, json!(upper));
        }
    }
    Value::Array(items)
}

/// An object target for `any`/`none`: keys from the pool's string facets.
fn target_object(rng: &mut Rng, pool: &[Value]) -> Value {
    let mut keys: Vec<String> = (0..=rng.below(4))
        .map(|_| match scalar(rng, pool) {
            Value::String(s) => s,
            other => other.to_string(),
        })
        .collect();
    keys.sort();
    keys.dedup();
    let mut map = Map::new();
    for key in keys {
        map.insert(key, json!(true));
    }
    Value::Object(map)
}

/// A target for `operator`, values drawn from `pool`.
fn target_for(rng: &mut Rng, operator: &str, pool: &[Value]) -> Value {
    match operator {
        "gt" | "gte" | "lt" | "lte" => match rng.below(12) {
            0 => json!(null),
            1 => json!("abc"),
            2 => json!(true),
            3 => json!(["5"]),
            4 => json!("NaN"),
            5 => json!("inf"),
            _ => scalar(rng, pool),
        },
        op if op.starts_with("version_") => match rng.below(10) {
            0 => json!(1.3),
            1 => json!(null),
            2..=4 => scalar(rng, pool),
            _ => json!(rng.pick(VERSION_TARGETS)),
        },
        "any" | "none" | "any_case_sensitive" | "none_case_sensitive" => match rng.below(20) {
            0 => json!(null),
            1 => scalar(rng, pool),
            2 | 3 => target_object(rng, pool),
            _ => target_array(rng, pool),
        },
        "str_starts_with_any" | "str_ends_with_any" | "str_contains_any" | "str_contains_none" => {
            match rng.below(20) {
                0 => json!(null),
                1 => scalar(rng, pool),
                2 => json!([""]),
                3 => target_object(rng, pool),
                _ => target_array(rng, pool),
            }
        }
        "str_matches" => match rng.below(12) {
            0 => json!(null),
            1 => json!(["^9$"]),
            2 => json!(9),
            _ => json!(rng.pick(REGEXES)),
        },
        "eq" | "neq" => match rng.below(12) {
            0 => json!(null),
            1 => target_array(rng, pool),
            2 => target_object(rng, pool),
            _ => scalar(rng, pool),
        },
        "before" | "after" => time_target(rng, false),
        "on" => time_target(rng, true),
        "in_segment_list" | "not_in_segment_list" => match rng.below(10) {
            0 => json!(MISSING_ID_LIST_NAME),
            1 => json!([ID_LIST_NAME]),
            2 => json!(null),
            _ => json!(ID_LIST_NAME),
        },
        op if op.contains("array_contains") => match rng.below(12) {
            0 => json!(null),
            1 => json!("a"),
            2 => json!([]),
            3 | 4 => json!(rng
                .pick(&[
                    json!(["a"]),
                    json!(["a", "b"]),
                    json!(["A"]),
                    json!([1]),
                    json!(["1"]),
                    json!([true]),
                    json!(["true"]),
                    json!(["a", "b", "1", "true"]),
                    json!(["c"]),
                    json!([""]),
                ])
                .clone()),
            _ => target_array(rng, pool),
        },
        _ => scalar(rng, pool),
    }
}

// --------------------------------------------------------------------------------- the builder

/// An entity that conditions may reference, with the depth of its reference chain.
#[derive(Clone, Debug)]
struct Referable {
    name: String,
    depth: usize,
}

struct Builder {
    rng: Rng,
    size: SpecSize,
    conditions: Map<String, Value>,
    /// Condition keys already created, with the reference depth they add.
    reusable: Vec<(String, usize)>,
    gates: Vec<Referable>,
    experiments: Vec<Referable>,
    /// Experiment names that are allowed as layer delegates, with `hasSharedParams`.
    delegates: Vec<String>,
    app_id: Option<String>,
    /// Whether this payload gets unsupported conditions (unknown types / operators, missing
    /// operators or condition keys). Only some payloads do: unsupported nested gates propagate
    /// to every referencing entity.
    unsupported: bool,
    counter: u64,
}

/// Parameter names shared by configs, experiments and layers (so layer merging overlaps).
const PARAMS: &[&str] = &[
    "a_string",
    "a_number",
    "a_bool",
    "an_object",
    "an_array",
    "p1",
    "p2",
];
const GROUP_NAMES: &[&str] = &["Control", "Test", "Test #2", "control", "Grüppe", ""];
const APP_IDS: &[&str] = &["app_web", "app_ios", "APP_WEB", "42"];

impl Builder {
    fn next_id(&mut self, prefix: &str) -> String {
        self.counter += 1;
        format!(
            "{prefix}{}{:04x}",
            self.counter,
            self.rng.next_u64() % 0x1_0000
        )
    }

    fn salt(&mut self) -> String {
        let n = self.rng.next_u64();
        format!(
            "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
            n >> 32,
            (n >> 16) & 0xffff,
            n & 0xffff,
            self.rng.next_u64() & 0xffff,
            self.rng.next_u64() & 0xffff_ffff_ffff
        )
    }

    fn pass_percentage(&mut self) -> Value {
        match self.rng.below(20) {
            0..=5 => json!(100),
            6 => json!(100.0),
            7..=9 => json!(0),
            10 | 11 => json!(50),
            12 => json!(33.3),
            13 => json!(0.5),
            14 => json!(99.99),
            15 => json!(12.345),
            16 => json!(66.67),
            17 => json!(1),
            _ => json!(self.rng.below(10_000) as f64 / 100.0),
        }
    }

    /// A random JSON parameter value.
    fn param_value(&mut self) -> Value {
        match self.rng.below(9) {
            0 => json!(format!("v{}", self.rng.below(100))),
            1 => json!(self.rng.below(1000)),
            2 => json!(self.rng.below(1000) as f64 / 8.0),
            3 => json!(self.rng.chance(50)),
            4 => json!(null),
            5 => json!({"k": self.rng.below(5), "nested": {"deep": "ünï"}}),
            6 => json!([1, "two", false]),
            7 => json!(""),
            _ => json!("unicode 🗻"),
        }
    }

    fn object_value(&mut self) -> Value {
        let mut map = Map::new();
        for _ in 0..self.rng.below(4) {
            let key = (*self.rng.pick(PARAMS)).to_string();
            let value = self.param_value();
            map.insert(key, value);
        }
        Value::Object(map)
    }

    /// A gate (or experiment) name to reference: an earlier one, a missing one or an odd one.
    /// Returns the name and the depth it adds.
    fn reference(&mut self, experiments: bool) -> (Value, usize) {
        let pool: Vec<Referable> = if experiments {
            self.experiments.clone()
        } else {
            self.gates.clone()
        };
        let usable: Vec<&Referable> = pool.iter().filter(|r| r.depth < MAX_REF_DEPTH).collect();
        if !usable.is_empty() && self.rng.chance(82) {
            let r = *self.rng.pick(&usable);
            return (json!(r.name), r.depth + 1);
        }
        let odd = if experiments {
            match self.rng.below(4) {
                0 => json!(""),
                1 => json!(5),
                _ => json!("missing_experiment"),
            }
        } else {
            match self.rng.below(6) {
                0 => json!(""),
                1 => json!(7),
                2 => json!("segment:missing"),
                _ => json!("missing_gate"),
            }
        };
        (odd, 0)
    }

    /// Creates a condition (or reuses an earlier one) and returns its key and depth.
    fn condition(&mut self) -> (String, usize) {
        if !self.reusable.is_empty() && self.rng.chance(12) {
            return self.rng.pick(&self.reusable).clone();
        }
        if self.unsupported && self.rng.chance(1) {
            // A key missing from condition_map: unsupported.
            return ("missing_condition_key".to_string(), 0);
        }
        let (condition, depth) = self.new_condition();
        let key = loop {
            let key = (self.rng.next_u64() % 10_000_000_000).to_string();
            if !self.conditions.contains_key(&key) {
                break key;
            }
        };
        self.conditions.insert(key.clone(), condition);
        self.reusable.push((key.clone(), depth));
        (key, depth)
    }

    fn new_condition(&mut self) -> (Value, usize) {
        let unsupported = self.unsupported;
        let rng = &mut self.rng;
        let mut c = Map::new();
        let mut depth = 0;
        let id_type = *rng.pick(UNIT_ID_TYPES);
        let kind = match rng.below(100) {
            0..=7 => "public",
            8..=19 => "pass_gate",
            20..=25 => "fail_gate",
            26..=55 => "user_field",
            56..=59 => "environment_field",
            60..=64 => "ua_based",
            65..=69 => "ip_based",
            70..=72 => "current_time",
            73..=78 => "user_bucket",
            79..=90 => "unit_id",
            91..=93 => "target_app",
            94..=98 => "experiment_group",
            _ if unsupported => "unknown",
            _ => "user_field",
        };
        let kind = if kind == "unknown" {
            rng.pick(UNKNOWN_TYPES)
        } else {
            kind
        };
        c.insert("type".into(), json!(kind));

        // Operator (and thereby target) choice per type.
        let any_op = |rng: &mut Rng| -> String {
            if unsupported && rng.chance(3) {
                (*rng.pick(UNKNOWN_OPERATORS)).to_string()
            } else {
                (*rng.pick(OPERATORS)).to_string()
            }
        };
        let pick_op = |rng: &mut Rng, common: &[&str]| -> String {
            if rng.chance(75) {
                (*rng.pick(common)).to_string()
            } else {
                any_op(rng)
            }
        };
        let (operator, field, pool): (Option<String>, Option<String>, Vec<Value>) = match kind {
            "public" => {
                let op = match rng.below(3) {
                    0 => None,
                    1 => Some("none".to_string()),
                    _ => Some("any".to_string()),
                };
                (op, None, Vec::new())
            }
            "pass_gate" | "fail_gate" | "experiment_group" => (None, None, Vec::new()),
            "user_field" => {
                let op = any_op(rng);
                let field = if op.contains("array_contains") && rng.chance(60) {
                    (*rng.pick(ARRAY_FIELDS)).to_string()
                } else {
                    (*rng.pick(USER_FIELDS)).to_string()
                };
                let pool = field_pool(&field);
                (Some(op), Some(field), pool)
            }
            "environment_field" => {
                let field = (*rng.pick(&["tier", "tier", "TIER", "region", "Tier"])).to_string();
                let op = pick_op(
                    rng,
                    &[
                        "any",
                        "none",
                        "eq",
                        "neq",
                        "str_contains_any",
                        "any_case_sensitive",
                    ],
                );
                let pool = if field.eq_ignore_ascii_case("tier") {
                    field_pool("tier")
                } else {
                    vec![json!("eu"), json!("us")]
                };
                (Some(op), Some(field), pool)
            }
            "ua_based" => {
                let field = (*rng.pick(UA_FIELDS)).to_string();
                let op = pick_op(
                    rng,
                    &[
                        "any",
                        "none",
                        "version_gt",
                        "version_gte",
                        "version_lt",
                        "version_lte",
                        "version_eq",
                        "version_neq",
                        "str_contains_any",
                        "any_case_sensitive",
                        "str_matches",
                    ],
                );
                let pool = field_pool(&field);
                (Some(op), Some(field), pool)
            }
            "ip_based" => {
                let field =
                    (*rng.pick(&["country", "country", "country", "Country", "ip"])).to_string();
                let op = pick_op(
                    rng,
                    &[
                        "any",
                        "none",
                        "any_case_sensitive",
                        "eq",
                        "str_starts_with_any",
                    ],
                );
                let pool = field_pool(&field);
                (Some(op), Some(field), pool)
            }
            "current_time" => {
                let op = pick_op(rng, &["before", "after", "on", "after", "before"]);
                (Some(op), None, vec![json!(1_672_531_200_000_u64)])
            }
            "user_bucket" => {
                let op = pick_op(rng, &["lt", "lt", "lte", "gt", "gte", "any", "none", "eq"]);
                let pool = vec![
                    json!(500),
                    json!(100),
                    json!(999),
                    json!(0),
                    json!(1000),
                    json!("500"),
                    json!(250.5),
                    json!(rng.below(1000)),
                    json!(rng.below(1000)),
                    json!(rng.below(1000).to_string()),
                ];
                (Some(op), None, pool)
            }
            "unit_id" => {
                let op = pick_op(
                    rng,
                    &[
                        "any",
                        "none",
                        "in_segment_list",
                        "not_in_segment_list",
                        "in_segment_list",
                        "any_case_sensitive",
                        "str_starts_with_any",
                        "eq",
                    ],
                );
                let pool: Vec<Value> = UNIT_IDS
                    .iter()
                    .map(|s| json!(s))
                    .chain([json!(123), json!("user_"), json!("companyid-")])
                    .collect();
                let field = rng.chance(10).then(|| "ignored".to_string());
                (Some(op), field, pool)
            }
            "target_app" => {
                let op = pick_op(
                    rng,
                    &[
                        "any",
                        "none",
                        "any_case_sensitive",
                        "eq",
                        "neq",
                        "str_matches",
                    ],
                );
                let pool = APP_IDS.iter().map(|s| json!(s)).collect();
                (Some(op), None, pool)
            }
            _ => {
                let op = any_op(rng);
                (Some(op), Some("level".to_string()), field_pool("level"))
            }
        };

        let mut target = match (kind, operator.as_deref()) {
            ("public", _) => json!(null),
            (_, Some(op)) => target_for(rng, op, &pool),
            _ => json!(null),
        };
        let mut field = field;
        if kind == "pass_gate" || kind == "fail_gate" {
            if rng.chance(15) {
                c.insert("operator".into(), json!("any"));
            }
            let (name, d) = self.reference(false);
            target = name;
            depth = d;
        } else if kind == "experiment_group" {
            let (name, d) = self.reference(true);
            depth = d;
            field = match name {
                Value::String(s) => Some(s),
                _ => None,
            };
            let rng = &mut self.rng;
            let op = if rng.chance(80) {
                (*rng.pick(&[
                    "any",
                    "none",
                    "eq",
                    "neq",
                    "str_matches",
                    "any_case_sensitive",
                ]))
                .to_string()
            } else {
                (*rng.pick(OPERATORS)).to_string()
            };
            let groups: Vec<Value> = GROUP_NAMES.iter().map(|g| json!(g)).collect();
            target = target_for(rng, &op, &groups);
            c.insert("operator".into(), json!(op));
        }
        let rng = &mut self.rng;
        if let Some(op) = operator {
            // A missing operator on a type that needs one is an unsupported path.
            if kind == "public" || !unsupported || !rng.chance(1) {
                c.insert("operator".into(), json!(op));
            }
        }
        if kind == "user_bucket" || rng.chance(3) {
            let salt = match rng.below(6) {
                0 => String::new(),
                _ => format!("bucket-salt-{}", rng.below(1000)),
            };
            let mut additional = Map::new();
            if rng.chance(90) {
                additional.insert("salt".into(), json!(salt));
            }
            if rng.chance(10) {
                additional.insert("custom_field".into(), json!("x"));
            }
            c.insert("additionalValues".into(), Value::Object(additional));
        }
        if !(target.is_null() && rng.chance(50)) {
            c.insert("targetValue".into(), target);
        }
        let needs_field = matches!(
            kind,
            "user_field" | "environment_field" | "ua_based" | "ip_based"
        );
        if needs_field && rng.chance(2) {
            // No `field` at all: the left value is absent.
        } else if let Some(field) = field {
            c.insert("field".into(), json!(field));
        } else if rng.chance(10) {
            c.insert("field".into(), json!(null));
        }
        c.insert("idType".into(), json!(id_type));
        if rng.chance(20) {
            c.insert("checksum".into(), json!("ignored"));
        }
        (Value::Object(c), depth)
    }

    /// Rules of a spec; returns the rules and the deepest reference they make.
    fn rules(&mut self, entity: &str, n: usize) -> (Vec<Value>, usize) {
        let mut rules = Vec::with_capacity(n);
        let mut max_depth = 0;
        for i in 0..n {
            let n_conditions = self.rng.below(self.size.max_conditions + 1);
            let mut conditions = Vec::with_capacity(n_conditions);
            for _ in 0..n_conditions {
                let (key, depth) = self.condition();
                max_depth = max_depth.max(depth);
                conditions.push(json!(key));
            }
            let mut rule = Map::new();
            let id = match (entity, self.rng.below(12)) {
                ("experiment", 0) => "layerAssignment".to_string(),
                ("experiment", 1) => "targetingGate".to_string(),
                ("experiment" | "autotune", 2) => "prestart".to_string(),
                (_, 3) => format!("{}:0.50:1", self.next_id("r")),
                (_, 4) => format!("{}:override", self.next_id("r")),
                _ => self.next_id("rule_"),
            };
            rule.insert("name".into(), json!(format!("rule {i}")));
            rule.insert("passPercentage".into(), self.pass_percentage());
            let return_value = if matches!(entity, "feature_gate" | "holdout" | "segment") {
                json!(self.rng.chance(80))
            } else {
                self.object_value()
            };
            rule.insert("returnValue".into(), return_value);
            rule.insert("id".into(), json!(id));
            match self.rng.below(10) {
                0 => {
                    rule.insert("salt".into(), json!(""));
                }
                1 | 2 => {}
                3 => {
                    rule.insert("salt".into(), json!(null));
                }
                _ => {
                    let salt = self.salt();
                    rule.insert("salt".into(), json!(salt));
                }
            }
            rule.insert("conditions".into(), Value::Array(conditions));
            rule.insert("idType".into(), json!(self.rng.pick(RULE_ID_TYPES)));
            if matches!(entity, "experiment" | "autotune" | "layer") || self.rng.chance(5) {
                if self.rng.chance(70) {
                    rule.insert("groupName".into(), json!(self.rng.pick(GROUP_NAMES)));
                }
                if self.rng.chance(70) {
                    rule.insert("isExperimentGroup".into(), json!(self.rng.chance(60)));
                }
            }
            if self.rng.chance(10) {
                rule.insert("samplingRate".into(), json!(self.rng.below(2000)));
            }
            if entity == "layer" && self.rng.chance(55) {
                let delegate = if !self.delegates.is_empty() && self.rng.chance(80) {
                    self.rng.pick(&self.delegates).clone()
                } else {
                    "missing_experiment".to_string()
                };
                rule.insert("configDelegate".into(), json!(delegate));
            }
            rules.push(Value::Object(rule));
        }
        (rules, max_depth)
    }

    fn spec(&mut self, entity: &str) -> (Value, usize) {
        let n_rules = self.rng.below(self.size.max_rules + 1);
        let (rules, depth) = self.rules(entity, n_rules);
        let is_gate = matches!(entity, "feature_gate" | "holdout" | "segment");
        let mut spec = Map::new();
        spec.insert(
            "type".into(),
            json!(if is_gate {
                "feature_gate"
            } else {
                "dynamic_config"
            }),
        );
        let salt = if self.rng.chance(4) {
            String::new()
        } else {
            self.salt()
        };
        spec.insert("salt".into(), json!(salt));
        let default_value = if is_gate {
            json!((entity == "holdout" && self.rng.chance(40)) || self.rng.chance(8))
        } else {
            self.object_value()
        };
        spec.insert("defaultValue".into(), default_value);
        spec.insert("enabled".into(), json!(self.rng.chance(85)));
        spec.insert("rules".into(), Value::Array(rules));
        spec.insert("idType".into(), json!(self.rng.pick(RULE_ID_TYPES)));
        spec.insert("entity".into(), json!(entity));
        if self.rng.chance(60) {
            spec.insert("version".into(), json!(self.rng.below(40)));
        }
        if entity == "experiment" || (entity == "autotune" && self.rng.chance(30)) {
            if self.rng.chance(85) {
                spec.insert("isActive".into(), json!(self.rng.chance(70)));
            }
            if self.rng.chance(70) {
                spec.insert("hasSharedParams".into(), json!(self.rng.chance(60)));
            }
            if self.rng.chance(70) {
                let mut params: Vec<&str> = (0..self.rng.below(4))
                    .map(|_| *self.rng.pick(PARAMS))
                    .collect();
                params.sort_unstable();
                params.dedup();
                spec.insert("explicitParameters".into(), json!(params));
            }
        }
        if entity == "layer" && self.rng.chance(35) {
            spec.insert("useNewLayerEval".into(), json!(self.rng.chance(85)));
        }
        if self.rng.chance(10) {
            spec.insert("targetAppIDs".into(), json!([self.rng.pick(APP_IDS)]));
        }
        if self.rng.chance(5) {
            spec.insert("checksum".into(), json!("abc"));
        }
        (Value::Object(spec), depth)
    }
}

/// A valid random dcs-v2 payload for `seed` (deterministic).
pub fn random_payload(seed: u64, size: SpecSize) -> Value {
    let mut b = Builder {
        rng: Rng::new(seed ^ 0x5EED_5EED_0000_0000),
        size,
        conditions: Map::new(),
        reusable: Vec::new(),
        gates: Vec::new(),
        experiments: Vec::new(),
        delegates: Vec::new(),
        app_id: None,
        unsupported: false,
        counter: 0,
    };
    b.unsupported = b.rng.chance(35);
    if b.rng.chance(70) {
        b.app_id = Some((*b.rng.pick(APP_IDS)).to_string());
    }

    // Entity slots: holdouts and segments first (most referenced), the rest shuffled; layers last.
    let mut slots: Vec<&str> = Vec::new();
    slots.extend((0..size.holdouts).map(|_| "holdout"));
    slots.extend((0..size.segments).map(|_| "segment"));
    let mut rest: Vec<&str> = Vec::new();
    rest.extend((0..size.gates).map(|_| "feature_gate"));
    rest.extend((0..size.configs).map(|_| "dynamic_config"));
    rest.extend((0..size.autotunes).map(|_| "autotune"));
    rest.extend((0..size.experiments).map(|_| "experiment"));
    for i in (1..rest.len()).rev() {
        let j = b.rng.below(i + 1);
        rest.swap(i, j);
    }
    slots.extend(rest);
    slots.extend((0..size.layers).map(|_| "layer"));

    let mut feature_gates = Map::new();
    let mut dynamic_configs = Map::new();
    let mut layer_configs = Map::new();
    let mut experiment_to_layer = Map::new();
    for entity in slots {
        let (spec, depth) = b.spec(entity);
        let name = match entity {
            "segment" => b.next_id("segment:seg_"),
            "holdout" => b.next_id("holdout_"),
            "feature_gate" if b.rng.chance(10) => b.next_id("Gäte ünï "),
            other => b.next_id(&format!("{other}_")),
        };
        match entity {
            "holdout" | "segment" | "feature_gate" => {
                feature_gates.insert(name.clone(), spec);
                b.gates.push(Referable { name, depth });
            }
            "layer" => {
                layer_configs.insert(name, spec);
            }
            _ => {
                let has_shared = spec.get("hasSharedParams") == Some(&json!(true));
                dynamic_configs.insert(name.clone(), spec);
                if entity == "experiment" {
                    if has_shared || b.rng.chance(30) {
                        b.delegates.push(name.clone());
                    }
                    b.experiments.push(Referable {
                        name: name.clone(),
                        depth,
                    });
                } else if b.rng.chance(25) {
                    // get_experiment on a dynamic config works too.
                    b.experiments.push(Referable {
                        name: name.clone(),
                        depth,
                    });
                }
            }
        }
    }
    let layer_names: Vec<String> = layer_configs.keys().cloned().collect();
    for exp in &b.delegates {
        if !layer_names.is_empty() {
            experiment_to_layer.insert(exp.clone(), json!(b.rng.pick(&layer_names)));
        }
    }

    let mut payload = Map::new();
    payload.insert("feature_gates".into(), Value::Object(feature_gates));
    payload.insert("dynamic_configs".into(), Value::Object(dynamic_configs));
    payload.insert("layer_configs".into(), Value::Object(layer_configs));
    payload.insert("condition_map".into(), Value::Object(b.conditions));
    payload.insert(
        "experiment_to_layer".into(),
        Value::Object(experiment_to_layer),
    );
    payload.insert("has_updates".into(), json!(true));
    payload.insert("time".into(), json!(PAYLOAD_TIME));
    if let Some(app_id) = b.app_id {
        payload.insert("app_id".into(), json!(app_id));
    }
    if b.rng.chance(15) {
        payload.insert(
            "default_environment".into(),
            json!(b.rng.pick(&["production", "staging"])),
        );
    }
    payload.insert(
        "id_lists".into(),
        json!({ ID_LIST_NAME: true, MISSING_ID_LIST_NAME: true }),
    );
    Value::Object(payload)
}

// ------------------------------------------------------------------------------------- users

/// `n` users for `payload`: about three quarters from [`generate_users_for_specs`] (which
/// plants harvested target values), the rest built directly from the targets of random
/// conditions (array elements, exact numbers, versions, timestamps, arrays for the
/// `array_contains_*` operators, unit ids).
pub fn users_for_payload(payload: &Value, seed: u64, n: usize) -> Vec<Value> {
    let n_targeted = n / 4;
    let mut users = generate_users_for_specs(&payload.to_string(), seed, n - n_targeted);
    let mut rng = Rng::new(seed ^ 0x0005_E125_0000_0001);
    let conditions: Vec<&Value> = payload
        .get("condition_map")
        .and_then(Value::as_object)
        .map(|m| m.values().collect())
        .unwrap_or_default();
    for i in 0..n_targeted {
        let mut user = Map::new();
        if rng.chance(85) {
            user.insert(
                "userID".into(),
                json!(format!("targeted_{seed}_{i}_{}", rng.below(1000))),
            );
        }
        if rng.chance(40) {
            user.insert("ip".into(), json!(rng.pick(IPV4_ADDRESSES)));
        }
        if !conditions.is_empty() {
            for _ in 0..=rng.below(3) {
                let condition = *rng.pick(&conditions);
                plant_for_condition(&mut rng, &mut user, condition);
            }
        }
        users.push(Value::Object(user));
    }
    users
}

/// A value that makes `condition` likely to pass (or come close).
fn value_for_condition(rng: &mut Rng, condition: &Value) -> Option<Value> {
    let op = condition
        .get("operator")
        .and_then(Value::as_str)
        .unwrap_or("");
    let target = condition.get("targetValue").unwrap_or(&Value::Null);
    let value = match (op, target) {
        (op, Value::Array(items)) if op.contains("array_contains") => {
            let mut picked: Vec<Value> = items
                .iter()
                .filter(|_| rng.chance(70))
                .filter(|v| !v.is_object())
                .cloned()
                .collect();
            if rng.chance(30) {
                picked.push(json!("extra"));
            }
            Value::Array(picked)
        }
        (_, Value::Array(items)) if !items.is_empty() => {
            let v = rng.pick(items).clone();
            match v {
                Value::String(s) if op.starts_with("str_") && rng.chance(50) => {
                    json!(format!("pre{s}post"))
                }
                Value::Object(_) => json!("a"),
                other => other,
            }
        }
        (_, Value::Object(map)) if !map.is_empty() => {
            let keys: Vec<&String> = map.keys().collect();
            json!(rng.pick(&keys))
        }
        (_, Value::Null) => return None,
        (_, Value::Array(_) | Value::Object(_)) => return None,
        (_, v) => v.clone(),
    };
    Some(crate::sorted(&value))
}

fn plant_for_condition(rng: &mut Rng, user: &mut Map<String, Value>, condition: &Value) {
    let kind = condition.get("type").and_then(Value::as_str).unwrap_or("");
    let field = condition.get("field").and_then(Value::as_str);
    let id_type = condition
        .get("idType")
        .and_then(Value::as_str)
        .unwrap_or("userID");
    let Some(value) = value_for_condition(rng, condition) else {
        return;
    };
    match (kind, field) {
        ("unit_id", _) => {
            if id_type.eq_ignore_ascii_case("userid") {
                user.insert("userID".into(), value);
            } else {
                map_entry(user, "customIDs").insert(id_type.to_string(), value);
            }
        }
        ("environment_field", Some(field)) => {
            map_entry(user, "statsigEnvironment").insert(field.to_string(), value);
        }
        ("user_field" | "ua_based" | "ip_based", Some(field)) => {
            let lower = field.to_lowercase();
            if lower == "ip" {
                // Only well-formed, reference-safe IPs (see users.rs).
                if value
                    .as_str()
                    .is_some_and(|ip| IPV4_ADDRESSES.contains(&ip))
                {
                    user.insert("ip".into(), value);
                }
                return;
            }
            let top = match lower.as_str() {
                "userid" => Some("userID"),
                "email" => Some("email"),
                "country" => Some("country"),
                "locale" => Some("locale"),
                "appversion" => Some("appVersion"),
                "useragent" => Some("userAgent"),
                _ => None,
            };
            match top {
                Some(key) if rng.chance(80) => {
                    user.insert(key.into(), value);
                }
                _ => {
                    let key = if rng.chance(10) {
                        lower
                    } else {
                        field.to_string()
                    };
                    let name = if rng.chance(10) {
                        "privateAttributes"
                    } else {
                        "custom"
                    };
                    map_entry(user, name).insert(key, value);
                }
            }
        }
        _ => {}
    }
}

/// The string facet a unit id would have on the reference side, for the simple cases (strings
/// and integers); `None` for other values.
fn simple_string_facet(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) if n.is_i64() || n.is_u64() => Some(n.to_string()),
        _ => None,
    }
}

/// Unit ids (user ids, custom ids, emails) of about 40% of `users`, for the ID list the test
/// serves as [`ID_LIST_NAME`], plus a few fixed ids. Deterministic.
pub fn id_list_ids(users: &[Value], seed: u64) -> Vec<String> {
    let mut rng = Rng::new(seed ^ 0x1D_0000_0000);
    let mut ids: Vec<String> = vec!["a_user".into(), "123".into(), "marcos_1".into()];
    for user in users {
        if !rng.chance(40) {
            continue;
        }
        let mut candidates: Vec<&Value> = Vec::new();
        candidates.extend(user.get("userID"));
        candidates.extend(user.get("email"));
        if let Some(custom) = user.get("customIDs").and_then(Value::as_object) {
            candidates.extend(custom.values());
        }
        for value in candidates {
            if let Some(s) = simple_string_facet(value) {
                if !s.is_empty() && !ids.contains(&s) {
                    ids.push(s);
                }
            }
        }
    }
    ids
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payload_is_deterministic_and_complete() {
        let a = random_payload(3, SpecSize::MEDIUM);
        assert_eq!(a, random_payload(3, SpecSize::MEDIUM));
        assert_ne!(a, random_payload(4, SpecSize::MEDIUM));
        for key in [
            "feature_gates",
            "dynamic_configs",
            "layer_configs",
            "condition_map",
            "experiment_to_layer",
            "has_updates",
            "time",
        ] {
            assert!(a.get(key).is_some(), "{key}");
        }
    }

    #[test]
    fn every_operator_and_type_is_generated() {
        let mut ops = std::collections::BTreeSet::new();
        let mut types = std::collections::BTreeSet::new();
        for seed in 0..200 {
            let p = random_payload(seed, SpecSize::for_seed(seed));
            for c in p["condition_map"]
                .as_object()
                .into_iter()
                .flat_map(|m| m.values())
            {
                if let Some(op) = c.get("operator").and_then(Value::as_str) {
                    ops.insert(op.to_string());
                }
                types.insert(c["type"].as_str().unwrap_or_default().to_string());
            }
        }
        for op in OPERATORS {
            assert!(ops.contains(*op), "operator {op} never generated");
        }
        for t in CONDITION_TYPES {
            assert!(types.contains(*t), "type {t} never generated");
        }
    }

    #[test]
    fn reference_graph_is_acyclic_and_shallow() {
        for seed in 0..100 {
            let p = random_payload(seed, SpecSize::LARGE);
            // Referenced names always precede the referencing spec in generation order, which
            // the depth bookkeeping enforces; check the bound on the resulting depth here.
            let gates = p["feature_gates"].as_object().expect("gates");
            let configs = p["dynamic_configs"].as_object().expect("configs");
            let conditions = p["condition_map"].as_object().expect("conditions");
            fn depth(
                name: &str,
                gates: &Map<String, Value>,
                configs: &Map<String, Value>,
                conditions: &Map<String, Value>,
                seen: &mut Vec<String>,
            ) -> usize {
                assert!(!seen.iter().any(|s| s == name), "cycle through {name}");
                let Some(spec) = gates.get(name).or_else(|| configs.get(name)) else {
                    return 0;
                };
                seen.push(name.to_string());
                let mut d = 0;
                for rule in spec["rules"].as_array().expect("rules") {
                    for key in rule["conditions"].as_array().expect("conditions") {
                        let Some(c) = conditions.get(key.as_str().unwrap_or_default()) else {
                            continue;
                        };
                        let target = match c["type"].as_str() {
                            Some("pass_gate" | "fail_gate") => c.get("targetValue"),
                            Some("experiment_group") => c.get("field"),
                            _ => None,
                        };
                        if let Some(t) = target.and_then(Value::as_str) {
                            d = d.max(1 + depth(t, gates, configs, conditions, seen));
                        }
                    }
                }
                seen.pop();
                d
            }
            for name in gates.keys().chain(configs.keys()) {
                let d = depth(name, gates, configs, conditions, &mut Vec::new());
                assert!(d <= MAX_REF_DEPTH + 1, "seed {seed}: {name} depth {d}");
            }
        }
    }
}
