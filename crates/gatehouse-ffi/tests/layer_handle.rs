//! A layer handle logs parameter exposures of the evaluation it holds, not
//! of a new one: after an override changes what the layer evaluates to,
//! the exposure still names the rule the caller's values came from.
//! Also: the flags given at open, shutdown, and released client handles.
//!
//! Expected values are read off `examples/specs.json` by hand:
//! - the user's email ends with `@harborgoods.com`, so gate `employees`
//!   passes on its first rule "Harbor staff email"
//!   (`q5Sdd0AWEiL3cdMJZNc890`, condition 280410292: `str_ends_with_any`
//!   `@harborgoods.com`);
//! - layer `product_page` (version 7, `useNewLayerEval`: dcs-semantics
//!   §3.7) then matches its first rule "Staff preview"
//!   (`6FVd3mQdbauwDzWmB5U2O6`: `pass_gate employees`, 100%), whose value
//!   sets `gallery_style` to `spin_360` and `reviews_position` to `tabbed`
//!   with that rule as their parameter rule id; the rule delegates to no
//!   experiment, so the layer's own `rule_id` stays `"default"` (§3.7), no
//!   experiment is allocated, `gallery_style` is not an explicit parameter
//!   and `allocatedExperiment` is ""; a parameter exposure's `ruleID` is
//!   the parameter's rule id (§9.2), its secondary exposures the gate;
//! - a layer override for everyone makes any later evaluation answer rule
//!   `override` with the override's value.

mod support;

use gatehouse_ffi::*;
use serde_json::Value;
use std::ptr;
use std::time::{Duration, Instant};
use support::{specs_path, temp_dir};

const STAFF_RULE: &str = "6FVd3mQdbauwDzWmB5U2O6";
const EMPLOYEES_RULE: &str = "q5Sdd0AWEiL3cdMJZNc890";

fn new_client(options: &Value) -> u64 {
    let text = options.to_string();
    let mut client = 0;
    // SAFETY: valid pointers and lengths; no error buffer.
    let st = unsafe {
        gatehouse_client_new(
            text.as_ptr(),
            text.len(),
            &mut client,
            ptr::null_mut(),
            0,
            ptr::null_mut(),
        )
    };
    assert_eq!(st, GATEHOUSE_OK);
    // SAFETY: no error buffer.
    let st = unsafe { gatehouse_client_initialize(client, ptr::null_mut(), 0, ptr::null_mut()) };
    assert_eq!(st, GATEHOUSE_OK);
    client
}

fn new_user(json: &str) -> u64 {
    let mut user = 0;
    // SAFETY: valid pointers and lengths; no error buffer.
    let st = unsafe {
        gatehouse_user_new(
            json.as_ptr(),
            json.len(),
            &mut user,
            ptr::null_mut(),
            0,
            ptr::null_mut(),
        )
    };
    assert_eq!(st, GATEHOUSE_OK);
    user
}

/// Open a layer: (handle, JSON).
fn open(client: u64, user: u64, name: &str, flags: u32) -> (u64, Value) {
    let mut buf = vec![0u8; 16 * 1024];
    let (mut layer, mut len, mut token_out) = (0u64, 0usize, 0u64);
    // SAFETY: valid pointers and lengths.
    let st = unsafe {
        gatehouse_layer_open(
            client,
            user,
            name.as_ptr(),
            name.len(),
            flags,
            77,
            &mut layer,
            buf.as_mut_ptr(),
            buf.len(),
            &mut len,
            &mut token_out,
        )
    };
    assert_eq!((st, token_out), (GATEHOUSE_OK, 77));
    let json: Value = serde_json::from_slice(&buf[..len]).expect("layer JSON");
    assert_eq!(json["token"], "77");
    (layer, json)
}

