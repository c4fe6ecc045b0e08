//! Payload text → [`Snapshot`].

use super::raw::{RawCondition, RawPayload, RawRule, RawSpec, RawTable};
use super::{
    Condition, ConditionKind, FieldKey, IdType, Left, NameMap, Rule, Snapshot, Spec, TopField,
    UaField,
};
use super::{Kind, Mapping, Skipped};
use crate::hash::{Key, PrefixHash};
use crate::ops::{Comparison, Operator};
use crate::value::DynValue;
use crate::Error;
use serde_json::value::RawValue;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;

/// Parse and compile a dcs-v2 payload.
///
/// A payload that is not JSON, lacks a required top-level field, or holds a
/// malformed condition is rejected with the JSON path of the fault. A single
/// malformed spec is skipped and reported in [`Snapshot::warnings`], as the
/// reference skips it.
pub fn parse_specs(json: &str) -> Result<Snapshot, Error> {
    // serde would also accept a JSON array of the fields in order; the
    // payload is an object.
    if !json.trim_start().starts_with('{') {
        let found = match json.trim_start().chars().next() {
            None => "nothing".to_owned(),
            Some(c) => format!("`{c}`"),
        };
        return Err(Error::spec(
            ".",
            format!("the payload must be a JSON object, found {found}"),
        ));
    }
    let mut de = serde_json::Deserializer::from_str(json);
    let raw: RawPayload = serde_path_to_error::deserialize(&mut de).map_err(|e| {
        let path = e.path().to_string();
        Error::spec(path, e.into_inner().to_string())
    })?;
    de.end().map_err(|e| Error::spec(".", e.to_string()))?;
    if !raw.has_updates {
        return Err(Error::spec(
            "has_updates",
            "is false: the payload carries no specs",
        ));
    }

    let mut warnings = Vec::new();
    let mut skipped = Vec::new();
    let mut raw_specs: Vec<(String, RawSpec, Table)> = Vec::new();
    collect(
        &raw.feature_gates,
        "feature_gates",
        Table::Gate,
        &mut raw_specs,
        &mut skipped,
        &mut warnings,
    );
    collect(
        &raw.dynamic_configs,
        "dynamic_configs",
        Table::Config,
        &mut raw_specs,
        &mut skipped,
        &mut warnings,
    );
    collect(
        &raw.layer_configs,
        "layer_configs",
        Table::Layer,
        &mut raw_specs,
        &mut skipped,
        &mut warnings,
    );

    let mut gates = NameMap::default();
    let mut configs = NameMap::default();
    let mut layers = NameMap::default();
    for (i, (name, _, table)) in raw_specs.iter().enumerate() {
        let map = match table {
            Table::Gate => &mut gates,
            Table::Config => &mut configs,
            Table::Layer => &mut layers,
        };
        map.insert(Box::<str>::from(name.as_str()), index(i)?);
    }

    // Conditions get dense indices; rules refer to them by index.
    let mut cond_keys: Vec<&String> = raw.condition_map.keys().collect();
    cond_keys.sort_unstable();
    let cond_index: HashMap<&str, u32> = cond_keys
        .iter()
        .enumerate()
        .map(|(i, k)| Ok((k.as_str(), index(i)?)))
        .collect::<Result<_, Error>>()?;
    let has_buckets = raw
        .condition_map
        .values()
        .any(|c| c.condition_type == "user_bucket");
    let conditions = cond_keys
        .iter()
        .map(|k| compile_condition(&raw.condition_map[*k], &gates, &configs))
        .collect();

    let mut values = Interner::default();
    let override_rules = raw.override_rules.unwrap_or_default();
    let mappings = raw
        .overrides
        .unwrap_or_default()
        .into_iter()
        .map(|(name, list)| {
            let list = list
                .into_iter()
                .map(|m| Mapping {
                    target: m.new_config_name.into(),
                    rules: m
                        .rules
                        .into_iter()
                        .map(|r| {
                            let rule = override_rules.get(&r.rule_name).map(|raw| {
                                compile_rule(raw.clone(), "", &cond_index, &configs, &mut values)
                            });
                            (r.start_time.unwrap_or(0), rule)
                        })
                        .collect(),
                })
                .collect();
            (Box::<str>::from(name), list)
        })
        .collect();

    let specs = raw_specs
        .into_iter()
        .map(|(name, spec, _)| compile_spec(name, spec, &cond_index, &configs, &mut values))
        .collect();

    Ok(Snapshot {
        time: raw.time,
        checksum: raw.checksum,
        default_environment: raw.default_environment,
        app_id: raw
            .app_id
            .as_ref()
            .map(DynValue::from_json)
            .unwrap_or_default(),
        null: DynValue::null(),
        buckets: if has_buckets {
            (0..1000u64)
                .map(|b| DynValue::from_json(&Value::from(b)))
                .collect()
        } else {
            Vec::new()
        },
        specs,
        conditions,
        gates,
        configs,
        layers,
        warnings,
        skipped,
        mappings,
    })
}

