//! `--load`: spec load time and resident memory, each measured in a fresh child process
//! (this binary re-executed with `--load-child ENGINE`), runs alternating reference, gatehouse.
//!
//! - gatehouse: `parse_specs(&text)` (parse + compile), timed alone.
//! - reference: the specs enter through [`OneShotSpecsAdapter`], which hands the bytes to the
//!   reference's `SpecsUpdateListener` (its `SpecStore::set_values`: deserialize, swap in,
//!   `malloc_trim`, notify) and times that call: `reference_parse_ms`. `reference_init_ms` is
//!   the wall time from `Statsig::new` to `initialize_with_details` returning (the listener call
//!   plus the SDK's own start-up). Country lookup and ID lists are off in both children, and the
//!   reference child first creates a warm-up instance with empty specs (global runtime, statics),
//!   so that the RSS delta is what the specs themselves cost.
//! - RSS: `VmRSS` before reading the file and after the load, once the input text is dropped
//!   (neither engine keeps it); `VmHWM` is the peak.

use super::{median, print_json, proc_status_kb, round2, Args};
use async_trait::async_trait;
use gatehouse_conformance::oracle::{oracle_instance_with, OracleOptions};
use gatehouse_core::parse_specs;
use serde_json::{json, Value};
use statsig_rust::networking::ResponseData;
use statsig_rust::{
    SpecsAdapter, SpecsSource, SpecsUpdate, SpecsUpdateListener, StatsigErr, StatsigOptions,
    StatsigRuntime,
};
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Engine {
    Gatehouse,
    Reference,
}

impl Engine {
    pub fn parse(s: &str) -> Result<Engine, String> {
        match s {
            "gatehouse" => Ok(Engine::Gatehouse),
            "reference" => Ok(Engine::Reference),
            _ => Err(format!("--load-child: unknown engine {s:?}")),
        }
    }

    fn as_str(self) -> &'static str {
        match self {
            Engine::Gatehouse => "gatehouse",
            Engine::Reference => "reference",
        }
    }
}

/// The parent: `runs` children per engine, medians, ratios.
pub fn run(args: &Args) -> Result<(), String> {
    let specs = args.specs_path()?;
    let specs_bytes = std::fs::metadata(&specs)
        .map_err(|e| format!("{}: {e}", specs.display()))?
        .len();
    let exe = std::env::current_exe().map_err(|e| format!("cannot find this binary: {e}"))?;
    let runs = args.runs.unwrap_or(5);
    let mut samples: [Vec<Value>; 2] = [Vec::new(), Vec::new()];
    for _ in 0..runs {
        for (i, engine) in [Engine::Reference, Engine::Gatehouse]
            .into_iter()
            .enumerate()
        {
            let out = std::process::Command::new(&exe)
                .args(["--load-child", engine.as_str(), "--specs"])
                .arg(&specs)
                .output()
                .map_err(|e| format!("cannot run the {} child: {e}", engine.as_str()))?;
            let stdout = String::from_utf8_lossy(&out.stdout);
            let line = stdout.lines().rev().find(|l| l.starts_with('{'));
            let sample = line
                .filter(|_| out.status.success())
                .and_then(|l| serde_json::from_str::<Value>(l).ok())
                .ok_or_else(|| {
                    format!(
                        "the {} child failed ({}):\n{}",
                        engine.as_str(),
                        out.status,
                        String::from_utf8_lossy(&out.stderr)
                    )
                })?;
            samples[i].push(sample);
        }
    }
    let med = |i: usize, key: &str| {
        let v: Vec<f64> = samples[i].iter().filter_map(|s| s[key].as_f64()).collect();
        median(&v)
    };
    let (r, g) = (0, 1);
    let delta = |i| med(i, "rss_after_kb") - med(i, "rss_before_kb");
    let mut line = json!({
        "mode": "load",
        "specs": specs.file_name().map(|n| n.to_string_lossy().into_owned()),
        "specs_bytes": specs_bytes,
        "runs": runs,
        "gatehouse_parse_ms": round2(med(g, "parse_ms")),
        "reference_parse_ms": round2(med(r, "parse_ms")),
        "reference_init_ms": round2(med(r, "init_ms")),
        "parse_ratio": round2(med(g, "parse_ms") / med(r, "parse_ms")),
        "init_ratio": round2(med(g, "parse_ms") / med(r, "init_ms")),
        "gatehouse_rss_delta_kb": delta(g),
        "reference_rss_delta_kb": delta(r),
        "rss_ratio": round2(delta(g) / delta(r)),
        "gatehouse_rss_kb": med(g, "rss_after_kb"),
        "reference_rss_kb": med(r, "rss_after_kb"),
        "gatehouse_hwm_kb": med(g, "hwm_kb"),
        "reference_hwm_kb": med(r, "hwm_kb"),
    });
    if samples[g].iter().all(|s| s["rss_trimmed_kb"].is_number()) {
        let trimmed = med(g, "rss_trimmed_kb") - med(g, "rss_before_kb");
        line["gatehouse_rss_delta_after_malloc_trim_kb"] = json!(trimmed);
    }
    print_json(&line);
    Ok(())
}

