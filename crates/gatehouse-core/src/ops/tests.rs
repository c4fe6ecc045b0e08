//! Operator tests. Expected values come from dcs-semantics §2/§5.2 (its
//! examples and QUIRKs), from the reference's own unit-test cases, or from
//! hand computation shown in the comments.

use super::*;
use serde_json::json;

fn comparison(op: &str, target: Value) -> Comparison {
    let op = Operator::parse(op).unwrap_or_else(|| panic!("unknown operator {op}"));
    Comparison::compile(op, &target)
}

/// `op` with `target` applied to the user value built from `left`.
fn ev(op: &str, target: Value, left: Value) -> bool {
    comparison(op, target).eval(&DynValue::from_json(&left))
}

fn ev_dyn(op: &str, target: Value, left: &DynValue) -> bool {
    comparison(op, target).eval(left)
}

const MISSING: Value = Value::Null;

#[test]
fn operator_names_round_trip() {
    for (op, name) in NAMES {
        assert_eq!(Operator::parse(name), Some(op));
        assert_eq!(op.as_str(), name);
    }
    let distinct: HashSet<&str> = NAMES.iter().map(|(_, n)| *n).collect();
    assert_eq!(distinct.len(), NAMES.len());
    for unknown in [
        "encoded_any",
        "GT",
        "Any",
        "",
        " gt",
        "multi_pass_gate",
        "str_matches_any",
    ] {
        assert_eq!(Operator::parse(unknown), None, "{unknown}");
    }
}

#[test]
fn comparison_is_send_sync_clone() {
    fn check<T: Send + Sync + Clone>() {}
    check::<Comparison>();
    let c = comparison("str_matches", json!("a+"));
    assert!(c.clone().eval(&DynValue::from_json(&json!("caab"))));
}

// ---------------------------------------------------------------- numbers

#[test]
fn numbers_basic() {
    // Reference unit tests: 2.0 gt 1.0; "1.24" gte "1.23" and "1.24"; lte cases.
    assert!(ev("gt", json!(1.0), json!(2.0)));
    assert!(ev("gte", json!("1.23"), json!("1.24")));
    assert!(ev("gte", json!("1.24"), json!("1.24")));
    assert!(ev("lte", json!("1.24"), json!("1.23")));
    assert!(ev("lt", json!(2.0), json!(1.0)));
    assert!(ev("lte", json!(2.0), json!(1.0)));
    assert!(ev("lte", json!(2.0), json!(2.0)));
    assert!(!ev("lte", json!(1.0), json!(2.0)));
    assert!(!ev("gt", json!(2), json!(2)));
    assert!(!ev("lt", json!(2), json!(2)));
}

#[test]
fn numbers_from_strings_both_sides() {
    assert!(ev("gt", json!(9), json!("10"))); // numeric, not lexical
    assert!(ev("gt", json!(".5"), json!(1)));
    assert!(ev("gte", json!("+1"), json!(1)));
    assert!(ev("lt", json!("1e3"), json!(999)));
    assert!(ev("gte", json!("inf"), json!("inf")));
    assert!(!ev("gt", json!(1), json!("abc")));
    assert!(!ev("lt", json!(1), json!("abc")));
    assert!(!ev("gt", json!(1), json!(" 2"))); // no whitespace in the grammar
}

#[test]
fn numbers_reject_bools_missing_nan_and_other_shapes() {
    for op in ["gt", "gte", "lt", "lte"] {
        // Bools are not numbers, on either side.
        assert!(!ev(op, json!(0), json!(true)), "{op}");
        assert!(!ev(op, json!(true), json!(1)), "{op}");
        // Missing left.
        assert!(!ev(op, json!(0), MISSING), "{op}");
        // NaN compares false with everything.
        assert!(!ev(op, json!(1), json!("NaN")), "{op}");
        assert!(!ev(op, json!("NaN"), json!(1)), "{op}");
        // Targets with no float facet.
        for t in [Value::Null, json!([1]), json!({"1": 1}), json!("x")] {
            assert!(!ev(op, t, json!(1)), "{op}");
        }
        // Arrays/objects on the left; current_time (int facet only).
        assert!(!ev(op, json!(0), json!([1])), "{op}");
        assert!(!ev(op, json!(0), json!({"a": 1})), "{op}");
        assert!(!ev_dyn(op, json!(0), &DynValue::int_only(5)), "{op}");
    }
}

#[test]
fn numbers_with_user_bucket_value() {
    // A bucket is built from a JSON number.
    let bucket = DynValue::from_json(&json!(499));
    assert!(ev_dyn("lt", json!(500), &bucket));
    assert!(!ev_dyn("lt", json!(499), &bucket));
    assert!(ev_dyn("any", json!({"499": true}), &bucket));
}

// ---------------------------------------------------------------- versions