#[derive(Clone, Copy)]
enum Table {
    Gate,
    Config,
    Layer,
}

fn index(i: usize) -> Result<u32, Error> {
    u32::try_from(i).map_err(|_| Error::spec(".", "more than 4 billion specs or conditions"))
}

fn collect(
    table: &RawTable,
    table_name: &str,
    kind: Table,
    out: &mut Vec<(String, RawSpec, Table)>,
    skipped: &mut Vec<Skipped>,
    warnings: &mut Vec<String>,
) {
    for (name, value) in table {
        let mut de = serde_json::Deserializer::from_str(value.get());
        match serde_path_to_error::deserialize::<_, RawSpec>(&mut de) {
            Ok(spec) => out.push((name.clone(), spec, kind)),
            Err(e) => {
                let path = e.path().to_string();
                let path = if path == "." {
                    String::new()
                } else {
                    format!(".{path}")
                };
                warnings.push(format!(
                    "skipped spec at `{table_name}.{name}{path}`: {}",
                    e.into_inner()
                ));
                // The name stays listed (it evaluates as unrecognized, as in
                // the reference), under the entity it claims, if any.
                let entity = serde_json::from_str::<Value>(value.get())
                    .ok()
                    .and_then(|v| v.get("entity")?.as_str().map(str::to_owned))
                    .unwrap_or_default();
                let kind = match kind {
                    Table::Gate => Kind::Gate,
                    Table::Layer => Kind::Layer,
                    Table::Config if entity == "experiment" => Kind::Experiment,
                    Table::Config => Kind::Config,
                };
                skipped.push(Skipped {
                    kind,
                    name: name.as_str().into(),
                    entity: entity.into(),
                });
            }
        }
    }
}

/// Parses each distinct value text once and shares the result: real
/// payloads repeat large config values across rules and specs.
#[derive(Default)]
struct Interner {
    values: HashMap<Box<str>, Arc<Value>>,
}

impl Interner {
    fn get(&mut self, raw: &RawValue) -> Arc<Value> {
        if let Some(v) = self.values.get(raw.get()) {
            return Arc::clone(v);
        }
        // Invariant: a RawValue holds valid JSON, which always parses to a Value.
        let value: Value = serde_json::from_str(raw.get()).unwrap_or(Value::Null);
        let value = Arc::new(value);
        self.values.insert(raw.get().into(), Arc::clone(&value));
        value
    }
}

fn compile_spec(
    name: String,
    raw: RawSpec,
    cond_index: &HashMap<&str, u32>,
    configs: &NameMap,
    values: &mut Interner,
) -> Spec {
    let rules = raw
        .rules
        .into_iter()
        .map(|r| compile_rule(r, &raw.salt, cond_index, configs, values))
        .collect();
    let default_value = values.get(&raw.default_value);
    Spec {
        name: name.into(),
        salt: raw.salt.into(),
        default_bool: *default_value == Value::Bool(true),
        default_value,
        enabled: raw.enabled,
        rules,
        id_type: raw.id_type.into(),
        entity: raw.entity.into(),
        is_active: raw.is_active,
        has_shared_params: raw.has_shared_params,
        explicit_parameters: raw.explicit_parameters,
        version: raw.version,
        forward_all_exposures: raw.forward_all_exposures,
        use_new_layer_eval: raw.use_new_layer_eval == Some(true),
    }
}