/// A fresh evaluation through `gatehouse_get_layer`.
fn get_layer(client: u64, user: u64, name: &str) -> Value {
    let mut buf = vec![0u8; 16 * 1024];
    let (mut len, mut token_out) = (0usize, 0u64);
    // SAFETY: valid pointers and lengths.
    let st = unsafe {
        gatehouse_get_layer(
            client,
            user,
            name.as_ptr(),
            name.len(),
            GATEHOUSE_FLAG_DISABLE_EXPOSURE_LOGGING,
            5,
            buf.as_mut_ptr(),
            buf.len(),
            &mut len,
            &mut token_out,
        )
    };
    assert_eq!(st, GATEHOUSE_OK);
    serde_json::from_slice(&buf[..len]).expect("layer JSON")
}

fn log_param(layer: u64, param: &str) -> i32 {
    // SAFETY: valid pointer and length.
    unsafe { gatehouse_layer_log_param(layer, param.as_ptr(), param.len()) }
}

fn flush(client: u64) {
    // SAFETY: no error buffer.
    let st = unsafe { gatehouse_client_flush(client, ptr::null_mut(), 0, ptr::null_mut()) };
    assert_eq!(st, GATEHOUSE_OK);
}

fn layer_exposures(path: &std::path::Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    text.lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("event JSON"))
        .filter(|e| e["eventName"] == "statsig::layer_exposure")
        .collect()
}

fn options(events: &std::path::Path) -> Value {
    serde_json::json!({
        "specs_file": specs_path(),
        "sync_interval_ms": 0,
        "events": {"file": events, "flush_interval_ms": 60_000},
    })
}

const STAFF_USER: &str = r#"{"userID":"layer-handle-staff","email":"pat@harborgoods.com"}"#;