/// The child: one load, one JSON line on stdout.
pub fn child(args: &Args, engine: Engine) -> Result<(), String> {
    let mut line = match engine {
        Engine::Gatehouse => {
            let before = proc_status_kb("VmRSS");
            let text = args.read_specs()?;
            let start = Instant::now();
            let snapshot = parse_specs(&text).map_err(|e| format!("gatehouse: {e}"))?;
            let parse = start.elapsed();
            drop(text);
            let after = proc_status_kb("VmRSS");
            black_box(&snapshot);
            let mut line = sample(before, after, parse, None);
            if let Some(trimmed) = rss_after_malloc_trim() {
                line["rss_trimmed_kb"] = json!(trimmed);
            }
            black_box(&snapshot);
            line
        }
        Engine::Reference => {
            // Warm-up instance (kept alive): global runtime and statics out of the delta.
            let warm_specs = r#"{"has_updates":true,"time":1,"feature_gates":{},
                "dynamic_configs":{},"layer_configs":{},"condition_map":{},"experiment_to_layer":{}}"#;
            let warm = instance(OneShotSpecsAdapter::new(warm_specs.into()), true)?;
            let before = proc_status_kb("VmRSS");
            let adapter = OneShotSpecsAdapter::new(args.read_specs()?.into_bytes());
            let start = Instant::now();
            let loaded = instance(adapter.clone(), false)?;
            let init = start.elapsed();
            let after = proc_status_kb("VmRSS");
            let parse = Duration::from_nanos(adapter.listener_ns.load(Ordering::SeqCst));
            black_box((&warm, &loaded));
            sample(before, after, parse, Some(init))
        }
    };
    line["engine"] = json!(engine.as_str());
    print_json(&line);
    Ok(())
}

fn sample(before: u64, after: u64, parse: Duration, init: Option<Duration>) -> Value {
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    json!({
        "rss_before_kb": before,
        "rss_after_kb": after,
        "hwm_kb": proc_status_kb("VmHWM"),
        "parse_ms": ms(parse),
        "init_ms": init.map(ms),
    })
}

/// `VmRSS` after glibc's `malloc_trim(0)` (which the reference runs after every spec load);
/// `None` off glibc.
fn rss_after_malloc_trim() -> Option<u64> {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    {
        extern "C" {
            fn malloc_trim(pad: usize) -> i32;
        }
        // SAFETY: glibc's malloc_trim has no preconditions.
        unsafe { malloc_trim(0) };
        Some(proc_status_kb("VmRSS"))
    }
    #[cfg(not(all(target_os = "linux", target_env = "gnu")))]
    None
}

/// A reference instance fed by `adapter`, without country lookup or ID lists.
fn instance(
    adapter: Arc<OneShotSpecsAdapter>,
    warm_up: bool,
) -> Result<gatehouse_conformance::oracle::OracleInstance, String> {
    oracle_instance_with("", &OracleOptions::default(), |o| StatsigOptions {
        specs_adapter: Some(adapter),
        disable_country_lookup: Some(true),
        wait_for_country_lookup_init: Some(false),
        wait_for_user_agent_init: Some(warm_up),
        enable_id_lists: Some(false),
        ..o
    })
}

/// A specs adapter that hands its bytes to the listener once, at `start`, keeps no copy, and
/// records how long the listener (the reference's spec store) took.
pub struct OneShotSpecsAdapter {
    data: Mutex<Option<Vec<u8>>>,
    listener: Mutex<Option<Arc<dyn SpecsUpdateListener>>>,
    listener_ns: AtomicU64,
}

impl OneShotSpecsAdapter {
    pub fn new(data: Vec<u8>) -> Arc<Self> {
        Arc::new(OneShotSpecsAdapter {
            data: Mutex::new(Some(data)),
            listener: Mutex::new(None),
            listener_ns: AtomicU64::new(0),
        })
    }
}

#[async_trait]
impl SpecsAdapter for OneShotSpecsAdapter {
    fn initialize(&self, listener: Arc<dyn SpecsUpdateListener>) {
        *self.listener.lock().unwrap_or_else(|p| p.into_inner()) = Some(listener);
    }

    async fn start(self: Arc<Self>, _runtime: &Arc<StatsigRuntime>) -> Result<(), StatsigErr> {
        let listener = self
            .listener
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone();
        let data = self.data.lock().unwrap_or_else(|p| p.into_inner()).take();
        let (Some(listener), Some(data)) = (listener, data) else {
            return Err(StatsigErr::UnstartedAdapter(
                "no listener or no data".into(),
            ));
        };
        let update = SpecsUpdate {
            data: ResponseData::from_bytes(data),
            source: SpecsSource::Bootstrap,
            received_at: std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis() as u64),
            source_api: None,
        };
        let start = Instant::now();
        let result = listener.did_receive_specs_update(update);
        self.listener_ns
            .store(start.elapsed().as_nanos() as u64, Ordering::SeqCst);
        result
    }

    async fn shutdown(
        &self,
        _timeout: Duration,
        _runtime: &Arc<StatsigRuntime>,
    ) -> Result<(), StatsigErr> {
        Ok(())
    }

    async fn schedule_background_sync(
        self: Arc<Self>,
        _runtime: &Arc<StatsigRuntime>,
    ) -> Result<(), StatsigErr> {
        Ok(())
    }

    fn get_type_name(&self) -> String {
        "OneShotSpecsAdapter".to_string()
    }
}
