//! The client: typed evaluation calls over the current [`State`], with
//! exposure logging.

use crate::background::{self, Stop};
use crate::events::{Dedupe, EventLogger, EventSink};
use crate::exposure::{self, Common, Discriminator};
use crate::layer::Layer;
use crate::options::{CallOptions, IdListSource, Options, SpecSource};
use crate::results::{DynamicConfig, EvaluationDetails, FeatureGate, SecondaryExposure};
use crate::state::{State, Store};
use crate::status::Status;
use crate::sync::HttpSpecSource;
use crate::user::User;
use crate::{CounterSnapshot, Counters, Error};
use gatehouse_core::report::now_ms;
use gatehouse_core::{
    check_gate, evaluate, parse_specs, EvalEnv, Evaluation, Kind, OverrideValue, Snapshot,
};
use serde_json::{Map, Value};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// The specs every evaluation sees before the first load: none.
const EMPTY_SPECS: &str = r#"{"has_updates":true,"time":0,"feature_gates":{},"dynamic_configs":{},"layer_configs":{},"condition_map":{},"experiment_to_layer":{}}"#;

/// A gatehouse client. Cheap to clone (one `Arc`); every method takes
/// `&self` and may be called from any number of threads at once.
#[derive(Clone)]
pub struct Client {
    pub(crate) inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub store: Store,
    pub counters: Arc<Counters>,
    pub options: Options,
    pub logger: Option<EventLogger>,
    pub dedupe: Dedupe,
    /// Evaluated when no specs are loaded yet (overrides still apply).
    empty: Snapshot,
    pub stop: Arc<Stop>,
    background: Mutex<Option<std::thread::JoinHandle<()>>>,
    initialized: AtomicBool,
    /// ID-list files loaded (a failed load is retried by `initialize`).
    id_lists_loaded: AtomicBool,
    shut_down: AtomicBool,
}

impl Drop for Inner {
    fn drop(&mut self) {
        self.stop.signal();
    }
}

/// An evaluation with what its details and exposures need.
pub(crate) struct Evaluated<'s> {
    pub eval: Evaluation<'s>,
    pub reason: String,
    pub lcut: Option<u64>,
    pub received_at: Option<u64>,
    pub user_env: Option<&'s str>,
}

impl Evaluated<'_> {
    pub fn details(&self) -> EvaluationDetails {
        EvaluationDetails {
            reason: self.reason.clone(),
            lcut: self.lcut,
            received_at: self.received_at,
            version: self.eval.version,
        }
    }

    pub fn common(&self) -> Common<'_> {
        Common {
            reason: &self.reason,
            lcut: self.lcut,
            received_at: self.received_at,
            version: self.eval.version,
            override_config_name: self.eval.override_config_name,
        }
    }
}