fn all_version_ops(target: Value, left: Value) -> [bool; 6] {
    [
        "version_gt",
        "version_gte",
        "version_lt",
        "version_lte",
        "version_eq",
        "version_neq",
    ]
    .map(|op| ev(op, target.clone(), left.clone()))
}

const V_GT: [bool; 6] = [true, true, false, false, false, true];
const V_EQ: [bool; 6] = [false, true, false, true, true, false];
const V_LT: [bool; 6] = [false, false, true, true, false, true];
const V_FAIL: [bool; 6] = [false; 6];

#[test]
fn versions_basic() {
    // Reference unit tests.
    assert_eq!(all_version_ops(json!("1.2.3"), json!("1.2.3")), V_EQ);
    assert_eq!(all_version_ops(json!("1.2.3"), json!("1.2.4")), V_GT);
    assert_eq!(all_version_ops(json!("1.2.4"), json!("1.2.3")), V_LT);
    // Missing trailing parts are 0.
    assert_eq!(all_version_ops(json!("1.2.0"), json!("1.2")), V_EQ);
    assert_eq!(all_version_ops(json!("1.2.1"), json!("1.2")), V_LT);
    assert_eq!(all_version_ops(json!("1"), json!("1.0.0.1")), V_GT);
    // Parts compare as integers: 10 > 9.
    assert_eq!(all_version_ops(json!("1.9"), json!("1.10")), V_GT);
    assert_eq!(all_version_ops(json!("1.01"), json!("1.1")), V_EQ);
}

#[test]
fn versions_suffix_sign_and_whitespace() {
    // Text after the first `-` is ignored on both sides.
    assert_eq!(all_version_ops(json!("1.2.3"), json!("1.2.3-beta")), V_EQ);
    assert_eq!(
        all_version_ops(json!("1.2.3-rc.1"), json!("1.2.3-beta.7")),
        V_EQ
    );
    assert_eq!(all_version_ops(json!("2.0.0-rc.1"), json!("1.9")), V_LT);
    assert_eq!(all_version_ops(json!("1.2"), json!("1.2-3-4")), V_EQ);
    // `+1` parses as 1; parts are trimmed.
    assert_eq!(all_version_ops(json!("1.1"), json!("1.+1")), V_EQ);
    assert_eq!(all_version_ops(json!("1.2"), json!(" 1 . 2 ")), V_EQ);
    // i128 range: MAX parses, MAX + 1 does not.
    let max = i128::MAX.to_string(); // 170141183460469231731687303715884105727
    assert_eq!(all_version_ops(json!(max), json!(max)), V_EQ);
    assert_eq!(
        all_version_ops(json!("1"), json!("170141183460469231731687303715884105728")),
        V_FAIL
    );
}

#[test]
fn versions_user_numbers_and_numeric_targets() {
    // User number 1.3 → string facet "1.3".
    assert_eq!(all_version_ops(json!("1.3"), json!(1.3)), V_EQ);
    // User 1.0 → "1"; "1" vs "1.0" are equal (missing part = 0).
    assert_eq!(all_version_ops(json!("1.0"), json!(1.0)), V_EQ);
    assert_eq!(all_version_ops(json!("10"), json!(2)), V_LT);
    // A numeric target has no string facet ⇒ false for all, including neq.
    assert_eq!(all_version_ops(json!(1.3), json!("1.3")), V_FAIL);
    assert_eq!(all_version_ops(json!(2), json!("1")), V_FAIL);
    for t in [Value::Null, json!(true), json!(["1"]), json!({"1": 1})] {
        assert_eq!(all_version_ops(t, json!("1")), V_FAIL);
    }
    // Left without a string facet, or one that does not parse.
    assert_eq!(all_version_ops(json!("1"), MISSING), V_FAIL);
    assert_eq!(all_version_ops(json!("1"), json!({"a": 1})), V_FAIL);
    assert_eq!(all_version_ops(json!("1"), json!(true)), V_FAIL); // "true"
    assert_eq!(all_version_ops(json!("1"), json!([1])), V_FAIL); // "[1]"
    assert!(!ev_dyn("version_neq", json!("1"), &DynValue::int_only(1)));
}

#[test]
fn versions_unparsable_parts_fail_every_op() {
    assert_eq!(all_version_ops(json!("1"), json!("v1")), V_FAIL);
    assert_eq!(all_version_ops(json!("v1"), json!("1")), V_FAIL);
    assert_eq!(all_version_ops(json!("1"), json!("")), V_FAIL);
    assert_eq!(all_version_ops(json!(""), json!("1")), V_FAIL);
    assert_eq!(all_version_ops(json!("1.0.2"), json!("1..2")), V_FAIL);
    assert_eq!(all_version_ops(json!("1"), json!("1.")), V_FAIL); // trailing dot, left
    assert_eq!(all_version_ops(json!("1."), json!("1")), V_FAIL); // trailing dot, target
    assert_eq!(all_version_ops(json!("1.2"), json!("-1.2")), V_FAIL); // core before `-` is ""
    assert_eq!(
        all_version_ops(json!("1.2.3"), json!("1.2.3+build")),
        V_FAIL
    );
}