#[test]
fn a_layer_handle_logs_the_exposure_of_the_evaluation_it_holds() {
    let dir = temp_dir("layer-handle");
    let events = dir.join("events.ndjson");
    let client = new_client(&options(&events));
    let user = new_user(STAFF_USER);

    let (layer, json) = open(client, user, "product_page", 0);
    assert_eq!(json["rule_id"], "default");
    assert_eq!(json["value"]["gallery_style"], "spin_360");
    assert_eq!(json["allocated_experiment_name"], Value::Null);
    // Opened with exposure logging off: its reads log nothing.
    let (quiet, _) = open(
        client,
        user,
        "product_page",
        GATEHOUSE_FLAG_DISABLE_EXPOSURE_LOGGING,
    );

    // Now the layer evaluates differently for everyone.
    let value = br#"{"gallery_style":"forced"}"#;
    let name = b"product_page";
    // SAFETY: valid pointers and lengths; no error buffer.
    let st = unsafe {
        gatehouse_override_layer(
            client,
            name.as_ptr(),
            name.len(),
            value.as_ptr(),
            value.len(),
            ptr::null(),
            0,
            ptr::null_mut(),
            0,
            ptr::null_mut(),
        )
    };
    assert_eq!(st, GATEHOUSE_OK);
    let fresh = get_layer(client, user, "product_page");
    assert_eq!(fresh["rule_id"], "override");
    assert_eq!(fresh["value"]["gallery_style"], "forced");

    assert_eq!(log_param(layer, "gallery_style"), GATEHOUSE_OK);
    assert_eq!(log_param(quiet, "gallery_style"), GATEHOUSE_OK);
    // For contrast, the re-evaluating call logs the new evaluation's.
    let (mut buf, mut len, mut token_out) = ([0u8; 1024], 0usize, 0u64);
    let param = b"gallery_style";
    // SAFETY: valid pointers and lengths.
    let st = unsafe {
        gatehouse_layer_get_param(
            client,
            user,
            name.as_ptr(),
            name.len(),
            param.as_ptr(),
            param.len(),
            0,
            6,
            buf.as_mut_ptr(),
            buf.len(),
            &mut len,
            &mut token_out,
        )
    };
    assert_eq!(st, GATEHOUSE_OK);
    flush(client);

    let exposures = layer_exposures(&events);
    assert_eq!(exposures.len(), 2, "{exposures:?}");
    let held = &exposures[0];
    let m = &held["metadata"];
    assert_eq!(m["config"], "product_page");
    assert_eq!(m["parameterName"], "gallery_style");
    assert_eq!(m["ruleID"], STAFF_RULE, "the held evaluation's rule");
    assert_eq!(m["reason"], "Bootstrap:Recognized");
    assert_eq!(m["configVersion"], "7");
    assert_eq!(m["allocatedExperiment"], "");
    assert_eq!(m["isExplicitParameter"], "false");
    assert!(m.get("overrideConfigName").is_none());
    assert_eq!(
        held["secondaryExposures"],
        serde_json::json!([{"gate": "employees", "gateValue": "true", "ruleID": EMPLOYEES_RULE}])
    );
    assert_eq!(held["user"]["userID"], "layer-handle-staff");
    let again = &exposures[1]["metadata"];
    assert_eq!(again["ruleID"], "override");
    assert_eq!(again["reason"], "LocalOverride:Recognized");

    for h in [layer, quiet] {
        assert_eq!(gatehouse_layer_release(h), GATEHOUSE_OK);
    }
    assert_eq!(gatehouse_user_release(user), GATEHOUSE_OK);
    assert_eq!(gatehouse_client_release(client), GATEHOUSE_OK);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn after_shutdown_a_layer_handle_logs_nothing_and_says_so() {
    let dir = temp_dir("layer-handle-shutdown");
    let events = dir.join("events.ndjson");
    let client = new_client(&options(&events));
    let user = new_user(STAFF_USER);
    let (layer, _) = open(client, user, "product_page", 0);
    let (quiet, _) = open(
        client,
        user,
        "product_page",
        GATEHOUSE_FLAG_DISABLE_EXPOSURE_LOGGING,
    );
    // SAFETY: no error buffer.
    let st =
        unsafe { gatehouse_client_shutdown(client, 5000, ptr::null_mut(), 0, ptr::null_mut()) };
    assert_eq!(st, GATEHOUSE_OK);
    assert_eq!(log_param(layer, "gallery_style"), GATEHOUSE_SHUT_DOWN);
    assert_eq!(log_param(layer, "no_such_param"), GATEHOUSE_NOT_FOUND);
    assert_eq!(
        log_param(quiet, "gallery_style"),
        GATEHOUSE_OK,
        "logs nothing anyway"
    );
    assert!(layer_exposures(&events).is_empty());
    for h in [layer, quiet, client, user] {
        let st = match h >> 56 {
            0xA9 => gatehouse_layer_release(h),
            0xC1 => gatehouse_client_release(h),
            _ => gatehouse_user_release(h),
        };
        assert_eq!(st, GATEHOUSE_OK);
    }
    let _ = std::fs::remove_dir_all(&dir);
}

/// Releasing the client handle (without shutdown) while a layer handle
/// lives: the layer still logs, into the client's event pipeline, which is
/// dropped — delivering what it holds — when the last layer handle goes.
#[test]
fn a_layer_handle_outlives_its_client_handle() {
    let dir = temp_dir("layer-handle-release");
    let events = dir.join("events.ndjson");
    let client = new_client(&options(&events));
    let user = new_user(STAFF_USER);
    let (layer, _) = open(client, user, "product_page", 0);
    assert_eq!(gatehouse_client_release(client), GATEHOUSE_OK);
    assert_eq!(gatehouse_user_release(user), GATEHOUSE_OK);
    assert_eq!(log_param(layer, "reviews_position"), GATEHOUSE_OK);
    assert_eq!(gatehouse_layer_release(layer), GATEHOUSE_OK);
    // The pipeline's drop delivers within 200 ms on its own thread.
    let started = Instant::now();
    let mut exposures = layer_exposures(&events);
    while exposures.is_empty() && started.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(20));
        exposures = layer_exposures(&events);
    }
    assert_eq!(exposures.len(), 1, "{exposures:?}");
    assert_eq!(
        exposures[0]["metadata"]["parameterName"],
        "reviews_position"
    );
    assert_eq!(exposures[0]["metadata"]["ruleID"], STAFF_RULE);
    let _ = std::fs::remove_dir_all(&dir);
}
