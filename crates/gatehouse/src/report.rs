//! The `gatehouse eval` report through the runtime (docs/EVAL-FORMAT.md).

use crate::options::CallOptions;
use crate::{Client, Error, Kind, User};

impl Client {
    /// The canonical report line of one evaluation on the current specs
    /// (no exposure logged). The reason's source is `Bootstrap` for a file
    /// or in-memory source and `Network` for a URL.
    pub fn report_line(
        &self,
        user: &User,
        user_index: usize,
        kind: Kind,
        name: &str,
    ) -> Result<String, Error> {
        let state = self.inner.store.load();
        let Some(specs) = &state.specs else {
            return Err(Error::NotInitialized);
        };
        let ev = self.evaluated(&state, user, kind, name);
        Ok(gatehouse_core::report::report_line(
            &specs.snapshot,
            user_index,
            name,
            &ev.eval,
            specs.source,
        ))
    }

    /// Make the typed call of `kind` so that its exposures are logged, as
    /// an application would: the gate, config or experiment exposure; for
    /// a layer, one exposure per parameter of its value.
    pub fn expose(&self, user: &User, kind: Kind, name: &str) {
        let opts = CallOptions::default();
        match kind {
            Kind::Gate => {
                self.get_feature_gate_with(user, name, opts);
            }
            Kind::Config => {
                self.get_dynamic_config_with(user, name, opts);
            }
            Kind::Experiment => {
                self.get_experiment_with(user, name, opts);
            }
            Kind::Layer => {
                let layer = self.get_layer_with(user, name, opts);
                for parameter in layer.values().keys() {
                    layer.log_parameter_exposure(parameter);
                }
            }
        }
    }
}
