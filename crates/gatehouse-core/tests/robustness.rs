//! Robustness: "no input may cause a panic".
//!
//! Deterministic, seeded fuzzing on stable Rust (the coverage-guided targets
//! in `fuzz/` need nightly; see docs/FUZZING.md). Every parser and the
//! evaluator are fed random bytes, random JSON and structurally mutated
//! valid payloads; every case runs inside `catch_unwind`. A panic is recorded
//! with its site, the case seed and the input, and the test fails at the end
//! listing every distinct panic site.
//!
//! `GATEHOUSE_ROBUSTNESS_CASES` scales the number of cases (default 1000 per
//! generator; the fixtures of the reference crate, when present in the cargo
//! registry, get a tenth of that).

// The embedded spec is one large `json!` literal.
#![recursion_limit = "512"]

use gatehouse_core::country::CountryTable;
use gatehouse_core::idlist::{IdList, IdLists};
use gatehouse_core::report::{report_line, ALL_KINDS, BOOTSTRAP_SOURCE};
use gatehouse_core::ua::parse_user_agent;
use gatehouse_core::value::DynValue;
use gatehouse_core::{evaluate, parse_specs, EvalEnv, Kind, Outcome, Snapshot, User};
use serde_json::{json, Map, Value};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Once, OnceLock};
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------
// PRNG and case budget
// ---------------------------------------------------------------------------

/// splitmix64: tiny, fast, good enough for fuzzing, and fully deterministic.
struct Rng(u64);

impl Rng {
    fn new(seed: u64) -> Rng {
        Rng(seed)
    }
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (`n > 0`).
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    /// True with probability `num / den`.
    fn chance(&mut self, num: u64, den: u64) -> bool {
        self.next() % den < num
    }
    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// The per-generator case count, from `GATEHOUSE_ROBUSTNESS_CASES`.
fn cases() -> u64 {
    std::env::var("GATEHOUSE_ROBUSTNESS_CASES")
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(1000)
}

/// The seed of case `i` of generator `stream`: distinct and reproducible.
fn case_seed(stream: u64, i: u64) -> u64 {
    stream.wrapping_mul(0x1000_0000_0000) ^ i
}

// ---------------------------------------------------------------------------
// Panic capture
// ---------------------------------------------------------------------------

thread_local! {
    static IN_CASE: Cell<bool> = const { Cell::new(false) };
    static LAST_PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Install (once) a panic hook that, inside a case, records the panic site
/// and message silently; outside a case (assertions of the test itself) it
/// defers to the default hook.
fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if IN_CASE.with(Cell::get) {
                let mut site = info
                    .location()
                    .map(|l| format!("{}:{}", l.file(), l.line()))
                    .unwrap_or_else(|| "<unknown>".into());
                let foreign = |file: &str| file.contains("/rustc/") || file.contains("/.cargo/");
                if foreign(&site) {
                    // A panic inside std or a dependency: name the first
                    // frame of gatehouse-core that led there.
                    let bt = std::backtrace::Backtrace::force_capture().to_string();
                    if let Some(frame) = bt.lines().map(str::trim).find(|l| {
                        l.starts_with("at ") && !foreign(l) && !l.contains("tests/robustness.rs")
                    }) {
                        site = format!("{} (via {site})", &frame[3..]);
                    }
                }
                let payload = info.payload();
                let msg = payload
                    .downcast_ref::<&str>()
                    .map(|s| (*s).to_owned())
                    .or_else(|| payload.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                LAST_PANIC.with(|p| *p.borrow_mut() = Some(format!("{site}\t{msg}")));
            } else {
                default(info);
            }
        }));
    });
}

/// A case slower than this counts as a hang.
fn slow_limit() -> Duration {
    if cfg!(debug_assertions) {
        Duration::from_secs(20)
    } else {
        Duration::from_secs(2)
    }
}

/// Panics (and hangs) seen by one test, grouped by site.
#[derive(Default)]
struct Findings {
    /// site → (count, first report).
    by_site: BTreeMap<String, (usize, String)>,
    /// Other invariant violations (error without a path, invalid report line).
    violations: Vec<String>,
    /// Payloads that parsed / were rejected, and report lines rendered.
    parsed: usize,
    rejected: usize,
    evaluations: usize,
}

fn shorten(input: &str) -> String {
    const MAX: usize = 4000;
    if input.len() <= MAX {
        input.to_owned()
    } else {
        let mut end = MAX;
        while !input.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}… ({} bytes in all)", &input[..end], input.len())
    }
}

impl Findings {
    /// Run one case; `input` describes it for the report (only built on failure).
    fn run<R>(
        &mut self,
        what: &str,
        seed: u64,
        input: &dyn Fn() -> String,
        f: impl FnOnce() -> R,
    ) -> Option<R> {
        install_hook();
        IN_CASE.with(|c| c.set(true));
        let start = Instant::now();
        let result = catch_unwind(AssertUnwindSafe(f));
        let elapsed = start.elapsed();
        IN_CASE.with(|c| c.set(false));
        match result {
            Ok(r) => {
                if elapsed > slow_limit() {
                    let site = format!("HANG/SLOW {what}");
                    let entry = self.by_site.entry(site).or_insert_with(|| {
                        (
                            0,
                            format!(
                                "{what} seed={seed:#x} took {elapsed:?}\ninput: {}",
                                shorten(&input())
                            ),
                        )
                    });
                    entry.0 += 1;
                }
                Some(r)
            }
            Err(_) => {
                let panic = LAST_PANIC
                    .with(|p| p.borrow_mut().take())
                    .unwrap_or_else(|| "<no message>".into());
                let (site, msg) = panic.split_once('\t').unwrap_or((&panic, ""));
                let entry = self.by_site.entry(site.to_owned()).or_insert_with(|| {
                    let report = format!(
                        "PANIC in {what} at {site}: {msg}\nseed={seed:#x}\ninput: {}",
                        shorten(&input())
                    );
                    (0, report)
                });
                entry.0 += 1;
                None
            }
        }
    }

    fn violation(&mut self, v: String) {
        if self.violations.len() < 20 {
            eprintln!("VIOLATION: {v}");
        }
        self.violations.push(v);
    }

    fn finish(self, test: &str) {
        if self.parsed + self.rejected > 0 {
            eprintln!(
                "{test}: {} payloads parsed, {} rejected, {} evaluations",
                self.parsed, self.rejected, self.evaluations
            );
        }
        if self.by_site.is_empty() && self.violations.is_empty() {
            return;
        }
        let mut msg = format!("{test}: {} panic/hang site(s)\n", self.by_site.len());
        for (site, (count, report)) in &self.by_site {
            msg.push_str(&format!("--- {site} ({count} case(s))\n{report}\n"));
        }
        if !self.violations.is_empty() {
            msg.push_str(&format!(
                "{} invariant violation(s), first: {}\n",
                self.violations.len(),
                self.violations[0]
            ));
        }
        panic!("{msg}");
    }
}

// ---------------------------------------------------------------------------
// Interesting values
// ---------------------------------------------------------------------------

const OPERATORS: &[&str] = &[
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
    "encoded_any",
    "no_such_operator",
    "",
    "ANY",
];

const CONDITION_TYPES: &[&str] = &[
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
    "multi_pass_gate",
    "no_such_type",
    "",
];

const FIELDS: &[&str] = &[
    "email",
    "userID",
    "USERID",
    "user_id",
    "ip",
    "country",
    "Country",
    "locale",
    "appVersion",
    "app_version",
    "userAgent",
    "user_agent",
    "os_name",
    "OSName",
    "os_version",
    "browser_name",
    "browser_version",
    "level",
    "tags",
    "ts",
    "obj",
    "long",
    "tier",
    "exp_a",
    "exp_loop",
    "",
    "🗻",
];

const ID_TYPES: &[&str] = &[
    "userID",
    "userid",
    "stableID",
    "companyID",
    "companyid",
    "",
    "🗻",
];

