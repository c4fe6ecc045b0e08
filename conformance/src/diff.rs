//! Field-by-field comparison of two reports (expected = oracle, actual = gatehouse).
//!
//! Lines are matched by their identity `(user_index, kind, name)`, not by position, so one
//! missing or extra line does not cascade into thousands of differences; a line found at a
//! different position is reported once as an `<order>` difference. Matched lines are compared
//! per top-level field as parsed JSON, and finally as text (catching non-canonical output whose
//! values agree).

use serde_json::Value;
use std::collections::{BTreeMap, HashMap};
use std::fmt;

/// One disagreement between the two reports.
#[derive(Clone, Debug, PartialEq)]
pub struct Difference {
    /// 0-based line number in the expected report (in the actual report for `<unexpected line>`).
    pub line: usize,
    pub user_index: Option<u64>,
    pub kind: String,
    pub name: String,
    /// The differing top-level key, or one of `<missing line>`, `<unexpected line>`,
    /// `<order>`, `<invalid json>`, `<text>`.
    pub field: String,
    /// The expected field value (`null` when absent).
    pub expected: Value,
    /// The actual field value (`null` when absent).
    pub actual: Value,
}

/// The result of [`diff_reports`].
#[derive(Clone, Debug, Default, PartialEq)]
pub struct DiffSummary {
    /// Lines in the expected report.
    pub expected_lines: usize,
    /// Lines in the actual report.
    pub actual_lines: usize,
    /// Expected lines whose actual counterpart is byte-identical and at the same position.
    pub equal_lines: usize,
    /// Expected lines that differ in any way (missing, moved, different).
    pub differing_lines: usize,
    /// Total number of differences found (all of them, not only the kept ones).
    pub total_differences: usize,
    /// Per field (or `<…>` pseudo-field): how many lines disagree on it.
    pub field_mismatches: BTreeMap<String, usize>,
    /// The first differences, in expected-report order (at most the requested number).
    pub differences: Vec<Difference>,
}

impl DiffSummary {
    /// True when the two reports are identical.
    pub fn is_identical(&self) -> bool {
        self.total_differences == 0 && self.expected_lines == self.actual_lines
    }
}

impl fmt::Display for DiffSummary {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "expected lines: {}, actual lines: {}, equal: {}, differing: {}, differences: {}",
            self.expected_lines,
            self.actual_lines,
            self.equal_lines,
            self.differing_lines,
            self.total_differences
        )?;
        if !self.field_mismatches.is_empty() {
            let counts: Vec<String> = self
                .field_mismatches
                .iter()
                .map(|(field, n)| format!("{field}={n}"))
                .collect();
            writeln!(f, "mismatches per field: {}", counts.join(", "))?;
        }
        for d in &self.differences {
            let user = d
                .user_index
                .map_or_else(|| "?".to_string(), |u| u.to_string());
            writeln!(
                f,
                "  line {} user {} {} {:?} field {}: expected {} actual {}",
                d.line,
                user,
                d.kind,
                d.name,
                d.field,
                crate::canonical(&d.expected),
                crate::canonical(&d.actual)
            )?;
        }
        if self.total_differences > self.differences.len() {
            writeln!(
                f,
                "  … {} more differences",
                self.total_differences - self.differences.len()
            )?;
        }
        Ok(())
    }
}

type LineKey = (Option<u64>, String, String);

struct ParsedLine<'a> {
    text: &'a str,
    value: Option<Value>,
    key: LineKey,
}

fn parse_line(text: &str) -> ParsedLine<'_> {
    let value: Option<Value> = serde_json::from_str(text).ok();
    let key = match &value {
        Some(v) => (
            v.get("user_index").and_then(Value::as_u64),
            v.get("kind")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
            v.get("name")
                .and_then(Value::as_str)
                .unwrap_or("")
                .to_string(),
        ),
        None => (None, String::new(), text.to_string()),
    };
    ParsedLine { text, value, key }
}