pub(crate) fn owned_exposures(
    list: &[gatehouse_core::SecondaryExposure<'_>],
) -> Vec<SecondaryExposure> {
    list.iter()
        .map(|e| SecondaryExposure {
            gate: e.gate.to_owned(),
            gate_value: e.gate_value,
            rule_id: e.rule_id.to_owned(),
        })
        .collect()
}

impl Client {
    /// Build a client. No I/O happens until [`Client::initialize`]; until
    /// then every evaluation answers `Uninitialized` (overrides apply).
    pub fn new(options: Options) -> Result<Client, Error> {
        validate(&options)?;
        let counters = Arc::new(Counters::default());
        let logger = match &options.events {
            Some(ev) => Some(EventLogger::start(ev.clone(), Arc::clone(&counters))?),
            None => None,
        };
        let empty = parse_specs(EMPTY_SPECS)?;
        let dedupe = Dedupe::new(
            options.dedupe_max_keys,
            u64::try_from(options.dedupe_ttl.as_millis()).unwrap_or(u64::MAX),
        );
        Ok(Client {
            inner: Arc::new(Inner {
                store: Store::new(options.environment.clone()),
                counters,
                logger,
                dedupe,
                empty,
                stop: Arc::new(Stop::default()),
                background: Mutex::new(None),
                initialized: AtomicBool::new(false),
                id_lists_loaded: AtomicBool::new(false),
                shut_down: AtomicBool::new(false),
                options,
            }),
        })
    }

    /// Load specs (and ID lists) once, within `init_timeout`, then start
    /// background polling. The polling starts even when the first load
    /// fails, so a client recovers when its source does; the error says
    /// why evaluations still answer `Uninitialized`. A second call only
    /// syncs again.
    pub fn initialize(&self) -> Result<(), Error> {
        if self.inner.shut_down.load(Ordering::Acquire) {
            return Err(Error::ShutDown);
        }
        let first = !self.inner.initialized.swap(true, Ordering::AcqRel);
        let inner = &self.inner;
        let lists_loaded = inner.id_lists_loaded.load(Ordering::Acquire);
        let id_result = match &inner.options.id_lists {
            // Until they load once: a later initialize retries them.
            IdListSource::Files(files) if !lists_loaded => {
                match crate::sync::load_id_list_files(files) {
                    Ok(lists) => {
                        inner.store.update(|s| s.id_lists = Arc::new(lists));
                        inner.id_lists_loaded.store(true, Ordering::Release);
                        Ok(())
                    }
                    Err(e) => {
                        Counters::inc(&inner.counters.id_list_updates_failed);
                        inner.store.record_error(&e, now_ms_u64());
                        Err(e)
                    }
                }
            }
            IdListSource::InMemory(lists) if first => {
                inner.store.update(|s| s.id_lists = Arc::clone(lists));
                Ok(())
            }
            _ => Ok(()),
        };
        let init_source = match &inner.options.specs {
            SpecSource::Url { url, sdk_key } => Some(HttpSpecSource::new(
                url,
                sdk_key,
                inner.options.init_timeout,
            )),
            _ => None,
        };
        let mut sync = background::Syncer::new(Arc::downgrade(inner), init_source);
        sync.set_id_list_timeout(inner.options.init_timeout);
        let spec_result = sync.sync_specs(inner);
        let manifest_result = sync.sync_id_lists(inner);
        if first {
            let handle = background::spawn(inner, sync)?;
            *lock(&inner.background) = handle;
        }
        spec_result.map_err(|e| init_error(e, &inner.options))?;
        id_result?;
        manifest_result
    }

    /// Sync specs (and a manifest's ID lists) now, on the calling thread.
    pub fn refresh(&self) -> Result<(), Error> {
        if self.inner.shut_down.load(Ordering::Acquire) {
            return Err(Error::ShutDown);
        }
        let inner = &self.inner;
        let mut sync = background::Syncer::new(Arc::downgrade(inner), None);
        let result = sync.sync_specs(inner);
        let lists = sync.sync_id_lists(inner);
        result.and(lists)
    }

    pub(crate) fn evaluated<'s>(
        &'s self,
        state: &'s State,
        user: &User,
        kind: Kind,
        name: &str,
    ) -> Evaluated<'s> {
        Counters::inc_striped(&self.inner.counters.evaluations);
        let specs = state.specs.as_deref();
        let snapshot = specs.map_or(&self.inner.empty, |s| &s.snapshot);
        let env = EvalEnv {
            environment: specs.and_then(|s| s.environment.as_ref()),
            country: self.inner.options.country_table.as_deref(),
            id_lists: Some(&state.id_lists),
            now_ms: now_ms(),
            overrides: (!state.overrides.is_empty()).then_some(&*state.overrides),
        };
        let eval = evaluate(snapshot, &user.core, kind, name, &env);
        match specs {
            Some(s) => Evaluated {
                reason: eval.reason(s.source),
                lcut: eval.lcut(snapshot),
                received_at: Some(s.received_at),
                user_env: s.environment_json.as_deref(),
                eval,
            },
            None => {
                let overridden = eval.override_reason == Some("LocalOverride");
                Evaluated {
                    reason: if overridden {
                        "LocalOverride:Recognized".to_owned()
                    } else {
                        "Uninitialized".to_owned()
                    },
                    lcut: None,
                    received_at: None,
                    user_env: None,
                    eval,
                }
            }
        }
    }

    fn logs(&self, opts: CallOptions) -> bool {
        self.inner.logger.is_some() && !opts.disable_exposure_logging
    }

    /// Queue an exposure unless its dedupe key was seen in the window.
    pub(crate) fn log_exposure(&self, key: u128, build: impl FnOnce() -> String) {
        let Some(logger) = &self.inner.logger else {
            return;
        };
        if !self.inner.dedupe.first_seen(key, now_ms_u64()) {
            Counters::inc(&self.inner.counters.exposures_deduped);
            return;
        }
        Counters::inc(&self.inner.counters.exposures_queued);
        logger.enqueue(build());
    }

    /// A gate's value, logging its exposure.
    pub fn check_gate(&self, user: &User, name: &str) -> bool {
        self.check_gate_with(user, name, CallOptions::default())
    }

    /// A gate's value with per-call options. Without exposure logging this
    /// is the allocation-free fast path.
    pub fn check_gate_with(&self, user: &User, name: &str, opts: CallOptions) -> bool {
        if !self.logs(opts) {
            let state = self.inner.store.load();
            Counters::inc_striped(&self.inner.counters.evaluations);
            let specs = state.specs.as_deref();
            let snapshot = specs.map_or(&self.inner.empty, |s| &s.snapshot);
            let env = EvalEnv {
                environment: specs.and_then(|s| s.environment.as_ref()),
                country: self.inner.options.country_table.as_deref(),
                id_lists: Some(&state.id_lists),
                now_ms: now_ms(),
                overrides: (!state.overrides.is_empty()).then_some(&*state.overrides),
            };
            return check_gate(snapshot, &user.core, name, &env);
        }
        self.get_feature_gate_with(user, name, opts).value
    }

    /// A gate's full result, logging its exposure.
    pub fn get_feature_gate(&self, user: &User, name: &str) -> FeatureGate {
        self.get_feature_gate_with(user, name, CallOptions::default())
    }

    /// A gate's full result with per-call options.
    pub fn get_feature_gate_with(&self, user: &User, name: &str, opts: CallOptions) -> FeatureGate {
        let state = self.inner.store.load();
        let ev = self.evaluated(&state, user, Kind::Gate, name);
        let gate = FeatureGate {
            name: name.to_owned(),
            value: ev.eval.bool_value,
            rule_id: ev.eval.rule_id.to_owned(),
            id_type: ev.eval.id_type.to_owned(),
            details: ev.details(),
            secondary_exposures: owned_exposures(&ev.eval.secondary_exposures),
        };
        if self.logs(opts) {
            let key = exposure::dedupe_key(
                name,
                &gate.rule_id,
                user.identity.for_id_type(&gate.id_type),
                Discriminator::Flag(gate.value),
            );
            self.log_exposure(key, || {
                exposure::gate_exposure(
                    name,
                    gate.value,
                    &gate.rule_id,
                    &ev.common(),
                    &gate.secondary_exposures,
                    &user.loggable_json(ev.user_env),
                    now_ms_u64(),
                )
            });
        }
        gate
    }

    /// A dynamic config, logging its exposure.
    pub fn get_dynamic_config(&self, user: &User, name: &str) -> DynamicConfig {
        self.get_config_like(user, name, Kind::Config, CallOptions::default())
    }

    /// A dynamic config with per-call options.
    pub fn get_dynamic_config_with(
        &self,
        user: &User,
        name: &str,
        opts: CallOptions,
    ) -> DynamicConfig {
        self.get_config_like(user, name, Kind::Config, opts)
    }

    /// An experiment, logging its exposure.
    pub fn get_experiment(&self, user: &User, name: &str) -> DynamicConfig {
        self.get_config_like(user, name, Kind::Experiment, CallOptions::default())
    }

    /// An experiment with per-call options.
    pub fn get_experiment_with(&self, user: &User, name: &str, opts: CallOptions) -> DynamicConfig {
        self.get_config_like(user, name, Kind::Experiment, opts)
    }

    fn get_config_like(
        &self,
        user: &User,
        name: &str,
        kind: Kind,
        opts: CallOptions,
    ) -> DynamicConfig {
        let state = self.inner.store.load();
        let ev = self.evaluated(&state, user, kind, name);
        let e = &ev.eval;
        let config = DynamicConfig {
            name: name.to_owned(),
            value: e.value_object(),
            rule_id: e.rule_id.to_owned(),
            id_type: e.id_type.to_owned(),
            group_name: e.group_name.map(str::to_owned),
            passed: e.bool_value,
            is_experiment_active: e.is_experiment_active,
            is_user_in_experiment: e.is_user_in_experiment,
            details: ev.details(),
            secondary_exposures: owned_exposures(&e.secondary_exposures),
        };
        if self.logs(opts) {
            let (passed, disc) = match kind {
                Kind::Config => (Some(config.passed), config.passed),
                _ => (None, config.is_user_in_experiment),
            };
            let key = exposure::dedupe_key(
                name,
                &config.rule_id,
                user.identity.for_id_type(&config.id_type),
                Discriminator::Flag(disc),
            );
            self.log_exposure(key, || {
                exposure::config_exposure(
                    name,
                    &config.rule_id,
                    passed,
                    &ev.common(),
                    &config.secondary_exposures,
                    &user.loggable_json(ev.user_env),
                    now_ms_u64(),
                )
            });
        }
        config
    }

    /// A layer. Reading a parameter through [`Layer::get`] logs that
    /// parameter's exposure.
    pub fn get_layer(&self, user: &User, name: &str) -> Layer {
        self.get_layer_with(user, name, CallOptions::default())
    }

    /// A layer with per-call options (`disable_exposure_logging` turns off
    /// the parameter exposures of this result).
    pub fn get_layer_with(&self, user: &User, name: &str, opts: CallOptions) -> Layer {
        let state = self.inner.store.load();
        let ev = self.evaluated(&state, user, Kind::Layer, name);
        Layer::new(self.clone(), user, name, &ev, self.logs(opts))
    }

    /// Log a custom event. `value` is a string, a number or null (the
    /// reference's event value, dcs-semantics §9.1); anything else is
    /// refused with [`Error::Options`] naming `value`, and an empty name with
    /// [`Error::Options`] naming `event_name`, with or without an event sink.
    pub fn log_event(
        &self,
        user: &User,
        event_name: &str,
        value: Value,
        metadata: Option<Map<String, Value>>,
    ) -> Result<(), Error> {
        if self.inner.shut_down.load(Ordering::Acquire) {
            return Err(Error::ShutDown);
        }
        if !matches!(value, Value::Null | Value::String(_) | Value::Number(_)) {
            return Err(Error::Options {
                option: "value",
                message: format!(
                    "an event value must be a string, a number or null, not {}",
                    json_type(&value)
                ),
            });
        }
        if event_name.is_empty() {
            return Err(Error::Options {
                option: "event_name",
                message: "an event needs a name".into(),
            });
        }
        let Some(logger) = &self.inner.logger else {
            return Ok(());
        };
        let state = self.inner.store.load();
        let env = state
            .specs
            .as_ref()
            .and_then(|s| s.environment_json.as_deref());
        logger.enqueue(exposure::custom_event(
            event_name,
            value,
            metadata,
            &user.loggable_json(env),
            now_ms_u64(),
        ));
        Ok(())
    }

    /// Deliver every queued event now. `Err` as soon as a batch fails during
    /// this flush; a retryable batch stays queued for the next attempt (see
    /// [`EventLogger::flush`]).
    ///
    /// [`EventLogger::flush`]: crate::events::EventLogger::flush
    pub fn flush(&self) -> Result<(), Error> {
        if self.inner.shut_down.load(Ordering::Acquire) {
            return Err(Error::ShutDown);
        }
        match &self.inner.logger {
            Some(l) => l.flush(),
            None => Ok(()),
        }
    }

    /// Stop polling and flush every queued event (bounded by `timeout`).
    /// Evaluations keep working on the last specs; events are no longer
    /// accepted. A second call does nothing.
    pub fn shutdown(&self, timeout: Duration) -> Result<(), Error> {
        if self.inner.shut_down.swap(true, Ordering::AcqRel) {
            return Ok(());
        }
        let started = std::time::Instant::now();
        self.inner.stop.signal();
        if let Some(handle) = lock(&self.inner.background).take() {
            // The sync thread ends at its next wake-up, or after the request
            // it is in (up to `http_timeout`). Wait at most `timeout`; a
            // thread still in a request is left to finish on its own (it
            // holds only a weak reference to the client).
            if self.inner.stop.wait_exited(timeout) {
                let _ = handle.join();
            }
        }
        let left = timeout.saturating_sub(started.elapsed());
        match &self.inner.logger {
            Some(l) => l.shutdown(left),
            None => Ok(()),
        }
    }

    /// Whether [`Client::shutdown`] was called (on this client or a clone).
    pub fn is_shut_down(&self) -> bool {
        self.inner.shut_down.load(Ordering::Acquire)
    }

    /// The text of the last failed event delivery, if any (kept after
    /// later successes).
    pub fn last_event_error(&self) -> Option<String> {
        self.inner.logger.as_ref().and_then(EventLogger::last_error)
    }

    /// Where specs come from and how fresh they are.
    pub fn status(&self) -> Status {
        Status::read(&self.inner)
    }

    /// Every counter.
    pub fn counters(&self) -> CounterSnapshot {
        self.inner.counters.snapshot()
    }

    fn set_override(&self, kind: Kind, name: &str, value: OverrideValue, id: Option<&str>) {
        self.inner.store.update(|s| {
            let mut o = (*s.overrides).clone();
            o.set(kind, name, value, id);
            s.overrides = Arc::new(o);
        });
    }

    /// Override a gate, for everyone or for one user/custom ID.
    pub fn override_gate(&self, name: &str, value: bool, id: Option<&str>) {
        self.set_override(Kind::Gate, name, OverrideValue::Gate(value), id);
    }

    /// Override a dynamic config's value.
    pub fn override_dynamic_config(&self, name: &str, value: Map<String, Value>, id: Option<&str>) {
        self.set_override(Kind::Config, name, OverrideValue::Value(value), id);
    }

    /// Override an experiment's value.
    pub fn override_experiment(&self, name: &str, value: Map<String, Value>, id: Option<&str>) {
        self.set_override(Kind::Experiment, name, OverrideValue::Value(value), id);
    }

    /// Override an experiment with the value of one of its groups.
    pub fn override_experiment_by_group_name(&self, name: &str, group: &str, id: Option<&str>) {
        let value = OverrideValue::Group(group.to_owned());
        self.set_override(Kind::Experiment, name, value, id);
    }

    /// Override a layer's values.
    pub fn override_layer(&self, name: &str, value: Map<String, Value>, id: Option<&str>) {
        self.set_override(Kind::Layer, name, OverrideValue::Value(value), id);
    }

    /// Remove the override of `kind`/`name` for `id`, or all of that name.
    pub fn remove_override(&self, kind: Kind, name: &str, id: Option<&str>) {
        self.inner.store.update(|s| {
            let mut o = (*s.overrides).clone();
            o.remove(kind, name, id);
            s.overrides = Arc::new(o);
        });
    }

    /// Remove every override.
    pub fn remove_all_overrides(&self) {
        self.inner
            .store
            .update(|s| s.overrides = Arc::new(Default::default()));
    }

    /// Every override as JSON (see [`gatehouse_core::Overrides::to_json`]).
    pub fn overrides_json(&self) -> Value {
        self.inner.store.load().overrides.to_json()
    }

    /// Specs skipped while loading the current payload (JSON path and reason).
    pub fn spec_warnings(&self) -> Vec<String> {
        let state = self.inner.store.load();
        state
            .specs
            .as_ref()
            .map(|s| s.snapshot.warnings().to_vec())
            .unwrap_or_default()
    }

    /// Names of every spec of `kind` in the current specs.
    pub fn spec_names(&self, kind: Kind) -> Vec<String> {
        let state = self.inner.store.load();
        match &state.specs {
            Some(s) => s
                .snapshot
                .names(kind)
                .into_iter()
                .map(str::to_owned)
                .collect(),
            None => Vec::new(),
        }
    }
}