fn interesting_strings() -> Vec<String> {
    let mut v: Vec<String> = [
        "",
        "a",
        "US",
        "us",
        "9",
        "0",
        "-1",
        "1.2.3",
        "1..2",
        "v1",
        "1.",
        ".5",
        "+1",
        "1-beta",
        "99999999999999999999999999999999999999999.1",
        "NaN",
        "inf",
        "-inf",
        "1e400",
        "-0",
        "true",
        "null",
        "2023-01-01T00:00:00Z",
        "2023-01-01 00:00:00",
        "9999-12-31T23:59:59+14:00",
        "0000-01-01T00:00:00Z",
        "2023-13-45T99:99:99Z",
        "-9223372036854775808",
        "9223372036854775807",
        "18446744073709551615",
        "999.1.1.1",
        "1.2.3",
        "::1",
        "256.0.0.1",
        "1.-1.0.0",
        "+1.0.0.0",
        "1.0.0.0",
        "8.8.8.8",
        "0.0.0.0",
        "1.2.3.4.5",
        "(",
        ")",
        "[",
        "\\",
        "(?<=a+)b",
        "(a+)+$",
        "(?i)US",
        "(a|a)*b",
        "\\1(a)",
        "🗻",
        "é",
        "İ",
        "ß",
        "Ⅻ",
        "\u{0}",
        "\u{FFFD}",
        "segment:beta",
        "g_self",
        "g_chain1",
        "exp_a",
        "nope",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Version/17.0 Safari/604.1",
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) Chrome/140.0.0.0 Safari/537.36 Edg/140.0.0.0",
        "AppleTV CrOS Windows Phone MSIE ; ; ;;; / : _ + \" ( )",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    v.push("a".repeat(2000));
    v.push("🗻".repeat(600));
    v.push("İ".repeat(700));
    v.push("Mozilla/5.0 (Windows NT 10.0) Chrome/1.2 ".repeat(50));
    v.push(format!("{}b", "a".repeat(3000)));
    v
}

fn interesting_numbers() -> Vec<Value> {
    vec![
        json!(0),
        json!(1),
        json!(-1),
        json!(0.5),
        json!(-5),
        json!(101),
        json!(100),
        json!(99.999),
        json!(42.2),
        json!(1e308),
        json!(-1e308),
        json!(5e-324),
        json!(i64::MIN),
        json!(i64::MAX),
        json!(u64::MAX),
        json!(9_007_199_254_740_993u64),
        json!(10_000_000_000i64),
        json!(-10_000_000_000i64),
        json!(9_999_999_999i64),
        json!(253_402_300_800_000i64),
        json!(1_672_531_200_000i64),
        json!(4_294_967_296u64),
    ]
}

/// A scalar of any JSON type, biased toward edge cases.
fn random_scalar(rng: &mut Rng) -> Value {
    match rng.below(10) {
        0 => Value::Null,
        1 => Value::Bool(rng.chance(1, 2)),
        2 | 3 => rng.pick(&interesting_numbers()).clone(),
        4 => json!(rng.next() as i64),
        5 => json!(f64::from_bits(rng.next())), // NaN/inf become null
        6 => Value::String(random_string(rng)),
        _ => Value::String(rng.pick(&interesting_strings()).clone()),
    }
}

/// Any JSON value, nested at most `depth` levels.
fn random_value(rng: &mut Rng, depth: u32) -> Value {
    if depth == 0 || rng.chance(3, 5) {
        return random_scalar(rng);
    }
    let n = rng.below(5);
    if rng.chance(1, 2) {
        Value::Array((0..n).map(|_| random_value(rng, depth - 1)).collect())
    } else {
        let mut m = Map::new();
        for _ in 0..n {
            let k = if rng.chance(1, 2) {
                rng.pick(FIELDS).to_string()
            } else {
                random_string(rng)
            };
            m.insert(k, random_value(rng, depth - 1));
        }
        Value::Object(m)
    }
}

/// A short string of random characters (ASCII, punctuation, multi-byte).
fn random_string(rng: &mut Rng) -> String {
    const CHARS: &[char] = &[
        'a', 'Z', '0', '9', '.', '-', '+', '_', ' ', ';', ':', '/', '(', ')', '"', '\\', '*', '?',
        '[', '|', '$', '^', 'é', 'İ', 'ß', '🗻', '\u{0}', '\n', '\u{200B}',
    ];
    let n = rng.below(12);
    (0..n).map(|_| *rng.pick(CHARS)).collect()
}

fn random_bytes(rng: &mut Rng, max: usize) -> Vec<u8> {
    let n = rng.below(max + 1);
    (0..n).map(|_| rng.next() as u8).collect()
}

/// Text made of JSON-ish tokens, to get past the first byte of the parsers.
fn token_soup(rng: &mut Rng, tokens: &[&str]) -> String {
    let n = 1 + rng.below(60);
    let mut s = String::new();
    for _ in 0..n {
        if rng.chance(1, 8) {
            s.push_str(&random_string(rng));
        } else {
            let t = *rng.pick::<&str>(tokens);
            s.push_str(t);
        }
    }
    s
}

const JSON_TOKENS: &[&str] = &[
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "\"",
    "\"feature_gates\"",
    "\"dynamic_configs\"",
    "\"layer_configs\"",
    "\"condition_map\"",
    "\"experiment_to_layer\"",
    "\"has_updates\"",
    "\"time\"",
    "\"rules\"",
    "\"conditions\"",
    "\"userID\"",
    "\"custom\"",
    "\"customIDs\"",
    "true",
    "false",
    "null",
    "0",
    "-1",
    "1e999",
    "18446744073709551616",
    "-9223372036854775809",
    "1.5",
    "\"\\ud800\"",
    "\"\\u0000\"",
    "\"x\"",
    " ",
];

// ---------------------------------------------------------------------------
// Inputs: the embedded spec, users, environment
// ---------------------------------------------------------------------------

fn cond(ty: &str, field: Option<&str>, op: Option<&str>, target: Value) -> Value {
    let mut c = json!({"type": ty, "idType": "userID", "targetValue": target});
    if let Some(f) = field {
        c["field"] = json!(f);
    }
    if let Some(o) = op {
        c["operator"] = json!(o);
    }
    c
}

fn rule(id: &str, pct: Value, conds: &[&str], ret: Value) -> Value {
    json!({"name": id, "id": id, "passPercentage": pct, "conditions": conds,
           "returnValue": ret, "idType": "userID"})
}

fn spec(entity: &str, default: Value, rules: Vec<Value>) -> Value {
    let ty = if entity == "feature_gate" || entity == "segment" || entity == "holdout" {
        "feature_gate"
    } else {
        "dynamic_config"
    };
    json!({"type": ty, "salt": format!("salt-{entity}"), "defaultValue": default,
           "enabled": true, "rules": rules, "idType": "userID", "entity": entity})
}