/// Compares `actual` against `expected`, keeping the first `max_differences` differences.
pub fn diff_reports(expected: &[String], actual: &[String], max_differences: usize) -> DiffSummary {
    let expected: Vec<ParsedLine> = expected.iter().map(|l| parse_line(l)).collect();
    let actual: Vec<ParsedLine> = actual.iter().map(|l| parse_line(l)).collect();

    let mut actual_by_key: HashMap<&LineKey, Vec<usize>> = HashMap::new();
    for (i, line) in actual.iter().enumerate() {
        actual_by_key.entry(&line.key).or_default().push(i);
    }
    // Consume matches front to back so duplicated keys pair up in order.
    let mut used = vec![false; actual.len()];

    let mut summary = DiffSummary {
        expected_lines: expected.len(),
        actual_lines: actual.len(),
        ..DiffSummary::default()
    };
    let record = |summary: &mut DiffSummary, d: Difference| {
        *summary.field_mismatches.entry(d.field.clone()).or_default() += 1;
        summary.total_differences += 1;
        if summary.differences.len() < max_differences {
            summary.differences.push(d);
        }
    };

    for (line_no, exp) in expected.iter().enumerate() {
        let blank = |field: &str, expected: Value, actual: Value| Difference {
            line: line_no,
            user_index: exp.key.0,
            kind: exp.key.1.clone(),
            name: exp.key.2.clone(),
            field: field.to_string(),
            expected,
            actual,
        };
        let Some(exp_value) = &exp.value else {
            summary.differing_lines += 1;
            let d = blank(
                "<invalid json>",
                Value::String(exp.text.to_string()),
                Value::Null,
            );
            record(&mut summary, d);
            continue;
        };
        let candidate = actual_by_key.get_mut(&exp.key).and_then(|positions| {
            while let Some(&first) = positions.first() {
                positions.remove(0);
                if !used[first] {
                    return Some(first);
                }
            }
            None
        });
        let Some(pos) = candidate else {
            summary.differing_lines += 1;
            record(
                &mut summary,
                blank("<missing line>", exp_value.clone(), Value::Null),
            );
            continue;
        };
        used[pos] = true;
        let act = &actual[pos];
        if exp.text == act.text && pos == line_no {
            summary.equal_lines += 1;
            continue;
        }
        summary.differing_lines += 1;
        if pos != line_no {
            record(
                &mut summary,
                blank("<order>", Value::from(line_no), Value::from(pos)),
            );
        }
        let Some(act_value) = &act.value else {
            let d = blank(
                "<invalid json>",
                exp_value.clone(),
                Value::String(act.text.to_string()),
            );
            record(&mut summary, d);
            continue;
        };
        let mut fields: Vec<&String> = Vec::new();
        if let (Some(e), Some(a)) = (exp_value.as_object(), act_value.as_object()) {
            fields.extend(e.keys());
            fields.extend(a.keys().filter(|k| !e.contains_key(*k)));
        }
        fields.sort();
        let mut any_field = false;
        for field in fields {
            let e = exp_value.get(field).cloned().unwrap_or(Value::Null);
            let a = act_value.get(field).cloned().unwrap_or(Value::Null);
            let present_both = exp_value.get(field).is_some() == act_value.get(field).is_some();
            if e != a || !present_both {
                any_field = true;
                record(&mut summary, blank(field, e, a));
            }
        }
        if !any_field && exp.text != act.text {
            let d = blank(
                "<text>",
                Value::String(exp.text.to_string()),
                Value::String(act.text.to_string()),
            );
            record(&mut summary, d);
        }
    }

    for (pos, act) in actual.iter().enumerate() {
        if !used[pos] {
            let d = Difference {
                line: pos,
                user_index: act.key.0,
                kind: act.key.1.clone(),
                name: act.key.2.clone(),
                field: "<unexpected line>".to_string(),
                expected: Value::Null,
                actual: act
                    .value
                    .clone()
                    .unwrap_or_else(|| Value::String(act.text.to_string())),
            };
            record(&mut summary, d);
        }
    }
    summary
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(user: u64, name: &str, value: bool, rule: &str) -> String {
        format!(
            r#"{{"kind":"gate","name":"{name}","rule_id":"{rule}","user_index":{user},"value":{value}}}"#
        )
    }

    #[test]
    fn identical_reports() {
        let a = vec![line(0, "g", true, "r"), line(1, "g", false, "d")];
        let s = diff_reports(&a, &a.clone(), 10);
        assert!(s.is_identical(), "{s}");
        assert_eq!(s.equal_lines, 2);
    }

    #[test]
    fn field_differences_are_counted() {
        let e = vec![line(0, "g", true, "r"), line(1, "g", false, "d")];
        let a = vec![line(0, "g", false, "r"), line(1, "g", false, "x")];
        let s = diff_reports(&e, &a, 10);
        assert!(!s.is_identical());
        assert_eq!(s.equal_lines, 0);
        assert_eq!(s.field_mismatches["value"], 1);
        assert_eq!(s.field_mismatches["rule_id"], 1);
        assert_eq!(s.differences[0].field, "value");
        assert_eq!(s.differences[0].expected, Value::Bool(true));
    }

    #[test]
    fn missing_and_extra_lines_do_not_cascade() {
        let e = vec![
            line(0, "a", true, "r"),
            line(0, "b", true, "r"),
            line(0, "c", true, "r"),
        ];
        let a = vec![
            line(0, "a", true, "r"),
            line(0, "c", true, "r"),
            line(0, "z", true, "r"),
        ];
        let s = diff_reports(&e, &a, 10);
        assert_eq!(s.equal_lines, 1);
        assert_eq!(s.field_mismatches["<missing line>"], 1);
        assert_eq!(s.field_mismatches["<unexpected line>"], 1);
        assert_eq!(s.field_mismatches["<order>"], 1);
        assert!(!s.field_mismatches.contains_key("value"));
    }

    #[test]
    fn empty_actual_report() {
        let e = vec![line(0, "a", true, "r")];
        let s = diff_reports(&e, &[], 10);
        assert_eq!(s.field_mismatches["<missing line>"], 1);
        assert!(!s.is_identical());
    }

    #[test]
    fn non_canonical_text_is_reported() {
        let e = vec![line(0, "a", true, "r")];
        let a = vec![format!(" {}", line(0, "a", true, "r"))];
        let s = diff_reports(&e, &a, 10);
        assert_eq!(s.field_mismatches["<text>"], 1);
    }
}
