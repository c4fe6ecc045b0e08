//! Shared by the integration tests: where the built library is, the example
//! specs' entities, and a varied set of users.

#![allow(dead_code)]

use serde_json::{json, Value};
use std::path::{Path, PathBuf};

/// What one evaluation asks for.
#[derive(Clone, Debug)]
pub enum Entity {
    Gate(String),
    Config(String),
    Experiment(String),
    Layer(String),
    Param(String, String),
}

impl Entity {
    /// The line the C program reads: `kind name [param]`.
    pub fn line(&self) -> String {
        match self {
            Entity::Gate(n) => format!("gate {n}"),
            Entity::Config(n) => format!("config {n}"),
            Entity::Experiment(n) => format!("experiment {n}"),
            Entity::Layer(n) => format!("layer {n}"),
            Entity::Param(l, p) => format!("param {l} {p}"),
        }
    }
}

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

pub fn specs_path() -> PathBuf {
    repo_root().join("examples/specs.json")
}

/// The directory holding the built library. The test binary lives in
/// `<target>/<profile>/deps/`, where cargo writes the library this very
/// build produced (`<profile>/` gets a hard link only for some builds), so
/// that directory comes first.
pub fn lib_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current_exe");
    let deps = exe.parent().expect("deps dir").to_path_buf();
    if deps.join(lib_name()).exists() {
        return deps;
    }
    deps.parent().expect("profile dir").to_path_buf()
}

fn lib_name() -> String {
    format!(
        "{}gatehouse_ffi{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    )
}

/// The built cdylib (`cargo test` builds every crate type of the library).
pub fn cdylib_path() -> PathBuf {
    let path = lib_dir().join(lib_name());
    assert!(path.exists(), "{} not built", path.display());
    path
}

/// Every gate, config, experiment, layer and layer parameter (plus one
/// unknown name per kind) of the example specs.
pub fn entities() -> Vec<Entity> {
    let text = std::fs::read_to_string(specs_path()).expect("examples/specs.json");
    let specs: Value = serde_json::from_str(&text).expect("specs parse");
    let mut out = Vec::new();
    for name in specs["feature_gates"].as_object().expect("gates").keys() {
        out.push(Entity::Gate(name.clone()));
    }
    for (name, spec) in specs["dynamic_configs"].as_object().expect("configs") {
        if spec["entity"] == "experiment" {
            out.push(Entity::Experiment(name.clone()));
        } else {
            out.push(Entity::Config(name.clone()));
        }
    }
    for (name, spec) in specs["layer_configs"].as_object().expect("layers") {
        out.push(Entity::Layer(name.clone()));
        for param in spec["defaultValue"]
            .as_object()
            .expect("layer values")
            .keys()
        {
            out.push(Entity::Param(name.clone(), param.clone()));
        }
    }
    out.push(Entity::Gate("no_such_gate".into()));
    out.push(Entity::Config("no_such_config".into()));
    out.push(Entity::Layer("no_such_layer".into()));
    out
}

/// `n` distinct users: the example users first, then generated ones that
/// vary every field the example specs look at.
pub fn users(n: usize) -> Vec<String> {
    let text = std::fs::read_to_string(repo_root().join("examples/users.jsonl")).expect("users");
    let mut out: Vec<String> = text
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(str::to_owned)
        .collect();
    let countries = ["US", "DE", "GB", "CA", "JP", "BR", "IN", "FR"];
    let plans = ["free", "Plus", "Pro", "enterprise"];
    let agents = [
        "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36",
        "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
        "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.6422.165 Mobile Safari/537.36",
    ];
    let mut i = 0usize;
    while out.len() < n {
        let user = json!({
            "userID": format!("ffi-user-{i}"),
            "email": format!("user{i}@{}", if i % 5 == 0 { "harborgoods.com" } else { "example.org" }),
            "customIDs": {"stableID": format!("stable-{i}"), "companyID": format!("co-{}", i % 7)},
            "country": countries[i % countries.len()],
            "locale": "en_US",
            "appVersion": format!("4.{}.{}", i % 8, i % 3),
            "userAgent": agents[i % agents.len()],
            "custom": {
                "plan": plans[i % plans.len()],
                "lifetime_orders": (i * 7) % 60,
                "risk_score": (i * 13) % 100,
                "cart_value": (i as f64) * 3.5,
                "saved_payment_method": i % 2 == 0,
            },
        });
        out.push(user.to_string());
        i += 1;
    }
    out.truncate(n);
    out
}

/// A fresh temporary directory for one test.
pub fn temp_dir(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("gatehouse-ffi-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Whether this run is CI's (`.ci/run` sets `CI=true`).
pub fn in_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| !v.is_empty() && v != "false" && v != "0")
}

/// `strip_token(json, token)`: the JSON with its `"token":"<token>"` value
/// emptied, or `None` when that exact member is absent.
pub fn strip_token(json: &str, token: u64) -> Option<String> {
    let member = format!("\"token\":\"{token}\"");
    let at = json.find(&member)?;
    Some(format!(
        "{}\"token\":\"\"{}",
        &json[..at],
        &json[at + member.len()..]
    ))
}