/// A compact spec exercising every condition type, every operator family,
/// nested gate chains, a self-referencing gate, segments, holdouts,
/// configs, experiments, both layer algorithms and config mappings.
fn base_spec() -> Value {
    let c = |ty, f, o, t| cond(ty, f, o, t);
    let conditions = json!({
        "pub": c("public", None, None, Value::Null),
        "pass_self": c("pass_gate", None, None, json!("g_self")),
        "pass_chain2": c("pass_gate", None, Some("any"), json!("g_chain2")),
        "fail_chain3": c("fail_gate", None, None, json!("g_chain3")),
        "pass_seg": c("pass_gate", None, None, json!("segment:beta")),
        "pass_missing": c("pass_gate", None, None, json!("nope")),
        "pass_num": c("pass_gate", None, None, json!(5)),
        "fail_holdout": c("fail_gate", None, None, json!("holdout_h")),
        "email_any": c("user_field", Some("email"), Some("any"), json!(["a@b.com", "X@Y.COM", 1, null])),
        "email_none_obj": c("user_field", Some("email"), Some("none"), json!({"a@b.com": true})),
        "email_regex": c("user_field", Some("email"), Some("str_matches"), json!("^[a-z]+@(b|c)\\.com$")),
        "regex_open": c("user_field", Some("email"), Some("str_matches"), json!("(")),
        "regex_lookbehind": c("user_field", Some("userAgent"), Some("str_matches"), json!("(?<=a+)b")),
        "regex_nested": c("user_field", Some("long"), Some("str_matches"), json!("(a+)+$")),
        "regex_backref": c("user_field", Some("long"), Some("str_matches"), json!("(a*)*\\1b")),
        "ver_gte": c("user_field", Some("appVersion"), Some("version_gte"), json!("1.2.0")),
        "ver_bad": c("user_field", Some("appVersion"), Some("version_lt"), json!("1..2")),
        "ver_neq": c("user_field", Some("app_version"), Some("version_neq"), json!("v1")),
        "ver_num": c("user_field", Some("appVersion"), Some("version_eq"), json!(1.2)),
        "ver_neg": c("user_field", Some("appVersion"), Some("version_gt"), json!("-1")),
        "num_gt": c("user_field", Some("level"), Some("gt"), json!(3)),
        "num_lte": c("user_field", Some("level"), Some("lte"), json!("10")),
        "num_huge": c("user_field", Some("level"), Some("gte"), json!(u64::MAX)),
        "time_after": c("user_field", Some("ts"), Some("after"), json!("2020-01-01T00:00:00Z")),
        "time_on": c("user_field", Some("ts"), Some("on"), json!(1_672_531_200_000i64)),
        "time_min": c("user_field", Some("ts"), Some("before"), json!(i64::MIN)),
        "now_before": c("current_time", None, Some("before"), json!(4_102_444_800_000i64)),
        "now_on": c("current_time", None, Some("on"), json!("9999-12-31T23:59:59Z")),
        "arr_all": c("user_field", Some("tags"), Some("array_contains_all"), json!(["a", "b"])),
        "arr_any": c("user_field", Some("tags"), Some("array_contains_any"), json!(["z", 1])),
        "arr_none": c("user_field", Some("tags"), Some("array_contains_none"), json!([])),
        "arr_not_all": c("user_field", Some("tags"), Some("not_array_contains_all"), json!(["a", {"x": 1}])),
        "starts": c("user_field", Some("userAgent"), Some("str_starts_with_any"), json!(["moz", ""])),
        "ends": c("user_field", Some("email"), Some("str_ends_with_any"), json!([".COM"])),
        "contains": c("user_field", Some("locale"), Some("str_contains_any"), json!(["_us", "İ"])),
        "contains_none": c("user_field", Some("locale"), Some("str_contains_none"), json!(["fr"])),
        "any_cs": c("user_field", Some("country"), Some("any_case_sensitive"), json!(["US", "us"])),
        "none_cs": c("user_field", Some("country"), Some("none_case_sensitive"), json!({"US": 1})),
        "eq_null": c("user_field", Some("email"), Some("eq"), Value::Null),
        "eq_obj": c("user_field", Some("obj"), Some("eq"), json!({"a": 1})),
        "eq_arr": c("user_field", Some("tags"), Some("eq"), json!(["a", "b"])),
        "neq_num": c("user_field", Some("level"), Some("neq"), json!(5)),
        "eq_bool": c("user_field", Some("flag"), Some("eq"), json!(true)),
        "bucket": {"type": "user_bucket", "operator": "lt", "targetValue": 500,
                   "additionalValues": {"salt": "bs"}, "idType": "userID"},
        "bucket_set": {"type": "user_bucket", "operator": "any", "targetValue": {"1": true, "-1": true},
                       "idType": "stableID"},
        "ip_country": c("ip_based", Some("country"), Some("any"), json!(["US"])),
        "ip_raw": c("ip_based", Some("ip"), Some("eq"), json!("1.1.1.1")),
        "ua_os": c("ua_based", Some("os_name"), Some("any"), json!(["Windows", "iOS"])),
        "ua_bver": c("ua_based", Some("browser_version"), Some("version_gte"), json!("100")),
        "ua_other": c("ua_based", Some("device"), Some("any"), json!(["x"])),
        "exp_group": c("experiment_group", Some("exp_a"), Some("any"), json!(["Control"])),
        "exp_loop": c("experiment_group", Some("exp_loop"), Some("any"), json!(["Test"])),
        "env_tier": c("environment_field", Some("tier"), Some("any"), json!(["staging"])),
        "unit_company": {"type": "unit_id", "operator": "any", "targetValue": ["c1"], "idType": "companyID"},
        "in_list": c("unit_id", None, Some("in_segment_list"), json!("beta_list")),
        "not_in_list": c("unit_id", None, Some("not_in_segment_list"), json!(7)),
        "app": c("target_app", None, Some("any"), json!(["app1"])),
        "unknown_type": c("multi_pass_gate", None, Some("any"), json!(["x"])),
        "unknown_op": c("user_field", Some("email"), Some("no_such_op"), json!(["x"])),
    });
    let t = json!(true);
    let gates = json!({
        "g_public": spec("feature_gate", json!(false), vec![rule("r_pub", json!(100), &["pub"], t.clone())]),
        "g_self": spec("feature_gate", json!(false), vec![rule("r_self", json!(100), &["pass_self"], t.clone())]),
        "g_chain1": spec("feature_gate", json!(false), vec![
            rule("r_c1", json!(50.5), &["pass_chain2", "ver_gte", "fail_holdout"], t.clone())]),
        "g_chain2": spec("feature_gate", json!(false), vec![rule("r_c2", json!(100), &["fail_chain3"], t.clone())]),
        "g_chain3": spec("feature_gate", json!(true), vec![
            rule("r_c3", json!(0), &["pass_seg", "num_gt"], json!(false)),
            rule("r_c3b", json!(99.99), &["pass_missing", "pass_num"], t.clone())]),
        "segment:beta": spec("segment", json!(false), vec![rule("r_seg", json!(100), &["in_list"], t.clone())]),
        "holdout_h": spec("holdout", json!(false), vec![rule("r_ho", json!(50), &["pub"], t.clone())]),
        "g_strings": spec("feature_gate", json!(false), vec![
            rule("r_s1", json!(100), &["email_any", "email_none_obj", "email_regex", "regex_open"], t.clone()),
            rule("r_s2", json!(100), &["regex_lookbehind", "regex_nested", "regex_backref"], t.clone()),
            rule("r_s3", json!(100), &["starts", "ends", "contains", "contains_none", "any_cs", "none_cs"], t.clone())]),
        "g_versions": spec("feature_gate", json!(false), vec![
            rule("r_v", json!(100), &["ver_gte", "ver_bad", "ver_neq", "ver_num", "ver_neg"], t.clone())]),
        "g_numbers_times": spec("feature_gate", json!(false), vec![
            rule("r_n", json!(100), &["num_gt", "num_lte", "num_huge", "neq_num"], t.clone()),
            rule("r_t", json!(100), &["time_after", "time_on", "time_min", "now_before", "now_on"], t.clone())]),
        "g_arrays_eq": spec("feature_gate", json!(false), vec![
            rule("r_a", json!(100), &["arr_all", "arr_any", "arr_none", "arr_not_all"], t.clone()),
            rule("r_e", json!(100), &["eq_null", "eq_obj", "eq_arr", "eq_bool"], t.clone())]),
        "g_env": spec("feature_gate", json!(false), vec![
            rule("r_b", json!(100), &["bucket", "bucket_set"], t.clone()),
            rule("r_ip", json!(100), &["ip_country", "ip_raw"], t.clone()),
            rule("r_ua", json!(100), &["ua_os", "ua_bver", "ua_other"], t.clone()),
            rule("r_x", json!(100), &["env_tier", "unit_company", "not_in_list", "app", "exp_group"], t.clone())]),
        "g_unsupported": spec("feature_gate", json!(false), vec![
            rule("r_u1", json!(100), &["pub", "unknown_type"], t.clone()),
            rule("r_u2", json!(100), &["unknown_op"], t.clone()),
            rule("r_u3", json!(100), &["no_such_condition_key"], t.clone())]),
        "g_disabled": {"type": "feature_gate", "salt": "s", "defaultValue": true, "enabled": false,
                       "rules": [], "idType": "userID", "entity": "feature_gate"},
    });
    let mut exp_a = spec(
        "experiment",
        json!({"p1": "default", "p2": 0}),
        vec![
            json!({"name": "c", "id": "r_ctl", "passPercentage": 50, "conditions": ["pub"], "salt": "",
               "returnValue": {"p1": "control"}, "idType": "userID", "groupName": "Control",
               "isExperimentGroup": true, "samplingRate": 101}),
            json!({"name": "t", "id": "r_tst", "passPercentage": 100, "conditions": ["g_chain1_c"],
               "returnValue": {"p1": "test"}, "idType": "stableID", "groupName": "Test"}),
        ],
    );
    exp_a["isActive"] = t.clone();
    exp_a["hasSharedParams"] = t.clone();
    exp_a["explicitParameters"] = json!(["p1"]);
    exp_a["version"] = json!(7);
    let configs = json!({
        "cfg_a": spec("dynamic_config", json!({"k": 1}), vec![
            rule("r_cfg", json!(100), &["num_gt"], json!({"k": 2})),
            rule("r_cfg2", json!(0.01), &["pass_seg"], json!({"k": [1, {"x": null}]}))]),
        "cfg_b": spec("dynamic_config", json!({}), vec![rule("r_cfgb", json!(100), &["pub"], json!({"b": true}))]),
        "exp_a": exp_a,
        "exp_b": spec("experiment", json!({"p3": 1}), vec![rule("r_eb", json!(100), &["exp_group"], json!({"p3": 2, "p1": "b"}))]),
        "exp_loop": spec("experiment", json!({}), vec![
            json!({"name": "l", "id": "r_loop", "passPercentage": 100, "conditions": ["exp_loop"],
                   "returnValue": {}, "idType": "userID", "groupName": "Test"})]),
        "exp_selfdeleg": spec("experiment", json!({}), vec![
            json!({"name": "s", "id": "r_sd", "passPercentage": 100, "conditions": ["pub"],
                   "returnValue": {}, "idType": "userID", "configDelegate": "exp_selfdeleg"})]),
        "autotune_x": spec("autotune", json!({}), vec![rule("r_at", json!(100), &["bucket"], json!({"a": 1}))]),
    });
    let mut layer_new = spec(
        "layer",
        json!({"p1": "layer", "p2": 1, "p3": 3, "p4": 4}),
        vec![
            json!({"name": "d", "id": "r_ln1", "passPercentage": 100, "conditions": ["pub"],
               "returnValue": {}, "idType": "userID", "configDelegate": "exp_a"}),
            json!({"name": "d2", "id": "r_ln2", "passPercentage": 100, "conditions": ["pub"],
               "returnValue": {}, "idType": "userID", "configDelegate": "exp_b"}),
            rule("r_ln3", json!(100), &["g_chain1_c"], json!({"p4": 44})),
        ],
    );
    layer_new["useNewLayerEval"] = t.clone();
    let layers = json!({
        "layer_deleg": spec("layer", json!({"p1": "layer", "p2": 1}), vec![
            json!({"name": "m", "id": "r_lmiss", "passPercentage": 100, "conditions": ["pub"],
                   "returnValue": {"p2": 9}, "idType": "userID", "configDelegate": "missing_exp"}),
            json!({"name": "d", "id": "r_ld", "passPercentage": 100, "conditions": ["fail_holdout"],
                   "returnValue": {}, "idType": "userID", "configDelegate": "exp_a"})]),
        "layer_new": layer_new,
        "layer_loop": spec("layer", json!({}), vec![
            json!({"name": "s", "id": "r_ll", "passPercentage": 100, "conditions": ["pub"],
                   "returnValue": {}, "idType": "userID", "configDelegate": "exp_selfdeleg"})]),
    });
    let mut conditions = conditions;
    conditions["g_chain1_c"] = cond("pass_gate", None, None, json!("g_chain1"));
    json!({
        "feature_gates": gates,
        "dynamic_configs": configs,
        "layer_configs": layers,
        "condition_map": conditions,
        "experiment_to_layer": {"exp_a": "layer_deleg"},
        "has_updates": true,
        "time": 1_700_000_000_000u64,
        "checksum": "abc",
        "default_environment": "production",
        "app_id": "app1",
        "overrides": {"cfg_a": [{"new_config_name": "cfg_b", "rules": [{"rule_name": "ovr", "start_time": 0}]}],
                      "g_public": [{"new_config_name": "g_self", "rules": [{"rule_name": "ovr_missing"}]}]},
        "override_rules": {"ovr": rule("ovr", json!(50), &["pub"], json!({}))},
        "response_format": "dcs-v2",
    })
}

