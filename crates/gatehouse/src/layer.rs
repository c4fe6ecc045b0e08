//! Layers: values read one parameter at a time, each read logging that
//! parameter's exposure (dcs-semantics §9.2).

use crate::client::{now_ms_u64, owned_exposures, Client, Evaluated};
use crate::exposure::{self, Common, Discriminator, LayerParam};
use crate::results::{exposures_json, EvaluationDetails, SecondaryExposure};
use crate::user::User;
use serde_json::{json, Map, Value};
use std::collections::HashMap;

/// A layer's result. Parameter reads through [`Layer::get`] log exposures.
///
/// Everything an exposure needs is captured when the layer is evaluated
/// (rule ids, allocated experiment, secondary exposures, the user's
/// loggable JSON), so a parameter read logs the exposure of *this*
/// evaluation even if specs or overrides changed since. A layer that logs
/// holds a clone of its [`Client`] (keeping the client's event pipeline
/// alive while the layer lives).
pub struct Layer {
    pub name: String,
    pub rule_id: String,
    pub id_type: String,
    pub group_name: Option<String>,
    pub allocated_experiment_name: Option<String>,
    pub is_experiment_active: bool,
    pub details: EvaluationDetails,
    values: Map<String, Value>,
    explicit: Vec<String>,
    parameter_rule_ids: Option<HashMap<String, String>>,
    secondary: Vec<SecondaryExposure>,
    undelegated: Vec<SecondaryExposure>,
    override_config_name: Option<String>,
    /// `Some` when parameter reads log exposures.
    logging: Option<Logging>,
}

struct Logging {
    client: Client,
    user_json: String,
    /// The user's dedupe identity for the layer's ID type.
    identity: u64,
}

impl Layer {
    pub(crate) fn new(
        client: Client,
        user: &User,
        name: &str,
        ev: &Evaluated<'_>,
        logs: bool,
    ) -> Layer {
        let e = &ev.eval;
        Layer {
            name: name.to_owned(),
            rule_id: e.rule_id.to_owned(),
            id_type: e.id_type.to_owned(),
            group_name: e.group_name.map(str::to_owned),
            allocated_experiment_name: e.allocated_experiment_name.map(str::to_owned),
            is_experiment_active: e.is_experiment_active,
            details: ev.details(),
            values: e.value_object(),
            explicit: e
                .explicit_parameters
                .map(<[String]>::to_vec)
                .unwrap_or_default(),
            parameter_rule_ids: e.parameter_rule_ids.as_ref().map(|ids| {
                ids.iter()
                    .map(|(k, v)| (k.clone(), (*v).to_owned()))
                    .collect()
            }),
            secondary: owned_exposures(&e.secondary_exposures),
            undelegated: e
                .undelegated_secondary_exposures
                .as_deref()
                .map(owned_exposures)
                .unwrap_or_default(),
            override_config_name: e.override_config_name.map(str::to_owned),
            logging: logs.then(|| Logging {
                client,
                user_json: user.loggable_json(ev.user_env),
                identity: user.identity.for_id_type(e.id_type),
            }),
        }
    }

    /// A parameter's value, logging its exposure (once per dedupe window).
    pub fn get(&self, parameter: &str) -> Option<&Value> {
        let value = self.values.get(parameter)?;
        self.log_parameter_exposure(parameter);
        Some(value)
    }

    /// A parameter's value without logging an exposure.
    pub fn get_without_exposure(&self, parameter: &str) -> Option<&Value> {
        self.values.get(parameter)
    }

    /// Whether parameter reads log exposures: the client has an event sink
    /// and the layer was not fetched with `disable_exposure_logging`.
    pub fn logs_exposures(&self) -> bool {
        self.logging.is_some()
    }

    /// Whether the client this layer logs to was shut down (its exposures
    /// are then dropped and counted in `events_dropped`). `false` for a
    /// layer that logs nothing.
    pub fn is_client_shut_down(&self) -> bool {
        self.logging
            .as_ref()
            .is_some_and(|l| l.client.is_shut_down())
    }

    /// Every value, without logging.
    pub fn values(&self) -> &Map<String, Value> {
        &self.values
    }

    /// Log the exposure of one parameter (as [`Layer::get`] does).
    pub fn log_parameter_exposure(&self, parameter: &str) {
        let Some(l) = &self.logging else { return };
        let is_explicit = self.explicit.iter().any(|p| p == parameter);
        let rule_id = self
            .parameter_rule_ids
            .as_ref()
            .and_then(|ids| ids.get(parameter))
            .unwrap_or(&self.rule_id);
        let allocated = match (&self.allocated_experiment_name, is_explicit) {
            (Some(a), true) => a.as_str(),
            _ => "",
        };
        // The reference keys a parameter's exposure by the layer's own rule
        // id, even when the parameter has a rule id of its own.
        let key = exposure::dedupe_key(
            &self.name,
            &self.rule_id,
            l.identity,
            Discriminator::Parameter(parameter),
        );
        l.client.log_exposure(key, || {
            let common = Common {
                reason: &self.details.reason,
                lcut: self.details.lcut,
                received_at: self.details.received_at,
                version: self.details.version,
                override_config_name: self.override_config_name.as_deref(),
            };
            let secondary = if is_explicit {
                &self.secondary
            } else {
                &self.undelegated
            };
            let param = LayerParam {
                layer: &self.name,
                rule_id,
                parameter,
                is_explicit,
                allocated_experiment: allocated,
            };
            exposure::layer_exposure(&param, &common, secondary, &l.user_json, now_ms_u64())
        });
    }

    /// The layer as JSON (values included, no exposure logged).
    pub fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "value": self.values,
            "rule_id": self.rule_id,
            "id_type": self.id_type,
            "group_name": self.group_name,
            "allocated_experiment_name": self.allocated_experiment_name,
            "is_experiment_active": self.is_experiment_active,
            "explicit_parameters": self.explicit,
            "details": {
                "reason": self.details.reason,
                "lcut": self.details.lcut,
                "received_at": self.details.received_at,
                "version": self.details.version,
            },
            "secondary_exposures": exposures_json(&self.secondary),
            "undelegated_secondary_exposures": exposures_json(&self.undelegated),
        })
    }
}
