//! The reference runner: evaluates a spec for users with `statsig-rust` 0.24.0 and prints the
//! report of docs/EVAL-FORMAT.md.
//!
//! Everything stays in-process:
//! - specs enter through `StatsigBootstrapSpecsAdapter` (source `Bootstrap`);
//! - events go to [`NoopEventLoggingAdapter`], and every call disables exposure logging
//!   ([`oracle_instance_with_events`] instead captures them, for `tests/exposures.rs`);
//! - ID lists are enabled and served by the reference's own HTTP ID-list adapter talking to
//!   [`InMemoryNetwork`], a `NetworkProvider` that answers the manifest and list downloads from
//!   memory and refuses everything else. (The reference's `IdListsAdapter` trait cannot be
//!   implemented outside the crate: its `start` takes an `IdListsUpdateListener`, which lives in
//!   a private module and is not re-exported. The network provider is the one public seam.)
//! - the country table is loaded and waited for (`wait_for_country_lookup_init`).
//!
//! One instance is created per [`oracle_report`] call and shut down before it returns. All
//! instances share one tokio runtime owned by this module, so the function can be called any
//! number of times from one process, including from several threads at once.

use crate::plan::{entity_plan, Kind, PlannedEntity};
use async_trait::async_trait;
use serde_json::{json, Map, Value};
use statsig_rust::log_event_payload::LogEventRequest;
use statsig_rust::networking::providers::NetworkProviderGlobal;
use statsig_rust::networking::{HttpMethod, NetworkProvider, RequestArgs, Response, ResponseData};
use statsig_rust::output_logger::{LogLevel, OutputLogProvider};
use statsig_rust::{
    DynamicConfigEvaluationOptions, EventLoggingAdapter, ExperimentEvaluationOptions,
    FeatureGateEvaluationOptions, LayerEvaluationOptions, Statsig, StatsigBootstrapSpecsAdapter,
    StatsigErr, StatsigOptions, StatsigRuntime, StatsigUser, StatsigUserData,
};
use std::collections::{BTreeMap, HashMap};
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;

/// Options of one oracle run (the `gatehouse eval` flags other than the inputs).
#[derive(Clone, Debug, Default)]
pub struct OracleOptions {
    /// SDK environment tier (`StatsigOptions::environment`, i.e. `{tier: …}`).
    pub environment: Option<String>,
    /// ID lists: (list name, file contents in the `+id` / `-id` line format).
    pub id_lists: Vec<(String, String)>,
}

const SDK_KEY: &str = "secret-gatehouse-oracle";
const ORACLE_HOST: &str = "https://gatehouse-oracle.invalid/";
const SHUTDOWN_TIMEOUT: Duration = Duration::from_secs(5);

/// Evaluates every entity of `specs_json` for every user with the reference and returns the
/// canonical report lines (docs/EVAL-FORMAT.md), users in input order.
///
/// Errors: specs that are not a dcs-v2 object or that the reference does not accept, a user
/// that is not a valid reference user JSON, an ID list the reference rejects, or a panic inside
/// the reference (e.g. the known one on IPv4 strings beyond 255.255.255.255 such as
/// `999.1.1.1`).
///
/// Blocking; callable from any thread, any number of times, concurrently. (From inside a tokio
/// runtime the work moves to a helper thread, since the oracle drives its own runtime.)
pub fn oracle_report(
    specs_json: &str,
    users: &[Value],
    opts: &OracleOptions,
) -> Result<Vec<String>, String> {
    if tokio::runtime::Handle::try_current().is_ok() {
        // `Runtime::block_on` may not run on a thread that drives another runtime.
        return std::thread::scope(|scope| {
            scope
                .spawn(|| oracle_report_blocking(specs_json, users, opts))
                .join()
                .unwrap_or_else(|_| Err("the oracle thread panicked".to_string()))
        });
    }
    oracle_report_blocking(specs_json, users, opts)
}

