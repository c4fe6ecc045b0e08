//! Spec and user from one input, split at the first 0xFF byte (which never
//! occurs in UTF-8): when both parse, evaluate every entity of every kind and
//! render its report line.
#![no_main]

use gatehouse_core::report::{report_line, ALL_KINDS, BOOTSTRAP_SOURCE};
use gatehouse_core::{evaluate, parse_specs, EvalEnv, User};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (spec, user) = match data.iter().position(|&b| b == 0xFF) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b"{\"userID\":\"9\"}"[..]),
    };
    let Ok(snapshot) = parse_specs(&String::from_utf8_lossy(spec)) else {
        return;
    };
    let Ok(user) = User::from_json_str(&String::from_utf8_lossy(user)) else {
        return;
    };
    let env = EvalEnv::default();
    for kind in ALL_KINDS {
        for name in snapshot.names(kind) {
            let eval = evaluate(&snapshot, &user, kind, name, &env);
            let _ = report_line(&snapshot, 0, name, &eval, BOOTSTRAP_SOURCE);
        }
    }
});