#[test]
fn versions_parse_lazily_like_the_reference() {
    // The reference (compare_versions.rs) parses part by part and returns at
    // the first differing part, so a bad part *after* that is never seen:
    // "1..2" vs "2": 1 < 2 decides before the empty part is parsed.
    assert_eq!(all_version_ops(json!("2"), json!("1..2")), V_LT);
    // "2.x" vs "1.0": 2 > 1 decides; "x" is never parsed.
    assert_eq!(all_version_ops(json!("1.0"), json!("2.x")), V_GT);
    // "2." vs "1": same for a trailing dot.
    assert_eq!(all_version_ops(json!("1"), json!("2.")), V_GT);
    // Target side too: "1" vs "0.x" → 1 > 0.
    assert_eq!(all_version_ops(json!("0.x"), json!("1")), V_GT);
}

// ---------------------------------------------------------------- any / none

#[test]
fn any_none_case_insensitive() {
    // Reference unit test: "Foo" in [..., "foo", ...] → any true (ci), any_case_sensitive false.
    let haystack = json!(["boo", "bar", "foo", "far", "zoo", "zar"]);
    assert!(ev("any", haystack.clone(), json!("Foo")));
    assert!(!ev("any_case_sensitive", haystack.clone(), json!("Foo")));
    assert!(!ev("none", haystack.clone(), json!("Foo")));
    let without = json!(["boo", "bar", "far", "zoo", "zar"]);
    assert!(!ev("any", without.clone(), json!("Foo")));
    assert!(ev("none", without, json!("Foo")));
    // Target elements are lowercased too; Unicode lowercase on both sides.
    assert!(ev("any", json!(["USER@X.COM"]), json!("user@x.com")));
    assert!(ev("any", json!(["ÄBC"]), json!("äbC")));
}