/// `spec_salt` is the salt of the spec the rule belongs to (config-mapping
/// rules are hashed with another spec's salt and get `""`: unused).
fn compile_rule(
    raw: RawRule,
    spec_salt: &str,
    cond_index: &HashMap<&str, u32>,
    configs: &NameMap,
    values: &mut Interner,
) -> Rule {
    let return_value = values.get(&raw.return_value);
    let config_delegate = raw
        .config_delegate
        .and_then(|d| configs.get(d.as_str()).map(|&i| (Box::<str>::from(d), i)));
    let salt = raw.salt.unwrap_or_else(|| raw.id.clone());
    Rule {
        hash_prefix: PrefixHash::new(&[spec_salt, &salt]),
        salt: salt.into(),
        id: raw.id.into(),
        pass_percentage: raw.pass_percentage,
        return_bool: *return_value != Value::Bool(false),
        return_value,
        conditions: raw
            .conditions
            .iter()
            .map(|k| cond_index.get(k.as_str()).copied())
            .collect(),
        id_type: IdType::new(&raw.id_type),
        group_name: raw.group_name.map(Into::into),
        is_experiment_group: raw.is_experiment_group,
        config_delegate,
        sampling_rate: raw.sampling_rate,
    }
}

fn compile_condition(raw: &RawCondition, gates: &NameMap, configs: &NameMap) -> Condition {
    let id_type = IdType::new(&raw.id_type);
    let target = raw.target_value.as_ref().unwrap_or(&Value::Null);
    let field = || raw.field.as_deref().map(field_key);
    let left = match raw.condition_type.as_str() {
        "public" => {
            return Condition {
                kind: ConditionKind::Public,
                id_type,
            }
        }
        t @ ("pass_gate" | "fail_gate") => {
            let name = target.as_str().unwrap_or("");
            let kind = ConditionKind::Gate {
                name: name.into(),
                spec: gates.get(name).copied(),
                invert: t == "fail_gate",
            };
            return Condition { kind, id_type };
        }
        "user_field" => Left::User(field()),
        "environment_field" => Left::Environment(field()),
        "ua_based" => Left::UserAgent(field(), raw.field.as_deref().and_then(ua_field)),
        "ip_based" => Left::Ip(field(), raw.field.as_deref() == Some("country")),
        "current_time" => Left::CurrentTime,
        "user_bucket" => {
            let salt = raw.additional_values.as_ref().and_then(|m| m.get("salt"));
            Left::UserBucket(PrefixHash::new(&[salt.map_or("", String::as_str)]))
        }
        "unit_id" => Left::UnitId,
        "target_app" => Left::TargetApp,
        "experiment_group" => {
            Left::ExperimentGroup(raw.field.as_deref().and_then(|f| configs.get(f).copied()))
        }
        _ => {
            return Condition {
                kind: ConditionKind::Unsupported,
                id_type,
            }
        }
    };
    let kind = match raw.operator.as_deref() {
        None => ConditionKind::Unsupported,
        Some(op @ ("in_segment_list" | "not_in_segment_list")) => ConditionKind::IdList {
            left,
            list: target.as_str().map(Into::into),
            negate: op == "not_in_segment_list",
        },
        Some(op) => match Operator::parse(op) {
            Some(op) => ConditionKind::Compare {
                left,
                cmp: Comparison::compile(op, target),
            },
            None => ConditionKind::Unsupported,
        },
    };
    Condition { kind, id_type }
}

fn field_key(raw: &str) -> FieldKey {
    let lower = raw.to_lowercase();
    let top = match lower.as_str() {
        "userid" => Some(TopField::UserId),
        "email" => Some(TopField::Email),
        "ip" => Some(TopField::Ip),
        "country" => Some(TopField::Country),
        "locale" => Some(TopField::Locale),
        "appversion" => Some(TopField::AppVersion),
        "useragent" => Some(TopField::UserAgent),
        _ => None,
    };
    let alias = match lower.as_str() {
        "user_id" => Some(TopField::UserId),
        "app_version" => Some(TopField::AppVersion),
        "user_agent" => Some(TopField::UserAgent),
        _ => None,
    };
    FieldKey {
        lower: (lower != raw).then(|| Key::new(&lower)),
        raw: Key::new(raw),
        top,
        alias,
    }
}

fn ua_field(field: &str) -> Option<UaField> {
    match field.to_lowercase().as_str() {
        "os_name" | "osname" => Some(UaField::OsName),
        "os_version" | "osversion" => Some(UaField::OsVersion),
        "browser_name" | "browsername" => Some(UaField::BrowserName),
        "browser_version" | "browserversion" => Some(UaField::BrowserVersion),
        _ => None,
    }
}