fn oracle_report_blocking(
    specs_json: &str,
    users: &[Value],
    opts: &OracleOptions,
) -> Result<Vec<String>, String> {
    let specs: Value =
        serde_json::from_str(specs_json).map_err(|e| format!("specs: invalid JSON: {e}"))?;
    let plan = entity_plan(&specs)?;
    let statsig_users = users
        .iter()
        .enumerate()
        .map(|(i, user)| user_from_json(user).map_err(|e| format!("user {i}: {e}")))
        .collect::<Result<Vec<_>, _>>()?;
    let id_lists = validate_id_lists(&opts.id_lists)?;

    let runtime = runtime()?;
    let _context = runtime.enter();
    let network = network();
    let token = network.register(id_lists.clone());

    let statsig = Statsig::new(
        SDK_KEY,
        Some(Arc::new(statsig_options(specs_json, opts, &token))),
    );
    let result = match runtime.block_on(statsig.initialize_with_details()) {
        Err(e) => Err(format!("the reference failed to initialize: {e}")),
        Ok(details) => {
            if let Some(failure) = details.failure_details {
                Err(format!(
                    "the reference rejected the specs: {}",
                    failure.reason
                ))
            } else if !id_lists.is_empty() && details.is_id_list_ready != Some(true) {
                Err("the reference could not load the ID lists".to_string())
            } else {
                evaluate_all(&statsig, &plan, &statsig_users)
            }
        }
    };

    if let Err(e) = runtime.block_on(statsig.shutdown_with_timeout(SHUTDOWN_TIMEOUT)) {
        eprintln!("gatehouse-oracle: warning: reference shutdown: {e}");
    }
    drop(statsig);
    network.unregister(&token);
    result
}

/// A live reference instance set up like [`oracle_report`]'s (for benchmarks that call the
/// reference directly). Call [`OracleInstance::shutdown`] when done.
pub struct OracleInstance {
    statsig: Arc<Statsig>,
    runtime: &'static tokio::runtime::Runtime,
    token: String,
}

impl OracleInstance {
    /// The initialized reference instance.
    pub fn statsig(&self) -> &Arc<Statsig> {
        &self.statsig
    }

    /// The report of every entity of `specs_json` for `users`, evaluated on
    /// this instance (with whatever overrides it holds).
    pub fn report(&self, specs_json: &str, users: &[Value]) -> Result<Vec<String>, String> {
        let specs: Value =
            serde_json::from_str(specs_json).map_err(|e| format!("specs: invalid JSON: {e}"))?;
        let plan = entity_plan(&specs)?;
        let users = users
            .iter()
            .enumerate()
            .map(|(i, user)| user_from_json(user).map_err(|e| format!("user {i}: {e}")))
            .collect::<Result<Vec<_>, _>>()?;
        evaluate_all(&self.statsig, &plan, &users)
    }

    /// Flushes every queued event to the event logging adapter (blocking; not from inside a
    /// tokio runtime).
    pub fn flush_events(&self) {
        self.runtime.block_on(self.statsig.flush_events());
    }

    /// Shuts the instance down (blocking; not from inside a tokio runtime).
    pub fn shutdown(self) {
        if let Err(e) = self
            .runtime
            .block_on(self.statsig.shutdown_with_timeout(SHUTDOWN_TIMEOUT))
        {
            eprintln!("gatehouse-oracle: warning: reference shutdown: {e}");
        }
        network().unregister(&self.token);
    }
}

/// Creates and initializes a reference instance with [`oracle_report`]'s options (specs through
/// the bootstrap adapter, no-op event logger, country table waited for, `opts`' ID lists).
/// Blocking; not from inside a tokio runtime.
pub fn oracle_instance(specs_json: &str, opts: &OracleOptions) -> Result<OracleInstance, String> {
    oracle_instance_with(specs_json, opts, |o| o)
}

/// [`oracle_instance`] with `tweak` applied to the `StatsigOptions` before the instance is
/// created (e.g. to swap the specs adapter or disable the country lookup).
pub fn oracle_instance_with(
    specs_json: &str,
    opts: &OracleOptions,
    tweak: impl FnOnce(StatsigOptions) -> StatsigOptions,
) -> Result<OracleInstance, String> {
    let id_lists = validate_id_lists(&opts.id_lists)?;
    let runtime = runtime()?;
    let _context = runtime.enter();
    let token = network().register(id_lists);
    let options = tweak(statsig_options(specs_json, opts, &token));
    let instance = OracleInstance {
        statsig: Arc::new(Statsig::new(SDK_KEY, Some(Arc::new(options)))),
        runtime,
        token,
    };
    let failure = match runtime.block_on(instance.statsig.initialize_with_details()) {
        Err(e) => Some(format!("the reference failed to initialize: {e}")),
        Ok(details) => details
            .failure_details
            .map(|f| format!("the reference rejected the specs: {}", f.reason)),
    };
    match failure {
        None => Ok(instance),
        Some(message) => {
            instance.shutdown();
            Err(message)
        }
    }
}