fn base_user() -> Value {
    json!({
        "userID": "9",
        "email": "a@b.com",
        "ip": "999.1.1.1",
        "userAgent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 Chrome/140.0.0.0 Safari/537.36",
        "locale": "en_US",
        "appVersion": "1.2.3",
        "custom": {"level": 5, "tags": ["a", "b"], "ts": "2023-01-01T00:00:00Z", "obj": {"a": 1},
                   "long": "aab", "flag": true, "big": u64::MAX},
        "customIDs": {"companyID": "c1", "stableID": "s1"},
        "privateAttributes": {"secret": "x", "os_version": "1..2"},
        "statsigEnvironment": {"tier": "staging"},
    })
}

const USER_FIELDS: &[&str] = &[
    "userID",
    "email",
    "ip",
    "userAgent",
    "country",
    "locale",
    "appVersion",
    "custom",
    "customIDs",
    "privateAttributes",
    "statsigEnvironment",
];

/// Values of every JSON type for the user sweep.
fn user_field_values() -> Vec<Value> {
    let mut v: Vec<Value> = vec![
        Value::Null,
        json!(true),
        json!(false),
        json!([]),
        json!(["a", 1, null, {"x": []}]),
        json!({}),
        json!({"level": "NaN", "tags": "a", "ts": -1, "obj": [1], "companyID": 5, "stableID": null,
               "tier": ["staging"], "os_name": {"a": 1}, "🗻": "🗻"}),
    ];
    v.extend(interesting_numbers());
    v.extend(interesting_strings().into_iter().map(Value::String));
    v
}

/// The hand-built country table of `country.rs`'s tests: 1.0.0.0–1.7.255.255
/// and 8.8.8.x are US, 81.2.69.x is GB, the rest has no country.
fn sample_table_bytes() -> Vec<u8> {
    let mut bytes = b"/~--USGB**".to_vec();
    bytes.extend([243, 0x00, 0x00, 0x01, 1]);
    bytes.extend([242, 0x00, 0x08, 2]);
    bytes.extend([243, 0x08, 0x00, 0x07, 1]);
    bytes.extend([1, 2]);
    bytes.extend([243, 0x3C, 0xFA, 0x48, 1]);
    bytes.extend([1, 3]);
    bytes.extend([243, 0xBA, 0xFD, 0xAE, 1]);
    bytes
}

fn base_snapshot() -> &'static Snapshot {
    static SNAP: OnceLock<Snapshot> = OnceLock::new();
    SNAP.get_or_init(|| parse_specs(&base_spec().to_string()).expect("base spec parses"))
}

struct Fixed {
    table: CountryTable,
    lists: IdLists,
    environment: HashMap<String, DynValue>,
}