#[test]
fn any_left_and_target_stringification() {
    // expected_evaluation_tests: custom level = number 9 vs ["9","9.0"] → true.
    assert!(ev("any", json!(["9", "9.0"]), json!(9)));
    // Target 1.0 stringifies as "1.0", user 1 as "1": no match (§5.2).
    assert!(!ev("any", json!([1.0]), json!(1)));
    assert!(!ev("any", json!([1.0]), json!(1.0))); // user 1.0 → "1"
    assert!(ev("any", json!([1]), json!(1)));
    assert!(ev("any", json!([1]), json!("1")));
    assert!(ev("any", json!(["1.5"]), json!(1.5)));
    // Bools: "true"; case-insensitively equal to "TRUE".
    assert!(ev("any", json!([true]), json!(true)));
    assert!(ev("any", json!(["TRUE"]), json!(true)));
    assert!(!ev("any_case_sensitive", json!(["TRUE"]), json!(true)));
    // Arrays as JSON text.
    assert!(ev("any", json!([r#"["a",1]"#]), json!(["a", 1])));
    // null elements stringify as "null".
    assert!(ev("any", json!([null]), json!("null")));
    assert!(!ev("any", json!([null]), MISSING));
}

#[test]
fn any_missing_left_is_empty_string() {
    assert!(ev("any", json!([""]), MISSING));
    assert!(!ev("any", json!(["x"]), MISSING));
    assert!(ev("none", json!(["x"]), MISSING));
    assert!(!ev("none", json!([""]), MISSING));
    assert!(ev("any", json!(["", "x"]), json!({"an": "object"}))); // objects have no string facet
    assert!(ev("any_case_sensitive", json!([""]), MISSING));
    assert!(ev("none_case_sensitive", json!(["x"]), MISSING));
}

#[test]
fn any_none_object_targets() {
    // user_bucket style: object keys are looked up with the lowercased left.
    assert!(ev("any", json!({"42": true, "7": true}), json!(42)));
    assert!(!ev("any", json!({"41": true}), json!(42)));
    assert!(!ev("none", json!({"42": true}), json!(42)));
    assert!(ev("none", json!({"41": true}), json!(42)));
    // Keys are NOT lowercased: "abc" is not among {"ABC"}.
    assert!(!ev("any", json!({"ABC": true}), json!("abc")));
    assert!(!ev("any", json!({"ABC": true}), json!("ABC")));
    assert!(ev("any", json!({"abc": true}), json!("ABC")));
    assert!(ev("none", json!({"ABC": true}), json!("ABC")));
    // Case-sensitive operators do not support objects.
    assert!(!ev("any_case_sensitive", json!({"a": 1}), json!("a")));
    assert!(ev("none_case_sensitive", json!({"a": 1}), json!("a")));
}

#[test]
fn any_none_non_container_targets() {
    for t in [Value::Null, json!("foo"), json!(5), json!(true)] {
        for left in [json!("foo"), json!(5), MISSING] {
            assert!(!ev("any", t.clone(), left.clone()), "{t} {left}");
            assert!(ev("none", t.clone(), left.clone()), "{t} {left}");
            assert!(
                !ev("any_case_sensitive", t.clone(), left.clone()),
                "{t} {left}"
            );
            // expected_evaluation_tests: null target + none_case_sensitive → true.
            assert!(
                ev("none_case_sensitive", t.clone(), left.clone()),
                "{t} {left}"
            );
        }
    }
}

#[test]
fn case_sensitive_membership_and_collision_quirk() {
    // Reference unit tests: ["HELLO","WORLD"].
    let hw = json!(["HELLO", "WORLD"]);
    assert!(ev("any_case_sensitive", hw.clone(), json!("HELLO")));
    assert!(!ev("any_case_sensitive", hw.clone(), json!("hello")));
    assert!(!ev("none_case_sensitive", hw.clone(), json!("HELLO")));
    assert!(ev("none_case_sensitive", hw, json!("hello")));
    // QUIRK §2.2: ["A","a"] keeps only the last of the colliding elements ("a").
    assert!(!ev("any_case_sensitive", json!(["A", "a"]), json!("A")));
    assert!(ev("any_case_sensitive", json!(["A", "a"]), json!("a")));
    assert!(ev("none_case_sensitive", json!(["A", "a"]), json!("A")));
    assert!(ev("any_case_sensitive", json!(["a", "A"]), json!("A")));
    // The case-insensitive form is unaffected.
    assert!(ev("any", json!(["A", "a"]), json!("A")));
}

// ---------------------------------------------------------------- str_*

#[test]
fn str_ops_reference_cases() {
    // Reference unit tests.
    assert!(ev(
        "str_starts_with_any",
        json!(["tore", "user"]),
        json!("user@example.com")
    ));
    assert!(ev(
        "str_ends_with_any",
        json!(["@statsig.io", "@statsig.com"]),
        json!("tore@statsig.com")
    ));
    assert!(ev(
        "str_contains_any",
        json!(["sigstat", "statsig"]),
        json!("daniel@statsig.io")
    ));
    // User array ["boo",1,true] → text `["boo",1,true]` contains "boo".
    assert!(ev(
        "str_contains_any",
        json!(["zoo", "boo"]),
        json!(["boo", 1, true])
    ));
    assert!(!ev(
        "str_contains_any",
        json!(["zoo", "bar"]),
        json!(["boo", 1, true])
    ));
}

#[test]
fn str_ops_are_case_insensitive_and_empty_matches_all() {
    assert!(ev("str_starts_with_any", json!(["user"]), json!("USER@x")));
    assert!(ev("str_starts_with_any", json!(["USER"]), json!("user@x")));
    assert!(ev("str_ends_with_any", json!([".COM"]), json!("a@b.com")));
    assert!(ev("str_contains_any", json!(["StatSig"]), json!("STATSIG")));
    assert!(!ev("str_starts_with_any", json!(["x"]), json!("user")));
    assert!(!ev("str_ends_with_any", json!(["use"]), json!("user")));
    // Numbers use their string facet.
    assert!(ev("str_starts_with_any", json!(["12"]), json!(123)));
    assert!(ev("str_ends_with_any", json!([".5"]), json!(1.5)));
    // An empty element matches everything, including a missing left ("").
    for op in [
        "str_starts_with_any",
        "str_ends_with_any",
        "str_contains_any",
    ] {
        assert!(ev(op, json!(["nope", ""]), json!("abc")), "{op}");
        assert!(ev(op, json!([""]), MISSING), "{op}");
        assert!(!ev(op, json!(["a"]), MISSING), "{op}");
        assert!(!ev(op, json!([]), json!("abc")), "{op}");
    }
}

#[test]
fn str_contains_none() {
    assert!(ev(
        "str_contains_none",
        json!(["RU"]),
        json!("United States")
    ));
    assert!(!ev("str_contains_none", json!(["RU"]), json!("Russia"))); // "russia" ⊃ "ru"
                                                                       // Missing ⇒ "" ⇒ true unless the target contains "".
    assert!(ev("str_contains_none", json!(["RU"]), MISSING));
    assert!(!ev("str_contains_none", json!(["RU", ""]), MISSING));
    assert!(ev("str_contains_none", json!([]), json!("x")));
}

#[test]
fn str_ops_need_array_targets() {
    for t in [Value::Null, json!("abc"), json!(1), json!({"abc": true})] {
        for op in [
            "str_starts_with_any",
            "str_ends_with_any",
            "str_contains_any",
        ] {
            assert!(!ev(op, t.clone(), json!("abc")), "{op} {t}");
        }
        assert!(ev("str_contains_none", t.clone(), json!("abc")), "{t}");
    }
}

// ---------------------------------------------------------------- str_matches

#[test]
fn str_matches_reference_cases() {
    assert!(ev(
        "str_matches",
        json!("banana"),
        json!("apple banana pear")
    ));
    let json_text = r#"{ "name": "Statsig", "version": "4.8.1-beta.32", "license": "ISC" }"#;
    assert!(ev(
        "str_matches",
        json!(r#"version":\s*"4\.8\.\d+"#),
        json!(json_text)
    ));
    // Lookbehind needs fancy-regex.
    assert!(ev("str_matches", json!("(?<=foo)bar"), json!("foobar")));
    assert!(!ev("str_matches", json!("(?<=foo)bar"), json!("bazbar")));
}

#[test]
fn str_matches_semantics() {
    // Unanchored search, case-sensitive unless (?i).
    assert!(ev("str_matches", json!("an"), json!("banana")));
    assert!(!ev("str_matches", json!("^an"), json!("banana")));
    assert!(!ev("str_matches", json!("banana"), json!("BANANA")));
    assert!(ev("str_matches", json!("(?i)banana"), json!("BANANA")));
    // Backreference.
    assert!(ev("str_matches", json!(r"(a)\1"), json!("xaax")));
    assert!(!ev("str_matches", json!(r"(a)\1"), json!("xax")));
    // Left string facets of non-strings.
    assert!(ev("str_matches", json!(r"^1\d$"), json!(12)));
    assert!(ev("str_matches", json!("^true$"), json!(true)));
    assert!(ev("str_matches", json!(r#"^\["a"\]$"#), json!(["a"])));
    // No string facet ⇒ false, even for a pattern matching "".
    assert!(!ev("str_matches", json!(".*"), MISSING));
    assert!(!ev("str_matches", json!(".*"), json!({"a": 1})));
    assert!(ev("str_matches", json!(".*"), json!("")));
    // Invalid regex or non-string target ⇒ never matches.
    assert!(!ev("str_matches", json!("("), json!("(")));
    assert!(!ev("str_matches", json!(5), json!("5")));
    assert!(!ev("str_matches", json!(["a"]), json!("a")));
    assert!(!ev("str_matches", Value::Null, json!("null")));
}

#[test]
fn str_matches_runtime_error_is_false() {
    // The backreference forces fancy-regex's backtracking VM; on 40 `a`s and
    // no `b` the nested quantifier explores ~2^40 paths, far beyond the
    // default backtrack limit (1 000 000), so `is_match` returns an error.
    let pattern = r"^(a+)+\1b";
    let re = Regex::new(pattern).unwrap();
    let hay = "a".repeat(40);
    assert!(re.is_match(&hay).is_err());
    assert!(!ev("str_matches", json!(pattern), json!(hay)));
}

// ---------------------------------------------------------------- eq / neq

#[test]
fn eq_null_target() {
    assert!(ev("eq", Value::Null, MISSING));
    assert!(!ev("neq", Value::Null, MISSING));
    assert!(!ev("eq", Value::Null, json!("")));
    assert!(!ev("eq", Value::Null, json!(0)));
    assert!(ev("neq", Value::Null, json!("null")));
    // The reference's current-time value carries JSON null (see DynValue::int_only).
    assert!(ev_dyn("eq", Value::Null, &DynValue::int_only(5)));
}

#[test]
fn eq_bool_target() {
    assert!(ev("eq", json!(true), json!(true)));
    assert!(!ev("eq", json!(true), json!(false)));
    assert!(!ev("eq", json!(true), json!("true"))); // string "true" ≠ true
    assert!(!ev("eq", json!(true), json!(1)));
    assert!(!ev("eq", json!(false), MISSING));
    assert!(ev("neq", json!(false), MISSING));
    assert!(ev("neq", json!(true), json!("true")));
}

#[test]
fn eq_number_target() {
    assert!(ev("eq", json!(5), json!("5"))); // "5" == 5
    assert!(ev("eq", json!(5), json!(5.0)));
    assert!(ev("eq", json!(5), json!("5.0")));
    assert!(ev("eq", json!(5), json!("5e0")));
    assert!(ev("eq", json!(0), json!("-0"))); // -0.0 == 0.0
    assert!(ev("eq", json!(0.1), json!(0.1)));
    assert!(!ev("eq", json!(5), json!("abc")));
    assert!(!ev("eq", json!(1), json!(true)));
    assert!(!ev("eq", json!(5), MISSING));
    assert!(ev("neq", json!(5), MISSING));
    assert!(!ev("eq", json!(5), json!([5])));
    assert!(!ev_dyn("eq", json!(5), &DynValue::int_only(5))); // no float facet
}

#[test]
fn eq_string_target() {
    assert!(ev("eq", json!("5"), json!(5))); // 5 == "5"
    assert!(ev("eq", json!("true"), json!(true))); // true == "true"
    assert!(ev("eq", json!("1"), json!(1.0))); // 1.0 → "1"
    assert!(!ev("eq", json!("1.0"), json!(1.0)));
    assert!(!ev("eq", json!("Abc"), json!("abc"))); // case-sensitive
    assert!(ev("eq", json!(r#"["a"]"#), json!(["a"]))); // array JSON text
    assert!(!ev("eq", json!("{}"), json!({}))); // objects have no string facet
    assert!(!ev("eq", json!(""), MISSING));
    assert!(ev("neq", json!(""), MISSING));
    assert!(!ev("neq", json!("x"), json!("x")));
}

#[test]
fn eq_array_target() {
    assert!(ev("eq", json!(["a", 1, true]), json!(["a", 1, true])));
    assert!(ev("eq", json!(["a", "1", "true"]), json!(["a", 1, true])));
    assert!(ev("eq", json!([]), json!([])));
    assert!(!ev("eq", json!(["a", "b"]), json!(["a"]))); // length
    assert!(!ev("eq", json!(["a", "b"]), json!(["b", "a"]))); // position
    assert!(!ev("eq", json!(["a"]), json!(["A"]))); // case-sensitive
    assert!(!ev("eq", json!([1.0]), json!([1]))); // "1.0" vs "1"
    assert!(!ev("eq", json!([null]), json!([null]))); // null element has no string facet
    assert!(!ev("eq", json!([{}]), json!([{}])));
    assert!(!ev("eq", json!(["a"]), json!("a"))); // left not an array
    assert!(!ev("eq", json!([]), MISSING));
    assert!(ev("neq", json!([]), MISSING));
    // Collision quirk: ["A","a"] keys to one entry at index 1; no user array
    // can satisfy it (length must be 1, but index 1 is then out of range —
    // the reference would panic there; here it is simply false).
    assert!(!ev("eq", json!(["A", "a"]), json!(["a"])));
    assert!(!ev("eq", json!(["A", "a"]), json!(["A", "a"])));
    assert!(ev("neq", json!(["A", "a"]), json!(["A", "a"])));
}

#[test]
fn eq_object_target() {
    // Member strings: target "1"/2 → "1"/"2"; user 1/"2" → "1"/"2".
    assert!(ev(
        "eq",
        json!({"a": "1", "b": 2}),
        json!({"a": 1, "b": "2"})
    ));
    assert!(ev("eq", json!({"a": [1, 2]}), json!({"a": [1, 2]})));
    assert!(ev("eq", json!({}), json!({})));
    assert!(!ev("eq", json!({"a": 1}), json!({"a": 1, "b": 1}))); // member count
    assert!(!ev("eq", json!({"A": 1}), json!({"a": 1}))); // keys case-sensitive
    assert!(!ev("eq", json!({"a": null}), json!({"a": null}))); // "null" vs no facet
    assert!(!ev("eq", json!({"o": {}}), json!({"o": {}})));
    assert!(!ev("eq", json!({"a": 1.0}), json!({"a": 1}))); // "1.0" vs "1"
    assert!(!ev("eq", json!({}), MISSING));
    assert!(!ev("eq", json!({}), json!([])));
    assert!(ev("neq", json!({"a": 1}), json!({"a": 2})));
}

// ---------------------------------------------------------------- time

/// 2023-01-01T00:00:00Z and 2023-01-02T00:00:00Z in ms (19358 / 19359 days × 86 400 000).
const JAN1: i64 = 1_672_531_200_000;
const JAN2: i64 = 1_672_617_600_000;

#[test]
fn time_reference_cases() {
    let now = 1_700_000_000_123;
    assert!(ev_dyn("before", json!(now + 1), &DynValue::int_only(now)));
    assert!(ev_dyn("after", json!(now), &DynValue::int_only(now + 1)));
    assert!(ev(
        "before",
        json!("2023-01-02T00:00:00Z"),
        json!("2023-01-01T00:00:00Z")
    ));
    assert!(ev(
        "before",
        json!("2023-01-02 00:00:00"),
        json!("2023-01-01 00:00:00")
    ));
    assert!(ev(
        "before",
        json!("2023-01-02 00:00:00Z"),
        json!("2023-01-01 00:00:00Z")
    ));
    assert!(ev("before", json!("1672617600000"), json!("1672531200000")));
    assert!(ev("before", json!(JAN2), json!("2023-01-01T00:00:00Z")));
    assert!(!ev("before", json!(JAN2), json!("invalid-date")));
}

#[test]
fn time_left_seconds_are_normalized_right_is_not() {
    // User 1672531200 (seconds, < 10^10) → ×1000 = JAN1 ms.
    for left in [json!(1_672_531_200), json!("1672531200")] {
        assert!(ev("on", json!(JAN1), left.clone()));
        assert!(!ev("before", json!(JAN1), left.clone()));
        assert!(!ev("after", json!(JAN1), left.clone()));
    }
    // Target 1672531200 is taken as ms (≈ day 19 of 1970); the left becomes JAN1 ms.
    assert!(ev("after", json!(1_672_531_200), json!(1_672_531_200)));
    assert!(!ev("on", json!(1_672_531_200), json!(1_672_531_200)));
    // 10^10 is the boundary: 9_999_999_999 is seconds, 10_000_000_000 is ms.
    assert!(ev_dyn(
        "on",
        json!(9_999_999_999_000i64),
        &DynValue::int_only(9_999_999_999)
    ));
    assert!(ev_dyn(
        "on",
        json!(10_000_000_000i64),
        &DynValue::int_only(10_000_000_000)
    ));
    // Negative seconds normalize too (|t| < 10^10): -1 s → -1000 ms.
    assert!(ev_dyn("before", json!(-999), &DynValue::int_only(-1)));
    // current_time (int only) against a ms target.
    assert!(ev_dyn(
        "after",
        json!(1_619_308_800_000i64),
        &DynValue::int_only(1_700_000_000_000)
    ));
}

#[test]
fn time_on_is_same_truncated_day() {
    assert!(ev(
        "on",
        json!("2023-01-01T00:00:00Z"),
        json!("2023-01-01T23:59:59Z")
    ));
    assert!(!ev(
        "on",
        json!("2023-01-01T00:00:00Z"),
        json!("2023-01-02T00:00:00Z")
    ));
    assert!(ev("on", json!(JAN1 + 5), json!(JAN1 + 86_399_999)));
    // Target with an offset: 2023-01-01T23:00-02:00 = 2023-01-02T01:00Z (UTC day 2).
    assert!(!ev(
        "on",
        json!("2023-01-01T23:00:00-02:00"),
        json!("2023-01-01T12:00:00Z")
    ));
    assert!(ev(
        "on",
        json!("2023-01-01T23:00:00-02:00"),
        json!("2023-01-02T12:00:00Z")
    ));
    // Truncation toward zero: -1000 ms / 86 400 000 = 0 = 0 / 86 400 000.
    assert!(ev_dyn("on", json!(0), &DynValue::int_only(-1)));
    // Extremes do not panic: i64::MIN stays ms (|t| ≥ 10^10).
    assert!(ev_dyn("on", json!(i64::MIN), &DynValue::int_only(i64::MIN)));
    assert!(!ev_dyn(
        "before",
        json!(i64::MIN),
        &DynValue::int_only(i64::MIN)
    ));
}

#[test]
fn time_target_forms() {
    let at_jan2 = DynValue::int_only(JAN2);
    // Number targets are truncated to i64: JAN2 + 0.9 → JAN2.
    assert!(ev_dyn("on", json!(1_672_617_600_000.9), &at_jan2));
    assert!(!ev_dyn("after", json!(1_672_617_600_000.9), &at_jan2));
    // String targets: timestamp facet, else the f64 parse truncated (as the
    // reference's `timestamp_value.or(float_value as i64)`).
    assert!(!ev_dyn("after", json!("1672617600000.5"), &at_jan2));
    assert!(!ev_dyn("before", json!("1672617600000.5"), &at_jan2));
    assert!(ev_dyn("on", json!("1672617600000.5"), &at_jan2));
    assert!(ev_dyn("after", json!("1.6e12"), &at_jan2));
    // Target side has no length pre-check (24 bytes here).
    assert!(ev_dyn("on", json!("2023-01-02T00:00:00.000Z"), &at_jan2));
    // Not a timestamp and not a number.
    assert!(!ev_dyn("on", json!("2023-01-02"), &at_jan2));
    for t in [Value::Null, json!(true), json!([JAN2]), json!({"t": JAN2})] {
        for op in ["before", "after", "on"] {
            assert!(!ev_dyn(op, t.clone(), &at_jan2), "{op} {t}");
        }
    }
}

#[test]
fn time_left_forms() {
    for op in ["before", "after", "on"] {
        // Missing, bools, arrays, objects: no timestamp and no int.
        for left in [MISSING, json!(true), json!([JAN1]), json!({"t": JAN1})] {
            assert!(!ev(op, json!(JAN1), left.clone()), "{op} {left}");
        }
        // A non-integral number has no int facet.
        assert!(!ev(op, json!(JAN1), json!(1_672_531_200_000.5)), "{op}");
        // Strings that are not timestamps (§2.3).
        assert!(!ev(op, json!(JAN1), json!("2023-01-01")), "{op}");
        assert!(!ev(op, json!(JAN1), json!("1672531200000.0")), "{op}");
        // User side length pre-check: 24 bytes ⇒ not a timestamp.
        assert!(
            !ev(op, json!(JAN1), json!("2023-01-01T00:00:00.000Z")),
            "{op}"
        );
    }
    // An integral float has an int facet.
    assert!(ev("on", json!(JAN1), json!(1.6725312e12)));
    // ms strings.
    assert!(ev("on", json!(JAN1), json!("1672531200000")));
}

// ---------------------------------------------------------------- segments

#[test]
fn segment_lists_are_left_to_the_evaluator() {
    let c = comparison("in_segment_list", json!("company_id_list"));
    assert_eq!(c.target_str(), Some("company_id_list"));
    assert!(!c.eval(&DynValue::from_json(&json!("123"))));
    let n = comparison("not_in_segment_list", json!("company_id_list"));
    assert!(!n.eval(&DynValue::from_json(&json!("123"))));
    assert_eq!(comparison("in_segment_list", json!(5)).target_str(), None);
    assert_eq!(comparison("any", json!(["a"])).target_str(), None);
    assert_eq!(
        comparison("eq", json!("gate_name")).target_str(),
        Some("gate_name")
    );
}

// ---------------------------------------------------------------- array_contains_*

/// `[array_contains_any, array_contains_none, array_contains_all, not_array_contains_all]`.
type ArrayResults = [bool; 4];
const A_SOME: ArrayResults = [true, false, false, true]; // some but not all target elements
const A_ALL: ArrayResults = [true, false, true, false];
const A_NONE: ArrayResults = [false, true, false, true];
const A_EMPTY_TARGET: ArrayResults = [false, true, true, false];
const A_FAIL: ArrayResults = [false; 4];

/// Checks `(target, left, expected)` rows.
fn check_array_ops(rows: &[(Value, Value, ArrayResults)]) {
    let ops = [
        "array_contains_any",
        "array_contains_none",
        "array_contains_all",
        "not_array_contains_all",
    ];
    for (target, left, expected) in rows {
        let got = ops.map(|op| ev(op, target.clone(), left.clone()));
        assert_eq!(got, *expected, "target {target}, left {left}");
    }
}

#[test]
fn array_ops_basic() {
    check_array_ops(&[
        (json!(["a", "c"]), json!(["a", "b"]), A_SOME),
        (json!(["a", "b"]), json!(["b", "a", "x"]), A_ALL),
        (json!(["c"]), json!(["a", "b"]), A_NONE),
        // Empty target: any=false, none=true, all=true, not_all=false.
        (json!([]), json!(["a"]), A_EMPTY_TARGET),
        (json!([]), json!([]), A_EMPTY_TARGET),
        // Case-sensitive.
        (json!(["a"]), json!(["A"]), A_NONE),
        // Duplicates are harmless.
        (json!(["a", "a"]), json!(["a"]), A_ALL),
    ]);
}

#[test]
fn array_ops_need_arrays_on_both_sides() {
    let mut rows = Vec::new();
    // Left not an array ⇒ false for all four, including none.
    for left in [
        json!("a"),
        json!(r#"["a"]"#),
        MISSING,
        json!({"a": "a"}),
        json!(1),
    ] {
        rows.push((json!(["a"]), left.clone(), A_FAIL));
        rows.push((json!([]), left, A_FAIL));
    }
    // Target not an array ⇒ false for all four.
    for target in [Value::Null, json!("a"), json!({"a": true}), json!(1)] {
        rows.push((target, json!(["a"]), A_FAIL));
    }
    check_array_ops(&rows);
}

#[test]
fn array_ops_stringify_elements() {
    check_array_ops(&[
        // Left elements → string facets; target elements → original strings.
        (json!(["1", "true"]), json!([1, true]), A_ALL),
        (json!([1]), json!(["1"]), A_ALL),
        // User 1.0 → "1"; target 1.0 → "1.0".
        (json!(["1"]), json!([1.0]), A_ALL),
        (json!([1.0]), json!([1]), A_NONE),
        (json!(["[1]"]), json!([[1]]), A_ALL),
        // Target null → "null"; a left null has no string facet.
        (json!([null]), json!([null]), A_NONE),
        // Objects and nulls on the left have no string facet. §5.2 reads them
        // as "", but the reference's substitute "" never hash-matches a target
        // "" (see the value.rs module doc; checked against statsig-rust
        // 0.24.0), so they match nothing; a real "" element does match.
        (json!([""]), json!([{"a": 1}]), A_NONE),
        (json!([""]), json!([null]), A_NONE),
        (json!([""]), json!([null, ""]), A_ALL),
    ]);
}

#[test]
fn array_ops_collision_quirk() {
    // Target ["A","a"] keeps only "a" (QUIRK §2.2): "A" is never looked for.
    check_array_ops(&[
        (json!(["A", "a"]), json!(["A"]), A_NONE),
        (json!(["A", "a"]), json!(["a"]), A_ALL),
        (json!(["a", "A"]), json!(["A"]), A_ALL),
    ]);
}