/// Every event the reference hands to its event logging adapter, in delivery order (see
/// [`oracle_instance_with_events`]).
#[derive(Default)]
pub struct CapturedEvents {
    events: Mutex<Vec<Value>>,
    requests: AtomicU64,
}

impl CapturedEvents {
    /// The events delivered so far, each the JSON object of one entry of a `log_event`
    /// request's `events` array (diagnostics and `non_exposed_checks` included).
    pub fn events(&self) -> Vec<Value> {
        self.lock().clone()
    }

    /// Takes the events delivered so far, leaving none.
    pub fn take(&self) -> Vec<Value> {
        std::mem::take(&mut *self.lock())
    }

    /// How many `log_events` requests the reference made.
    pub fn requests(&self) -> u64 {
        self.requests.load(Ordering::SeqCst)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Value>> {
        // A poisoned list only means a pusher panicked between pushes; the events are intact.
        self.events
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }
}

/// Stores every batch's events in a [`CapturedEvents`] and reports success.
struct CapturingEventLoggingAdapter {
    sink: Arc<CapturedEvents>,
}

#[async_trait]
impl EventLoggingAdapter for CapturingEventLoggingAdapter {
    async fn start(&self, _statsig_runtime: &Arc<StatsigRuntime>) -> Result<(), StatsigErr> {
        Ok(())
    }

    async fn log_events(&self, request: LogEventRequest) -> Result<bool, StatsigErr> {
        self.sink.requests.fetch_add(1, Ordering::SeqCst);
        match request.payload.events {
            Value::Array(events) => self.sink.lock().extend(events),
            other => self.sink.lock().push(other),
        }
        Ok(true)
    }

    async fn shutdown(&self) -> Result<(), StatsigErr> {
        Ok(())
    }

    fn should_schedule_background_flush(&self) -> bool {
        false
    }
}

/// [`oracle_instance_with`] whose events are kept instead of dropped: the reference's own event
/// logger (exposure dedupe, sampling, batching) runs as in production and delivers every batch
/// to the returned [`CapturedEvents`]. Calls log exposures unless they disable it themselves.
/// Call [`OracleInstance::flush_events`] (or [`OracleInstance::shutdown`]) before reading the
/// events: batches are delivered when full or flushed.
pub fn oracle_instance_with_events(
    specs_json: &str,
    opts: &OracleOptions,
    tweak: impl FnOnce(StatsigOptions) -> StatsigOptions,
) -> Result<(OracleInstance, Arc<CapturedEvents>), String> {
    let captured = Arc::new(CapturedEvents::default());
    let adapter = Arc::new(CapturingEventLoggingAdapter {
        sink: Arc::clone(&captured),
    });
    let instance = oracle_instance_with(specs_json, opts, |options| {
        tweak(StatsigOptions {
            event_logging_adapter: Some(adapter),
            ..options
        })
    })?;
    Ok((instance, captured))
}

/// Builds a reference user from the reference's user JSON (`StatsigUserData`'s serde shape:
/// `userID`, `customIDs`, `email`, `ip`, `userAgent`, `country`, `locale`, `appVersion`,
/// `custom`, `privateAttributes`, `statsigEnvironment`; unknown keys ignored; every value any
/// JSON).
pub fn user_from_json(user: &Value) -> Result<StatsigUser, String> {
    if !user.is_object() {
        return Err("a user must be a JSON object".to_string());
    }
    let data: StatsigUserData = serde_json::from_value(user.clone())
        .map_err(|e| format!("not a valid reference user: {e}"))?;
    Ok(StatsigUser::new(data))
}

fn validate_id_lists(lists: &[(String, String)]) -> Result<Vec<(String, String)>, String> {
    let mut seen = std::collections::HashSet::new();
    for (name, contents) in lists {
        if !seen.insert(name.as_str()) {
            return Err(format!("ID list `{name}` given more than once"));
        }
        let first = contents.trim_start().chars().next();
        if first.is_some() && first != Some('+') && first != Some('-') {
            return Err(format!(
                "ID list `{name}`: the reference only accepts files that start with '+' or '-'"
            ));
        }
    }
    Ok(lists.to_vec())
}

fn statsig_options(specs_json: &str, opts: &OracleOptions, token: &str) -> StatsigOptions {
    StatsigOptions {
        specs_adapter: Some(Arc::new(StatsigBootstrapSpecsAdapter::new(
            specs_json.to_string(),
        ))),
        event_logging_adapter: Some(Arc::new(NoopEventLoggingAdapter)),
        environment: opts.environment.clone(),
        disable_country_lookup: Some(false),
        wait_for_country_lookup_init: Some(true),
        enable_id_lists: Some(true),
        id_lists_url: Some(format!("{ORACLE_HOST}{token}/get_id_lists")),
        // One sync at initialize is all a run needs; keep the background loop idle.
        id_lists_sync_interval_ms: Some(3_600_000),
        output_log_level: Some(LogLevel::Error),
        output_logger_provider: Some(Arc::new(StderrLogProvider)),
        disable_disk_access: Some(true),
        ..StatsigOptions::new()
    }
}

fn evaluate_all(
    statsig: &Statsig,
    plan: &[PlannedEntity],
    users: &[StatsigUser],
) -> Result<Vec<String>, String> {
    let mut lines = Vec::with_capacity(plan.len() * users.len());
    for (index, user) in users.iter().enumerate() {
        let evaluated = catch_unwind(AssertUnwindSafe(|| {
            plan.iter()
                .map(|entity| evaluate_one(statsig, user, index, entity))
                .collect::<Result<Vec<_>, String>>()
        }));
        match evaluated {
            Ok(Ok(user_lines)) => lines.extend(user_lines),
            Ok(Err(e)) => return Err(format!("user {index}: {e}")),
            Err(panic) => {
                return Err(format!(
                    "the reference panicked on user {index}: {}",
                    panic_message(panic.as_ref())
                ))
            }
        }
    }
    Ok(lines)
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(non-string panic payload)".to_string()
    }
}