fn fixed() -> &'static Fixed {
    static FIXED: OnceLock<Fixed> = OnceLock::new();
    FIXED.get_or_init(|| Fixed {
        table: CountryTable::parse(&sample_table_bytes()).expect("sample table parses"),
        lists: IdLists::from([
            // `9` is user 9's id; the garbage lines must be skipped.
            ("beta_list".to_owned(), IdList::parse("+9\n+Q1Wha2PJ\n-x\n")),
            ("7".to_owned(), IdList::new()),
        ]),
        environment: HashMap::from([("tier".to_owned(), DynValue::from_json(&json!("staging")))]),
    })
}

/// One of several environments: full, bare, or with extreme clocks.
fn random_env(rng: &mut Rng) -> EvalEnv<'static> {
    let f = fixed();
    let now_ms = *rng.pick(&[1_700_000_000_000, 0, -1, i64::MIN, i64::MAX, 9_999_999_999]);
    if rng.chance(1, 4) {
        EvalEnv {
            now_ms,
            ..EvalEnv::default()
        }
    } else {
        EvalEnv {
            environment: Some(&f.environment),
            country: Some(&f.table),
            id_lists: Some(&f.lists),
            now_ms,
            overrides: None,
        }
    }
}

/// The reference's own fixtures, when the registry holds them.
fn reference_fixtures() -> &'static [(String, Value)] {
    static FIX: OnceLock<Vec<(String, Value)>> = OnceLock::new();
    FIX.get_or_init(|| {
        let Some(home) = std::env::var_os("CARGO_HOME")
            .map(std::path::PathBuf::from)
            .or_else(|| std::env::var_os("HOME").map(|h| std::path::Path::new(&h).join(".cargo")))
        else {
            return Vec::new();
        };
        let Ok(entries) = std::fs::read_dir(home.join("registry/src")) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        let mut dirs: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        dirs.sort();
        for dir in dirs {
            let data = dir.join("statsig-rust-0.24.0/tests/data");
            for name in ["eval_proj_dcs.json", "demo_proj_dcs.json"] {
                if out.iter().any(|(n, _)| n == name) {
                    continue;
                }
                if let Some(v) = std::fs::read_to_string(data.join(name))
                    .ok()
                    .and_then(|t| serde_json::from_str::<Value>(&t).ok())
                {
                    out.push((name.to_owned(), v));
                }
            }
        }
        out
    })
}

// ---------------------------------------------------------------------------
// Mutation
// ---------------------------------------------------------------------------

/// A random path (object keys / array indices) from the root; the walk goes
/// deeper with probability 4/5 at each container.
fn random_path(rng: &mut Rng, root: &Value) -> Vec<Value> {
    let mut path = Vec::new();
    let mut cur = root;
    loop {
        let next = match cur {
            Value::Object(m) if !m.is_empty() => {
                let (k, v) = m.iter().nth(rng.below(m.len())).expect("index in range");
                path.push(json!(k));
                v
            }
            Value::Array(a) if !a.is_empty() => {
                let i = rng.below(a.len());
                path.push(json!(i));
                &a[i]
            }
            _ => return path,
        };
        cur = next;
        if !rng.chance(4, 5) {
            return path;
        }
    }
}

fn get_mut<'a>(root: &'a mut Value, path: &[Value]) -> Option<&'a mut Value> {
    let mut cur = root;
    for seg in path {
        cur = match seg {
            Value::String(k) => cur.as_object_mut()?.get_mut(k)?,
            Value::Number(i) => cur.as_array_mut()?.get_mut(i.as_u64()? as usize)?,
            _ => return None,
        };
    }
    Some(cur)
}

