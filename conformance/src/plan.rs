//! Which entities a report covers, and in which order (docs/EVAL-FORMAT.md, "Order").

use serde_json::Value;

/// The report kind of an entity, which also decides the reference call.
/// The report kinds, shared with gatehouse (same order and names).
pub use gatehouse_core::Kind;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PlannedEntity {
    pub kind: Kind,
    /// The entity name (its key in the spec map).
    pub name: String,
    /// The spec's `entity` string; `""` when the spec has no string `entity`.
    pub entity: String,
}

/// The entities of a parsed dcs-v2 payload in report order: kinds `gate`, `config`,
/// `experiment`, `layer`; within a kind, names in byte order.
///
/// Fails when the payload is not an object or one of `feature_gates`, `dynamic_configs`,
/// `layer_configs` is not an object (the reference rejects such payloads as well).
pub fn entity_plan(specs: &Value) -> Result<Vec<PlannedEntity>, String> {
    let top = specs
        .as_object()
        .ok_or_else(|| "specs: the payload is not a JSON object".to_string())?;
    let section = |key: &str| {
        top.get(key)
            .and_then(Value::as_object)
            .ok_or_else(|| format!("specs: `{key}` is missing or not an object"))
    };
    let gates = section("feature_gates")?;
    let configs = section("dynamic_configs")?;
    let layers = section("layer_configs")?;

    let entity_of = |spec: &Value| -> String {
        spec.get("entity")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string()
    };

    let mut plan = Vec::with_capacity(gates.len() + configs.len() + layers.len());
    let mut push_sorted = |kind: Kind, entries: Vec<(&String, &Value)>| {
        let mut entries = entries;
        entries.sort_by(|a, b| a.0.cmp(b.0));
        for (name, spec) in entries {
            plan.push(PlannedEntity {
                kind,
                name: name.clone(),
                entity: entity_of(spec),
            });
        }
    };

    push_sorted(Kind::Gate, gates.iter().collect());
    let (experiments, others): (Vec<_>, Vec<_>) = configs
        .iter()
        .partition(|(_, spec)| spec.get("entity").and_then(Value::as_str) == Some("experiment"));
    push_sorted(Kind::Config, others);
    push_sorted(Kind::Experiment, experiments);
    push_sorted(Kind::Layer, layers.iter().collect());
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn orders_kinds_then_names_by_bytes() {
        let specs = json!({
            "feature_gates": {"b": {"entity": "feature_gate"}, "B": {"entity": "segment"}, "a": {}},
            "dynamic_configs": {
                "z_exp": {"entity": "experiment"},
                "c": {"entity": "dynamic_config"},
                "auto": {"entity": "autotune"},
                "a_exp": {"entity": "experiment"}
            },
            "layer_configs": {"l": {"entity": "layer"}}
        });
        let plan = entity_plan(&specs).expect("valid plan");
        let got: Vec<(&str, &str, &str)> = plan
            .iter()
            .map(|p| (p.kind.as_str(), p.name.as_str(), p.entity.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("gate", "B", "segment"),
                ("gate", "a", ""),
                ("gate", "b", "feature_gate"),
                ("config", "auto", "autotune"),
                ("config", "c", "dynamic_config"),
                ("experiment", "a_exp", "experiment"),
                ("experiment", "z_exp", "experiment"),
                ("layer", "l", "layer"),
            ]
        );
    }

    #[test]
    fn rejects_missing_sections() {
        assert!(entity_plan(&json!({"feature_gates": {}})).is_err());
        assert!(entity_plan(&json!([])).is_err());
    }
}