/// Evaluates one entity for one user and returns its canonical report line.
fn evaluate_one(
    statsig: &Statsig,
    user: &StatsigUser,
    user_index: usize,
    entity: &PlannedEntity,
) -> Result<String, String> {
    let mut line = Map::new();
    line.insert("user_index".into(), json!(user_index));
    line.insert("kind".into(), json!(entity.kind.as_str()));
    line.insert("name".into(), json!(entity.name));
    line.insert("entity".into(), json!(entity.entity));
    let name = entity.name.as_str();

    match entity.kind {
        Kind::Gate => {
            let options = FeatureGateEvaluationOptions {
                disable_exposure_logging: true,
            };
            let gate = statsig.get_feature_gate_with_options(user, name, options);
            // `FeatureGate::__evaluation` is crate-private; its serde form is public.
            let serialized = to_value(&gate)?;
            let evaluation = serialized.get("__evaluation").unwrap_or(&Value::Null);
            line.insert("value".into(), json!(gate.value));
            line.insert("rule_id".into(), json!(gate.rule_id));
            line.insert("id_type".into(), json!(gate.id_type));
            line.insert("details".into(), details(&gate.details));
            line.insert(
                "secondary_exposures".into(),
                eval_field(evaluation, "secondary_exposures", json!([])),
            );
        }
        Kind::Config => {
            let options = DynamicConfigEvaluationOptions {
                disable_exposure_logging: true,
            };
            let config = statsig.get_dynamic_config_with_options(user, name, options);
            let evaluation = to_value(&config.__evaluation)?;
            line.insert("value".into(), to_value(&config.value)?);
            line.insert("rule_id".into(), json!(config.rule_id));
            line.insert("id_type".into(), json!(config.id_type));
            line.insert("details".into(), details(&config.details));
            line.insert(
                "secondary_exposures".into(),
                eval_field(&evaluation, "secondary_exposures", json!([])),
            );
            line.insert(
                "passed".into(),
                eval_field(&evaluation, "passed", json!(false)),
            );
        }
        Kind::Experiment => {
            let options = ExperimentEvaluationOptions {
                disable_exposure_logging: true,
                ..ExperimentEvaluationOptions::default()
            };
            let experiment = statsig.get_experiment_with_options(user, name, options);
            let evaluation = to_value(&experiment.__evaluation)?;
            line.insert("value".into(), to_value(&experiment.value)?);
            line.insert("rule_id".into(), json!(experiment.rule_id));
            line.insert("id_type".into(), json!(experiment.id_type));
            line.insert("details".into(), details(&experiment.details));
            line.insert(
                "secondary_exposures".into(),
                eval_field(&evaluation, "secondary_exposures", json!([])),
            );
            line.insert("group_name".into(), json!(experiment.group_name));
            line.insert(
                "is_experiment_active".into(),
                json!(experiment.is_experiment_active),
            );
            line.insert(
                "is_user_in_experiment".into(),
                eval_field(&evaluation, "is_user_in_experiment", json!(false)),
            );
            // Serialized only when true.
            line.insert(
                "is_in_layer".into(),
                eval_field(&evaluation, "is_in_layer", json!(false)),
            );
            line.insert(
                "explicit_parameters".into(),
                eval_field(&evaluation, "explicit_parameters", json!([])),
            );
            line.insert(
                "undelegated_secondary_exposures".into(),
                eval_field(&evaluation, "undelegated_secondary_exposures", json!([])),
            );
        }
        Kind::Layer => {
            let options = LayerEvaluationOptions {
                disable_exposure_logging: true,
                ..LayerEvaluationOptions::default()
            };
            let layer = statsig.get_layer_with_options(user, name, options);
            let evaluation = to_value(&layer.__evaluation)?;
            line.insert("value".into(), to_value(&layer.__value)?);
            line.insert("rule_id".into(), json!(layer.rule_id));
            line.insert("id_type".into(), json!(layer.id_type));
            line.insert("details".into(), details(&layer.details));
            line.insert(
                "secondary_exposures".into(),
                eval_field(&evaluation, "secondary_exposures", json!([])),
            );
            line.insert("group_name".into(), json!(layer.group_name));
            // `None` unless the layer delegated to a non-empty experiment name.
            line.insert(
                "allocated_experiment_name".into(),
                json!(layer.allocated_experiment_name),
            );
            line.insert(
                "explicit_parameters".into(),
                eval_field(&evaluation, "explicit_parameters", json!([])),
            );
            line.insert(
                "undelegated_secondary_exposures".into(),
                eval_field(&evaluation, "undelegated_secondary_exposures", json!([])),
            );
            line.insert(
                "parameter_rule_ids".into(),
                eval_field(&evaluation, "parameter_rule_ids", Value::Null),
            );
        }
    }
    Ok(crate::canonical(&Value::Object(line)))
}