fn keys_of(root: &Value, table: &str) -> Vec<String> {
    root.get(table)
        .and_then(Value::as_object)
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// An interesting replacement for a value, chosen by the key that holds it.
fn value_for_key(rng: &mut Rng, key: &str, root: &Value) -> Value {
    let mut gate_names = keys_of(root, "feature_gates");
    gate_names.extend(["nope".into(), String::new(), "segment:".into()]);
    match key {
        "operator" => {
            if rng.chance(1, 8) {
                Value::Null
            } else {
                json!(rng.pick(OPERATORS))
            }
        }
        "type" => json!(rng.pick(CONDITION_TYPES)),
        "field" => json!(rng.pick(FIELDS)),
        "idType" => json!(rng.pick(ID_TYPES)),
        "passPercentage" => rng
            .pick(&[
                json!(-5),
                json!(101),
                json!(0.5),
                json!(1e308),
                json!(-1e308),
                json!("NaN"),
                json!("50"),
                json!(null),
                json!(u64::MAX),
            ])
            .clone(),
        "samplingRate" | "version" | "time" => rng.pick(&interesting_numbers()).clone(),
        "configDelegate" => {
            let mut names = keys_of(root, "dynamic_configs");
            names.extend(keys_of(root, "layer_configs"));
            names.push("missing".into());
            json!(rng.pick(&names))
        }
        "targetValue" => match rng.below(4) {
            0 => json!(rng.pick(&gate_names)),
            1 => random_value(rng, 3),
            _ => rng
                .pick(&[
                    json!(["US", "us", 1, 1.0, true, null, [], {}]),
                    json!({"-1": true, "US": 1, "": null}),
                    json!(["(", "(?<=a+)b", "(a+)+$"]),
                    json!("(a+)+$"),
                    json!("1..2"),
                    json!("-1"),
                    json!("v1"),
                    json!(i64::MIN),
                    json!(u64::MAX),
                    json!("99999-01-01T00:00:00Z"),
                    json!([]),
                    json!([""]),
                ])
                .clone(),
        },
        "conditions" => {
            let keys = keys_of(root, "condition_map");
            let n = rng.below(4);
            Value::Array(
                (0..n)
                    .map(|_| {
                        if keys.is_empty() || rng.chance(1, 6) {
                            json!("missing_key")
                        } else {
                            json!(rng.pick(&keys))
                        }
                    })
                    .collect(),
            )
        }
        _ => random_value(rng, 2),
    }
}

/// Apply one structural mutation; returns a description for the report.
fn mutate_once(rng: &mut Rng, root: &mut Value) -> String {
    // Targeted: rewire a condition (retarget a nested gate, swap operator,
    // type or target) or a rule's condition list.
    if rng.chance(2, 5) {
        let cond_keys = keys_of(root, "condition_map");
        if !cond_keys.is_empty() {
            let ck = rng.pick(&cond_keys).clone();
            let attr = *rng.pick(&[
                "type",
                "operator",
                "targetValue",
                "field",
                "idType",
                "additionalValues",
            ]);
            let snapshot = root.clone();
            let mut v = value_for_key(rng, attr, &snapshot);
            if attr == "type" && rng.chance(1, 2) {
                // Point a nested gate at a random gate, itself included.
                let gates = keys_of(&snapshot, "feature_gates");
                if let Some(c) = root["condition_map"].get_mut(&ck).filter(|c| c.is_object()) {
                    c["type"] = json!(*rng.pick(&["pass_gate", "fail_gate"]));
                    let g = if gates.is_empty() {
                        "nope".to_owned()
                    } else {
                        rng.pick(&gates).clone()
                    };
                    c["targetValue"] = json!(g);
                    return format!("condition_map.{ck} := nested gate {g}");
                }
            }
            if attr == "additionalValues" {
                v = json!({"salt": random_value(rng, 1)});
            }
            if let Some(c) = root["condition_map"].get_mut(&ck) {
                if let Some(o) = c.as_object_mut() {
                    o.insert(attr.to_owned(), v.clone());
                }
            }
            return format!("condition_map.{ck}.{attr} := {v}");
        }
    }
    let path = random_path(rng, root);
    let path_text = path
        .iter()
        .map(|s| s.as_str().map_or_else(|| s.to_string(), str::to_owned))
        .collect::<Vec<_>>()
        .join(".");
    let snapshot = if rng.chance(1, 3) {
        Some(root.clone())
    } else {
        None
    };
    match rng.below(6) {
        // Delete the node.
        0 if !path.is_empty() => {
            let (last, parent) = path.split_last().expect("non-empty");
            if let Some(p) = get_mut(root, parent) {
                match (p, last) {
                    (Value::Object(m), Value::String(k)) => {
                        m.remove(k);
                    }
                    (Value::Array(a), Value::Number(i)) => {
                        let i = i.as_u64().unwrap_or(0) as usize;
                        if i < a.len() {
                            a.remove(i);
                        }
                    }
                    _ => {}
                }
            }
            format!("delete {path_text}")
        }
        // Insert a new key into an object / element into an array.
        1 => {
            let v = random_value(rng, 2);
            let key = rng.pick(FIELDS).to_string();
            match get_mut(root, &path) {
                Some(Value::Object(m)) => {
                    m.insert(key.clone(), v.clone());
                    format!("insert {path_text}.{key} := {v}")
                }
                Some(Value::Array(a)) => {
                    a.push(v.clone());
                    format!("push {path_text} += {v}")
                }
                _ => format!("noop {path_text}"),
            }
        }
        // Copy another subtree here (structural confusion).
        2 => {
            let src_root = snapshot.unwrap_or_else(|| root.clone());
            let src = random_path(rng, &src_root);
            let v = get_mut(&mut src_root.clone(), &src)
                .map(|v| v.clone())
                .unwrap_or(Value::Null);
            let text = shorten(&v.to_string());
            if let Some(slot) = get_mut(root, &path) {
                *slot = v;
            }
            format!("{path_text} := copy of subtree ({text})")
        }
        // Replace by a key-aware interesting value.
        _ => {
            let key = path
                .last()
                .and_then(Value::as_str)
                .unwrap_or_default()
                .to_owned();
            let v = match &snapshot {
                Some(s) => value_for_key(rng, &key, s),
                None => value_for_key(rng, &key, &Value::Null),
            };
            let text = shorten(&v.to_string());
            if let Some(slot) = get_mut(root, &path) {
                *slot = v;
            }
            format!("{path_text} := {text}")
        }
    }
}

fn mutate(rng: &mut Rng, root: &mut Value, max: usize) -> Vec<String> {
    let n = 1 + rng.below(max);
    (0..n).map(|_| mutate_once(rng, root)).collect()
}

/// A mutated user: the base user with some fields replaced by values of any
/// type, or the whole user mutated structurally.
fn random_user(rng: &mut Rng) -> Value {
    let mut u = base_user();
    if rng.chance(1, 10) {
        return random_value(rng, 3);
    }
    let values = user_field_values();
    for _ in 0..rng.below(4) {
        let f = *rng.pick(USER_FIELDS);
        u[f] = rng.pick(&values).clone();
    }
    if rng.chance(1, 3) {
        mutate(rng, &mut u, 3);
    }
    u
}

// ---------------------------------------------------------------------------
// Case bodies
// ---------------------------------------------------------------------------

fn check_spec_error(findings: &mut Findings, seed: u64, err: &gatehouse_core::Error) {
    let text = err.to_string();
    if !text.contains("at `") {
        findings.violation(format!(
            "seed={seed:#x}: parse_specs error names no path: {text}"
        ));
    }
}

/// Evaluate every entity of every kind (plus a missing name and the names of
/// the other tables) for `user`, rendering each report line.
fn evaluate_all(snap: &Snapshot, user: &User, env: &EvalEnv<'_>) -> Vec<String> {
    let mut lines = Vec::new();
    let all: Vec<&str> = ALL_KINDS.iter().flat_map(|&k| snap.names(k)).collect();
    for &kind in &ALL_KINDS {
        for name in snap.names(kind).into_iter().chain(["", "nope"]) {
            let e = evaluate(snap, user, kind, name, env);
            let _ = e.reason(BOOTSTRAP_SOURCE);
            let _ = e.lcut(snap);
            lines.push(report_line(snap, lines.len(), name, &e, BOOTSTRAP_SOURCE));
        }
        // Names of other tables under this kind.
        if let Some(&other) = all.first() {
            let e = evaluate(snap, user, kind, other, env);
            lines.push(report_line(snap, 0, other, &e, BOOTSTRAP_SOURCE));
        }
    }
    lines
}

/// Parse `spec_text`; when it parses, evaluate everything for each user.
fn spec_case(
    findings: &mut Findings,
    what: &str,
    seed: u64,
    spec_text: &str,
    users: &[Value],
    env: &EvalEnv<'_>,
    describe: &dyn Fn() -> String,
) {
    let outcome = findings.run(what, seed, describe, || {
        let snap = match parse_specs(spec_text) {
            Ok(s) => s,
            Err(e) => return Err(e),
        };
        let mut lines = Vec::new();
        for u in users {
            if let Ok(user) = User::from_json(u) {
                lines.extend(evaluate_all(&snap, &user, env));
            }
        }
        Ok(lines)
    });
    match outcome {
        Some(Err(e)) => {
            findings.rejected += 1;
            check_spec_error(findings, seed, &e);
        }
        Some(Ok(lines)) => {
            findings.parsed += 1;
            findings.evaluations += lines.len();
            if let Some(bad) = lines
                .iter()
                .find(|l| serde_json::from_str::<Value>(l).is_err())
            {
                findings.violation(format!(
                    "seed={seed:#x}: report line is not JSON: {}",
                    shorten(bad)
                ));
            }
        }
        None => {}
    }
}

// ---------------------------------------------------------------------------
// Tests: random input into every parser
// ---------------------------------------------------------------------------

#[test]
fn random_bytes_and_json_into_every_parser() {
    let mut f = Findings::default();
    let table = &fixed().table;
    for i in 0..cases() * 4 {
        let seed = case_seed(1, i);
        let mut rng = Rng::new(seed);
        let bytes = random_bytes(&mut rng, 300);
        let text = match rng.below(4) {
            0 => String::from_utf8_lossy(&bytes).into_owned(),
            1 => token_soup(&mut rng, JSON_TOKENS),
            _ => random_value(&mut rng, 5).to_string(),
        };
        let input = || format!("{text:?} / bytes {bytes:?}");
        if let Some(Err(e)) = f.run("parse_specs", seed, &input, || parse_specs(&text)) {
            check_spec_error(&mut f, seed, &e);
        }
        if let Some(Err(e)) = f.run("User::from_json_str", seed, &input, || {
            User::from_json_str(&text)
                .map(|u| evaluate_all(base_snapshot(), &u, &EvalEnv::default()).len())
        }) {
            if !e.to_string().contains("at `") {
                f.violation(format!("seed={seed:#x}: user error names no path: {e}"));
            }
        }
        f.run("CountryTable::parse", seed, &input, || {
            CountryTable::parse(&bytes).map(|t| t.lookup(&text).map(str::to_owned))
        });
        f.run("IdList::parse", seed, &input, || IdList::parse(&text).len());
        f.run("parse_user_agent", seed, &input, || {
            format!("{:?}", parse_user_agent(&text))
        });
        f.run("CountryTable::lookup", seed, &input, || {
            table.lookup(&text).map(str::to_owned)
        });
    }
    f.finish("random_bytes_and_json_into_every_parser");
}

/// Deeply nested JSON must be an error, not a stack overflow (which
/// `catch_unwind` could not catch: it aborts the whole test binary).
#[test]
fn deep_nesting_is_an_error() {
    for depth in [200usize, 100_000] {
        let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let objects = format!("{}1{}", "{\"a\":".repeat(depth), "}".repeat(depth));
        for text in [&arrays, &objects] {
            let e = parse_specs(text).expect_err("deep JSON is no payload");
            assert!(e.to_string().contains("at `"), "{e}");
            assert!(User::from_json_str(text).is_err());
            let in_spec = format!(
                r#"{{"feature_gates":{{}},"dynamic_configs":{{}},"layer_configs":{{}},"condition_map":{{}},"experiment_to_layer":{text},"has_updates":true,"time":1}}"#
            );
            assert!(parse_specs(&in_spec).is_err());
        }
    }
}

#[test]
fn mutated_country_tables_and_id_lists() {
    let mut f = Findings::default();
    let good = sample_table_bytes();
    let ips: Vec<String> = interesting_strings();
    for i in 0..cases() * 4 {
        let seed = case_seed(2, i);
        let mut rng = Rng::new(seed);
        let mut bytes = good.clone();
        for _ in 0..1 + rng.below(4) {
            match rng.below(4) {
                0 if !bytes.is_empty() => {
                    let at = rng.below(bytes.len());
                    bytes[at] = rng.next() as u8;
                }
                1 if !bytes.is_empty() => {
                    let at = rng.below(bytes.len());
                    bytes.truncate(at);
                }
                2 => {
                    let at = rng.below(bytes.len() + 1);
                    let b = *rng.pick(&[0u8, 1, 239, 240, 241, 242, 243, 244, 255, b'*']);
                    bytes.insert(at, b);
                }
                _ => bytes.extend(random_bytes(&mut rng, 8)),
            }
        }
        let ip = if rng.chance(1, 2) {
            rng.pick(&ips).clone()
        } else {
            format!(
                "{}.{}.{}.{}",
                rng.next() as u8,
                rng.next() as i16,
                rng.below(300),
                rng.pick(&["0", "255", "256", "-0", "+1", "00000000001", ""])
            )
        };
        let input = || format!("table {bytes:?}, ip {ip:?}");
        let parsed = f.run("CountryTable::parse(mutated)", seed, &input, || {
            CountryTable::parse(&bytes).map(|t| (t.len(), t.lookup(&ip).map(str::to_owned)))
        });
        if let Some(Err(e)) = parsed {
            if e.to_string().is_empty() {
                f.violation(format!("seed={seed:#x}: empty country table error"));
            }
        }
        // ID list lines: signs, unicode, short and long keys.
        let lines: Vec<String> = (0..rng.below(6))
            .map(|_| {
                let sign = *rng.pick(&["+", "-", "*", "", " +", "é", "🗻", "+é", "-\u{0}"]);
                format!("{sign}{}", random_string(&mut rng))
            })
            .collect();
        let sep = *rng.pick::<&str>(&["\n", "\r\n", "\r"]);
        let list = lines.join(sep);
        let input = || format!("id list {list:?}");
        f.run("IdList::parse(lines)", seed, &input, || {
            let l = IdList::parse(&list);
            (l.len(), l.contains_unit_id(&list))
        });
    }
    f.finish("mutated_country_tables_and_id_lists");
}

#[test]
fn user_agent_token_soup() {
    const UA_TOKENS: &[&str] = &[
        "Mozilla/5.0",
        " ",
        ";",
        "(",
        ")",
        "AppleTV",
        "like",
        "Mac",
        "OS",
        "X",
        "10_15_7",
        "iOS",
        "iPadOS",
        "iPhone",
        "iPad",
        "Apple-iPhone7C2",
        "CPU",
        "CrOS",
        "CrKey",
        "PlayStation",
        "Android",
        "Windows",
        "Phone",
        "NT",
        "10.0",
        "5.1",
        "XP",
        "MSIE",
        "Yahoo!",
        "Slurp",
        "Red",
        "Hat",
        "Ubuntu",
        "Mobile",
        "Linux",
        "Nintendo",
        "3DS",
        "Better",
        "Uptime",
        "Bot",
        "AdsBot-Google-Mobile",
        "Kindle/3.0",
        "FxiOS/1",
        "EdgiOS/1",
        "CriOS/1.2",
        "GSA/1",
        "Edg/1",
        "OPR/1",
        "SamsungBrowser/1",
        "HuaweiBrowser/1",
        "NX/1",
        "IEMobile/1",
        "Googlebot/2.1",
        "crawler",
        "CFNetwork/1",
        "NetworkingExtension",
        "OculusBrowser/1",
        "Version/17.0",
        "Safari/604.1",
        "Chrome/140.0.0.0",
        "Firefox/1",
        "Silk/1",
        "YaBrowser/1.2.3.4",
        "HeadlessChrome",
        "axios/1",
        "/",
        ":",
        "_",
        ".",
        ",",
        "+",
        "\"",
        "1",
        "..",
        "1._,.",
        "🗻",
        "é/é",
        "İ",
        "\u{0}",
    ];
    let mut f = Findings::default();
    for i in 0..cases() * 10 {
        let seed = case_seed(3, i);
        let mut rng = Rng::new(seed);
        let mut ua = token_soup(&mut rng, UA_TOKENS);
        if rng.chance(1, 20) {
            ua = ua.repeat(1 + 2000 / (ua.len() + 1));
        }
        let input = || format!("{ua:?}");
        f.run("parse_user_agent", seed, &input, || {
            format!("{:?}", parse_user_agent(&ua))
        });
    }
    f.finish("user_agent_token_soup");
}

// ---------------------------------------------------------------------------
// Tests: mutated valid specs, evaluated
// ---------------------------------------------------------------------------

#[test]
fn base_spec_is_valid_and_evaluates() {
    let snap = parse_specs(&base_spec().to_string()).expect("base spec parses");
    assert!(snap.warnings().is_empty(), "{:?}", snap.warnings());
    assert_eq!(snap.names(Kind::Gate).len(), 14);
    assert_eq!(snap.names(Kind::Experiment).len(), 4);
    assert_eq!(snap.names(Kind::Config).len(), 3);
    assert_eq!(snap.names(Kind::Layer).len(), 3);
    let user = User::from_json(&base_user()).expect("base user");
    let env = random_env(&mut Rng::new(0));
    assert_eq!(evaluate_all(&snap, &user, &env).len(), 24 + 4 * 3);
}

#[test]
fn every_user_field_of_every_type() {
    let mut f = Findings::default();
    let spec_text = base_spec().to_string();
    let snap = parse_specs(&spec_text).expect("base spec parses");
    let fixtures: Vec<(String, Snapshot)> = reference_fixtures()
        .iter()
        .filter_map(|(n, v)| parse_specs(&v.to_string()).ok().map(|s| (n.clone(), s)))
        .collect();
    let values = user_field_values();
    let mut rng = Rng::new(case_seed(4, 0));
    for (fi, field) in USER_FIELDS.iter().enumerate() {
        for (vi, value) in values.iter().enumerate() {
            let seed = case_seed(4, (fi * 1000 + vi) as u64);
            let mut u = base_user();
            u[*field] = value.clone();
            // The same value as custom fields (read by numeric, time, array,
            // equality and regex conditions) and as a custom ID.
            if let Some(custom) = u["custom"].as_object_mut() {
                for key in ["level", "ts", "tags", "obj", "long", "flag"] {
                    custom.insert(key.into(), value.clone());
                }
            }
            if let Some(ids) = u["customIDs"].as_object_mut() {
                ids.insert("companyID".into(), value.clone());
            }
            let env = random_env(&mut rng);
            let input = || format!("user {u}");
            f.run("evaluate(user sweep)", seed, &input, || {
                let Ok(user) = User::from_json(&u) else {
                    return 0;
                };
                let mut n = evaluate_all(&snap, &user, &env).len();
                // The real fixtures get every other value (debug time budget).
                if vi % 2 == 0 {
                    for (_, s) in &fixtures {
                        n += evaluate_all(s, &user, &env).len();
                    }
                }
                n
            });
        }
    }
    f.finish("every_user_field_of_every_type");
}

#[test]
fn mutated_base_spec() {
    let mut f = Findings::default();
    let base = base_spec();
    for i in 0..cases() {
        let seed = case_seed(5, i);
        let mut rng = Rng::new(seed);
        let mut spec = base.clone();
        let log = mutate(&mut rng, &mut spec, 6);
        let text = spec.to_string();
        let users: Vec<Value> = (0..2).map(|_| random_user(&mut rng)).collect();
        let env = random_env(&mut rng);
        let describe = || {
            format!(
                "mutations {log:?}\nspec {text}\nusers {}",
                Value::Array(users.clone())
            )
        };
        spec_case(
            &mut f,
            "mutated base spec",
            seed,
            &text,
            &users,
            &env,
            &describe,
        );
    }
    f.finish("mutated_base_spec");
}

#[test]
fn mutated_reference_fixtures() {
    let fixtures = reference_fixtures();
    if fixtures.is_empty() {
        return;
    }
    let mut f = Findings::default();
    for (fi, (name, base)) in fixtures.iter().enumerate() {
        // The unmutated fixture first.
        let text = base.to_string();
        let users = vec![base_user(), json!({"userID": "9"}), json!({})];
        let env = random_env(&mut Rng::new(0));
        spec_case(&mut f, name, 0, &text, &users, &env, &|| name.clone());
        for i in 0..(cases() / 10).max(1) {
            let seed = case_seed(6 + fi as u64, i);
            let mut rng = Rng::new(seed);
            let mut spec = base.clone();
            let log = mutate(&mut rng, &mut spec, 8);
            let text = spec.to_string();
            let users = vec![random_user(&mut rng)];
            let env = random_env(&mut rng);
            // The fixture is large: report the mutations, which with the
            // fixture name and the seed reproduce the input.
            let describe = || {
                format!(
                    "fixture {name} with mutations {log:?}\nusers {}",
                    Value::Array(users.clone())
                )
            };
            spec_case(&mut f, name, seed, &text, &users, &env, &describe);
        }
    }
    f.finish("mutated_reference_fixtures");
}

// ---------------------------------------------------------------------------
// Exact, hand-checkable cases
// ---------------------------------------------------------------------------

fn minimal(gates: Value, conditions: Value) -> String {
    json!({"feature_gates": gates, "dynamic_configs": {}, "layer_configs": {},
           "condition_map": conditions, "experiment_to_layer": {}, "has_updates": true,
           "time": 1})
    .to_string()
}

#[test]
fn self_referencing_gate_is_depth_exceeded() {
    let text = minimal(
        json!({"loop": spec("feature_gate", json!(false), vec![rule("r", json!(100), &["self"], json!(true))])}),
        json!({"self": cond("pass_gate", None, None, json!("loop"))}),
    );
    let snap = parse_specs(&text).expect("parses");
    let user = User::from_json_str(r#"{"userID":"9"}"#).expect("user");
    let e = evaluate(&snap, &user, Kind::Gate, "loop", &EvalEnv::default());
    assert_eq!(e.outcome, Outcome::DepthExceeded);
    assert_eq!(
        e.reason("Bootstrap"),
        "Error:Statsig Evaluation Depth Exceeded"
    );
    assert!(!e.bool_value);
    // And through the embedded spec's g_self.
    let snap = parse_specs(&base_spec().to_string()).expect("parses");
    let e = evaluate(&snap, &user, Kind::Gate, "g_self", &EvalEnv::default());
    assert_eq!(e.outcome, Outcome::DepthExceeded);
}

#[test]
fn missing_condition_map_is_named() {
    let mut v = base_spec();
    v.as_object_mut().expect("object").remove("condition_map");
    let e = parse_specs(&v.to_string()).expect_err("condition_map is required");
    let text = e.to_string();
    assert!(text.contains("condition_map"), "{text}");
    assert!(text.contains("at `"), "{text}");
}

#[test]
fn malformed_ip_never_matches_a_country() {
    let text = minimal(
        json!({"g": spec("feature_gate", json!(false), vec![rule("r", json!(100), &["c"], json!(true))])}),
        json!({"c": cond("ip_based", Some("country"), Some("any"), json!(["US"]))}),
    );
    let snap = parse_specs(&text).expect("parses");
    let table = CountryTable::parse(&sample_table_bytes()).expect("table");
    let env = EvalEnv {
        country: Some(&table),
        ..EvalEnv::default()
    };
    let check = |ip: &str, expected: bool| {
        let user = User::from_json(&json!({"userID": "9", "ip": ip})).expect("user");
        let e = evaluate(&snap, &user, Kind::Gate, "g", &env);
        assert_eq!(e.outcome, Outcome::Recognized, "{ip}");
        assert_eq!(e.bool_value, expected, "{ip}");
        assert_eq!(e.rule_id, if expected { "r" } else { "default" }, "{ip}");
    };
    // The reference core panics on 999.1.1.1 (index out of bounds).
    check("999.1.1.1", false);
    for ip in [
        "1.2.3",
        "::1",
        "1.2.3.4.5",
        "256.0.0.1",
        "1.-1.0.0",
        "",
        "🗻",
    ] {
        check(ip, false);
    }
    // The condition does match a well-formed US address of the table.
    check("1.2.3.4", true);
    check("8.8.8.8", true);
    // Without a table: false, and the reason says the table is missing.
    let user = User::from_json(&json!({"ip": "999.1.1.1"})).expect("user");
    let e = evaluate(&snap, &user, Kind::Gate, "g", &EvalEnv::default());
    assert!(!e.bool_value);
    assert_eq!(e.reason("Bootstrap"), "CountryLookupNotLoaded:Recognized");
}

/// Found by this test (fixed): `IdList::parse` panicked on a line whose first
/// character is multi-byte. Such a line starts with neither `+` nor `-`, so
/// it must be skipped like any other.
#[test]
fn id_list_line_starting_with_a_multibyte_char_is_skipped() {
    let mut f = Findings::default();
    // Lines hold lookup keys, not raw ids: `+<key of "9">` adds unit id "9".
    let key = String::from_utf8_lossy(&gatehouse_core::hash::id_list_key("9")).into_owned();
    let texts = [
        "é".to_owned(),
        format!("éa\n+{key}\n"),
        "🗻🗻\n".to_owned(),
        format!("+{key}\r\n{}x", '\u{FFFD}'),
    ];
    for text in &texts {
        let got = f.run("IdList::parse", 0, &|| format!("{text:?}"), || {
            let list = IdList::parse(text);
            (list.len(), list.contains_unit_id("9"))
        });
        if let Some((len, has9)) = got {
            assert_eq!(len, usize::from(text.contains(&key)), "{text:?}");
            assert_eq!(has9, text.contains(&key), "{text:?}");
        }
    }
    f.finish("id_list_line_starting_with_a_multibyte_char_is_skipped");
}

/// A backreference regex forces fancy-regex's backtracking engine; on a
/// long run of `a` it gives up at its backtrack limit and the condition is
/// false. Bounded, but each such condition costs tens of ms per evaluation.
#[test]
fn backtracking_regex_is_bounded_and_false() {
    let text = minimal(
        json!({"g": spec("feature_gate", json!(false), vec![rule("r", json!(100), &["c"], json!(true))])}),
        json!({"c": cond("user_field", Some("long"), Some("str_matches"), json!("(a*)*\\1b"))}),
    );
    let snap = parse_specs(&text).expect("parses");
    for n in [3usize, 40, 3000] {
        let user = User::from_json(&json!({"custom": {"long": "a".repeat(n)}})).expect("user");
        let start = Instant::now();
        let e = evaluate(&snap, &user, Kind::Gate, "g", &EvalEnv::default());
        assert!(!e.bool_value, "{n}");
        assert!(start.elapsed() < slow_limit(), "{n}: {:?}", start.elapsed());
    }
    let user = User::from_json(&json!({"custom": {"long": "aab"}})).expect("user");
    assert!(evaluate(&snap, &user, Kind::Gate, "g", &EvalEnv::default()).bool_value);
}