/// A JSON value's type, for messages.
fn json_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

pub(crate) fn now_ms_u64() -> u64 {
    u64::try_from(now_ms()).unwrap_or(0)
}

pub(crate) fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    // Guarded data here is replaced wholesale; a poisoned lock holds a
    // consistent value.
    m.lock().unwrap_or_else(|e| e.into_inner())
}

/// A transport failure of the first load that took the whole
/// initialization timeout is reported as [`Error::InitTimeout`].
fn init_error(e: Error, o: &Options) -> Error {
    match (&e, &o.specs) {
        (
            Error::Http {
                status: 0,
                message,
                url,
            },
            SpecSource::Url { .. },
        ) if message.contains("timed out") || message.contains("Timeout") => Error::InitTimeout {
            source: url.clone(),
            waited_ms: u64::try_from(o.init_timeout.as_millis()).unwrap_or(u64::MAX),
        },
        _ => e,
    }
}

fn validate(o: &Options) -> Result<(), Error> {
    let bad = |option, message: &str| {
        Err(Error::Options {
            option,
            message: message.to_owned(),
        })
    };
    if o.sync_interval.is_some_and(|d| d.is_zero()) {
        return bad(
            "sync_interval",
            "must be positive (use None to disable polling)",
        );
    }
    if o.init_timeout.is_zero() {
        return bad("init_timeout", "must be positive");
    }
    if o.http_timeout.is_zero() {
        return bad("http_timeout", "must be positive");
    }
    if o.id_list_sync_interval.is_zero() {
        return bad("id_list_sync_interval", "must be positive");
    }
    if let IdListSource::Manifest { url, sdk_key } = &o.id_lists {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return bad(
                "id_lists",
                "the manifest URL must start with http:// or https://",
            );
        }
        if sdk_key.is_empty() {
            return bad("id_lists", "a manifest URL needs an SDK key");
        }
    }
    if o.dedupe_max_keys == 0 {
        return bad("dedupe_max_keys", "must be at least 1");
    }
    if let SpecSource::Url { url, sdk_key } = &o.specs {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return bad("specs_url", "must start with http:// or https://");
        }
        if sdk_key.is_empty() {
            return bad("sdk_key", "a URL source needs an SDK key");
        }
    }
    if let Some(EventSink::File(path)) = o.events.as_ref().map(|e| &e.sink) {
        // Caught here rather than as dropped events at the first flush.
        let parent = path.parent().filter(|p| !p.as_os_str().is_empty());
        if path.as_os_str().is_empty() || path.is_dir() {
            return bad("events", "the events file path is empty or a directory");
        }
        if parent.is_some_and(|p| !p.is_dir()) {
            return bad("events", "the events file's directory does not exist");
        }
    }
    Ok(())
}