fn to_value<T: serde::Serialize>(value: &T) -> Result<Value, String> {
    serde_json::to_value(value).map_err(|e| format!("cannot serialize a reference result: {e}"))
}

/// A field of a serialized `__evaluation`, or `default` when the evaluation is absent or the
/// field was skipped / null.
fn eval_field(evaluation: &Value, key: &str, default: Value) -> Value {
    match evaluation.get(key) {
        Some(Value::Null) | None => default,
        Some(value) => value.clone(),
    }
}

fn details(details: &statsig_rust::EvaluationDetails) -> Value {
    json!({"lcut": details.lcut, "reason": details.reason})
}

// ------------------------------------------------------------------------------------ runtime

fn runtime() -> Result<&'static tokio::runtime::Runtime, String> {
    static RUNTIME: OnceLock<tokio::runtime::Runtime> = OnceLock::new();
    if let Some(runtime) = RUNTIME.get() {
        return Ok(runtime);
    }
    let built = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("gatehouse-oracle")
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start a tokio runtime: {e}"))?;
    // A concurrent caller may have won the race; its runtime is as good as ours.
    let _ = RUNTIME.set(built);
    RUNTIME
        .get()
        .ok_or_else(|| "the tokio runtime vanished".to_string())
}

// ---------------------------------------------------------------------------- event logging

/// Drops every event batch: the oracle never talks to Statsig.
pub struct NoopEventLoggingAdapter;

#[async_trait]
impl EventLoggingAdapter for NoopEventLoggingAdapter {
    async fn start(&self, _statsig_runtime: &Arc<StatsigRuntime>) -> Result<(), StatsigErr> {
        Ok(())
    }

    async fn log_events(&self, _request: LogEventRequest) -> Result<bool, StatsigErr> {
        Ok(true)
    }

    async fn shutdown(&self) -> Result<(), StatsigErr> {
        Ok(())
    }

    fn should_schedule_background_flush(&self) -> bool {
        false
    }
}

/// Sends the reference's own error log lines to stderr (its default logger writes to stdout,
/// which would corrupt `oracle-eval` output).
struct StderrLogProvider;

impl OutputLogProvider for StderrLogProvider {
    fn initialize(&self) {}
    fn debug(&self, _tag: &str, _msg: String) {}
    fn info(&self, _tag: &str, _msg: String) {}
    fn warn(&self, _tag: &str, _msg: String) {}
    fn error(&self, tag: &str, msg: String) {
        eprintln!("statsig-rust error [{tag}]: {msg}");
    }
    fn shutdown(&self) {}
}

// ------------------------------------------------------------------------------ the network

/// What one oracle run serves: its ID lists.
struct RunData {
    id_lists: Vec<(String, String)>,
}

/// A `NetworkProvider` that serves each live oracle run's ID-list manifest and list files from
/// memory and answers every other request with a non-retryable 403. Runs are told apart by a
/// token in the URL path (`https://gatehouse-oracle.invalid/<token>/…`).
pub struct InMemoryNetwork {
    runs: Mutex<HashMap<String, RunData>>,
    next_token: AtomicU64,
}

fn network() -> &'static Arc<InMemoryNetwork> {
    static NETWORK: OnceLock<Arc<InMemoryNetwork>> = OnceLock::new();
    static PROVIDER: OnceLock<Arc<dyn NetworkProvider>> = OnceLock::new();
    let network = NETWORK.get_or_init(|| {
        Arc::new(InMemoryNetwork {
            runs: Mutex::new(HashMap::new()),
            next_token: AtomicU64::new(1),
        })
    });
    // The reference keeps only a `Weak` to the global provider: keep the `Arc` alive forever.
    PROVIDER.get_or_init(|| {
        let provider: Arc<dyn NetworkProvider> = network.clone();
        NetworkProviderGlobal::set(&provider);
        provider
    });
    network
}

impl InMemoryNetwork {
    fn register(&self, id_lists: Vec<(String, String)>) -> String {
        let token = format!(
            "run-{}-{}",
            std::process::id(),
            self.next_token.fetch_add(1, Ordering::SeqCst)
        );
        self.lock().insert(token.clone(), RunData { id_lists });
        token
    }

    fn unregister(&self, token: &str) {
        self.lock().remove(token);
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, RunData>> {
        // A poisoned map only means another run panicked while holding it; the data is intact.
        self.runs
            .lock()
            .unwrap_or_else(|poison| poison.into_inner())
    }

    fn answer(&self, request: &RequestArgs) -> Result<Vec<u8>, String> {
        let path = request
            .url
            .strip_prefix(ORACLE_HOST)
            .ok_or_else(|| format!("the oracle has no network (request to {})", request.url))?;
        let (token, resource) = path
            .split_once('/')
            .ok_or_else(|| format!("unknown oracle resource {path}"))?;
        let runs = self.lock();
        let run = runs
            .get(token)
            .ok_or_else(|| format!("no live oracle run {token}"))?;
        if resource == "get_id_lists" {
            let manifest: BTreeMap<&str, Value> = run
                .id_lists
                .iter()
                .enumerate()
                .map(|(i, (name, contents))| {
                    let size = if contents.trim().is_empty() {
                        0
                    } else {
                        contents.len()
                    };
                    let entry = json!({
                        "name": name,
                        "url": format!("{ORACLE_HOST}{token}/id_list/{i}"),
                        "fileID": format!("{token}-{i}"),
                        "size": size,
                        "creationTime": 1,
                    });
                    (name.as_str(), entry)
                })
                .collect();
            return serde_json::to_vec(&manifest).map_err(|e| e.to_string());
        }
        let index: usize = resource
            .strip_prefix("id_list/")
            .and_then(|i| i.parse().ok())
            .ok_or_else(|| format!("unknown oracle resource {path}"))?;
        let (_, contents) = run
            .id_lists
            .get(index)
            .ok_or_else(|| format!("no ID list #{index} in run {token}"))?;
        let start = range_start(request).min(contents.len());
        Ok(contents.as_bytes()[start..].to_vec())
    }
}

/// The byte offset a list download asks for (`Range: bytes=N-` or query `range=N-`).
fn range_start(request: &RequestArgs) -> usize {
    let from_header = request.headers.as_ref().and_then(|headers| {
        headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("range"))
            .and_then(|(_, v)| v.strip_prefix("bytes="))
            .map(str::to_string)
    });
    let from_query = request
        .query_params
        .as_ref()
        .and_then(|params| params.get("range").cloned());
    from_header
        .or(from_query)
        .and_then(|range| range.trim_end_matches('-').parse().ok())
        .unwrap_or(0)
}

#[async_trait]
impl NetworkProvider for InMemoryNetwork {
    async fn send(&self, _method: &HttpMethod, args: &RequestArgs) -> Response {
        match self.answer(args) {
            Ok(body) => Response {
                status_code: Some(200),
                data: Some(ResponseData::from_bytes(body)),
                error: None,
            },
            Err(message) => Response {
                // 403 is in the reference's non-retryable list: no backoff loops.
                status_code: Some(403),
                data: None,
                error: Some(message),
            },
        }
    }
}
