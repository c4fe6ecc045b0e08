//! Misuse through the C ABI: every wrong call returns its documented
//! status and leaves outputs untouched; none is undefined behaviour.

mod support;

use gatehouse_ffi::*;
use std::ptr;
use support::specs_path;

/// A client over the example specs (no polling, no events) and a user.
fn client_and_user() -> (u64, u64) {
    let options =
        serde_json::json!({"specs_file": specs_path(), "sync_interval_ms": 0}).to_string();
    let client = new_client(&options).expect("client");
    // SAFETY: no error buffer.
    let st = unsafe { gatehouse_client_initialize(client, ptr::null_mut(), 0, ptr::null_mut()) };
    assert_eq!(st, GATEHOUSE_OK);
    let user = new_user(r#"{"userID":"misuse-1","email":"a@harborgoods.com"}"#).expect("user");
    (client, user)
}

/// Create a client; `Err((status, message))` on failure.
fn new_client(options: &str) -> Result<u64, (i32, String)> {
    let mut handle = 0;
    let (mut err, mut err_len) = ([0u8; 1024], 0usize);
    // SAFETY: valid pointers and lengths.
    let st = unsafe {
        gatehouse_client_new(
            options.as_ptr(),
            options.len(),
            &mut handle,
            err.as_mut_ptr(),
            err.len(),
            &mut err_len,
        )
    };
    match st {
        GATEHOUSE_OK => Ok(handle),
        _ => Err((
            st,
            String::from_utf8_lossy(&err[..err_len.min(err.len())]).into_owned(),
        )),
    }
}

fn new_user(json: &str) -> Result<u64, (i32, String)> {
    new_user_bytes(json.as_bytes())
}

fn new_user_bytes(json: &[u8]) -> Result<u64, (i32, String)> {
    let mut handle = 0;
    let (mut err, mut err_len) = ([0u8; 1024], 0usize);
    // SAFETY: valid pointers and lengths.
    let st = unsafe {
        gatehouse_user_new(
            json.as_ptr(),
            json.len(),
            &mut handle,
            err.as_mut_ptr(),
            err.len(),
            &mut err_len,
        )
    };
    match st {
        GATEHOUSE_OK => Ok(handle),
        _ => Err((
            st,
            String::from_utf8_lossy(&err[..err_len.min(err.len())]).into_owned(),
        )),
    }
}

fn check(client: u64, user: u64, name: &[u8], flags: u32) -> (i32, GatehouseGateResult) {
    let mut out = GatehouseGateResult {
        token: 77,
        value: 9,
    };
    // SAFETY: valid pointers and lengths.
    let st = unsafe {
        gatehouse_check_gate(client, user, name.as_ptr(), name.len(), flags, 5, &mut out)
    };
    (st, out)
}

/// `gatehouse_get_feature_gate` into a buffer of `cap` bytes: (status, len, token_out, bytes).
fn gate_json(
    client: u64,
    user: u64,
    name: &[u8],
    cap: usize,
    token: u64,
) -> (i32, usize, u64, Vec<u8>) {
    let mut buf = vec![0xAAu8; cap];
    let (mut len, mut token_out) = (usize::MAX, 0u64);
    // SAFETY: valid pointers and lengths.
    let st = unsafe {
        gatehouse_get_feature_gate(
            client,
            user,
            name.as_ptr(),
            name.len(),
            0,
            token,
            buf.as_mut_ptr(),
            cap,
            &mut len,
            &mut token_out,
        )
    };
    (st, len, token_out, buf)
}

/// `gatehouse_layer_open` into a buffer of `cap` bytes: (status, layer
/// handle — `0xEE` when not written, len, token_out, bytes).
fn open_layer(
    client: u64,
    user: u64,
    name: &[u8],
    flags: u32,
    cap: usize,
    token: u64,
) -> (i32, u64, usize, u64, Vec<u8>) {
    let mut buf = vec![0xAAu8; cap];
    let (mut layer, mut len, mut token_out) = (0xEEu64, usize::MAX, 0u64);
    // SAFETY: valid pointers and lengths.
    let st = unsafe {
        gatehouse_layer_open(
            client,
            user,
            name.as_ptr(),
            name.len(),
            flags,
            token,
            &mut layer,
            buf.as_mut_ptr(),
            cap,
            &mut len,
            &mut token_out,
        )
    };
    (st, layer, len, token_out, buf)
}

fn log_param(layer: u64, param: &[u8]) -> i32 {
    // SAFETY: valid pointer and length.
    unsafe { gatehouse_layer_log_param(layer, param.as_ptr(), param.len()) }
}

fn release_all(client: u64, user: u64) {
    assert_eq!(gatehouse_user_release(user), GATEHOUSE_OK);
    assert_eq!(gatehouse_client_release(client), GATEHOUSE_OK);
}

#[test]
fn stale_handles_and_double_release() {
    let (client, user) = client_and_user();
    assert_eq!(check(client, user, b"dark_mode", 0).0, GATEHOUSE_OK);
    assert_eq!(gatehouse_user_release(user), GATEHOUSE_OK);
    let (st, out) = check(client, user, b"dark_mode", 0);
    assert_eq!(st, GATEHOUSE_INVALID_HANDLE);
    assert_eq!(
        (out.token, out.value),
        (77, 9),
        "outputs untouched on error"
    );
    assert_eq!(
        gatehouse_user_release(user),
        GATEHOUSE_INVALID_HANDLE,
        "double release"
    );
    // A new user may reuse the slot; the stale handle stays dead.
    let again = new_user(r#"{"userID":"misuse-2"}"#).expect("user");
    assert_ne!(again, user);
    assert_eq!(
        check(client, user, b"dark_mode", 0).0,
        GATEHOUSE_INVALID_HANDLE
    );
    assert_eq!(gatehouse_client_release(client), GATEHOUSE_OK);
    assert_eq!(
        check(client, again, b"dark_mode", 0).0,
        GATEHOUSE_INVALID_HANDLE
    );
    assert_eq!(gatehouse_client_release(client), GATEHOUSE_INVALID_HANDLE);
    // SAFETY: no error buffer.
    let st = unsafe { gatehouse_client_flush(client, ptr::null_mut(), 0, ptr::null_mut()) };
    assert_eq!(st, GATEHOUSE_INVALID_HANDLE);
    assert_eq!(gatehouse_user_release(again), GATEHOUSE_OK);
}

#[test]
fn never_issued_and_wrong_type_handles() {
    let (client, user) = client_and_user();
    let forged_user = (0xD5u64 << 56) | (1 << 24) | 0xFF_FFFF;
    let forged_client = (0xC1u64 << 56) | (u64::from(u32::MAX) << 24) | 3;
    let pointer_like = &client as *const u64 as u64;
    for bogus in [0, 1, u64::MAX, pointer_like, forged_client] {
        assert_eq!(
            check(bogus, user, b"dark_mode", 0).0,
            GATEHOUSE_INVALID_HANDLE,
            "{bogus:#x}"
        );
        assert_eq!(
            gatehouse_client_release(bogus),
            GATEHOUSE_INVALID_HANDLE,
            "{bogus:#x}"
        );
    }
    assert_eq!(
        check(client, forged_user, b"dark_mode", 0).0,
        GATEHOUSE_INVALID_HANDLE
    );
    assert_eq!(
        gatehouse_user_release(forged_user),
        GATEHOUSE_INVALID_HANDLE
    );
    // Swapped arguments: each handle is live but of the other type.
    assert_eq!(
        check(user, client, b"dark_mode", 0).0,
        GATEHOUSE_WRONG_HANDLE_TYPE
    );
    assert_eq!(gatehouse_user_release(client), GATEHOUSE_WRONG_HANDLE_TYPE);
    assert_eq!(gatehouse_client_release(user), GATEHOUSE_WRONG_HANDLE_TYPE);
    // Both still work.
    assert_eq!(check(client, user, b"dark_mode", 0).0, GATEHOUSE_OK);
    release_all(client, user);
}

#[test]
fn null_pointers() {
    let (client, user) = client_and_user();
    let mut out = GatehouseGateResult::default();
    // SAFETY: each call passes NULL where the contract allows checking it.
    unsafe {
        assert_eq!(
            gatehouse_check_gate(client, user, ptr::null(), 9, 0, 1, &mut out),
            GATEHOUSE_NULL_ARGUMENT
        );
        assert_eq!(
            gatehouse_check_gate(client, user, b"x".as_ptr(), 1, 0, 1, ptr::null_mut()),
            GATEHOUSE_NULL_ARGUMENT
        );
        // NULL with length 0 is the empty name: a valid (unknown) gate.
        assert_eq!(
            gatehouse_check_gate(client, user, ptr::null(), 0, 0, 1, &mut out),
            GATEHOUSE_OK
        );
        assert_eq!((out.token, out.value), (1, 0));

        let (mut len, mut token_out) = (0usize, 0u64);
        let mut buf = [0u8; 16];
        let name = b"dark_mode";
        let (n, nl) = (name.as_ptr(), name.len());
        assert_eq!(
            gatehouse_get_feature_gate(
                client,
                user,
                n,
                nl,
                0,
                1,
                ptr::null_mut(),
                16,
                &mut len,
                &mut token_out
            ),
            GATEHOUSE_NULL_ARGUMENT
        );
        assert_eq!(
            gatehouse_get_feature_gate(
                client,
                user,
                n,
                nl,
                0,
                1,
                buf.as_mut_ptr(),
                16,
                ptr::null_mut(),
                &mut token_out
            ),
            GATEHOUSE_NULL_ARGUMENT
        );
        assert_eq!(
            gatehouse_get_feature_gate(
                client,
                user,
                n,
                nl,
                0,
                1,
                buf.as_mut_ptr(),
                16,
                &mut len,
                ptr::null_mut()
            ),
            GATEHOUSE_NULL_ARGUMENT
        );
        // NULL buffer with capacity 0 is a size query.
        assert_eq!(
            gatehouse_get_feature_gate(
                client,
                user,
                n,
                nl,
                0,
                1,
                ptr::null_mut(),
                0,
                &mut len,
                &mut token_out
            ),
            GATEHOUSE_BUFFER_TOO_SMALL
        );
        assert!(len > 0);
        assert_eq!(token_out, 0, "token_out untouched unless OK");

        let opts = br#"{"specs_file":"x"}"#;
        let mut handle = 0u64;
        assert_eq!(
            gatehouse_client_new(
                opts.as_ptr(),
                opts.len(),
                ptr::null_mut(),
                ptr::null_mut(),
                0,
                ptr::null_mut()
            ),
            GATEHOUSE_NULL_ARGUMENT
        );
        assert_eq!(
            gatehouse_client_new(
                ptr::null(),
                10,
                &mut handle,
                ptr::null_mut(),
                0,
                ptr::null_mut()
            ),
            GATEHOUSE_NULL_ARGUMENT
        );
        // A NULL error buffer with a capacity is itself a NULL argument.
        assert_eq!(
            gatehouse_client_new(
                opts.as_ptr(),
                opts.len(),
                &mut handle,
                ptr::null_mut(),
                8,
                ptr::null_mut()
            ),
            GATEHOUSE_NULL_ARGUMENT
        );
        assert_eq!(
            gatehouse_user_new(
                ptr::null(),
                3,
                &mut handle,
                ptr::null_mut(),
                0,
                ptr::null_mut()
            ),
            GATEHOUSE_NULL_ARGUMENT
        );
        assert_eq!(
            gatehouse_version(ptr::null_mut(), 0, ptr::null_mut()),
            GATEHOUSE_NULL_ARGUMENT
        );
        assert_eq!(
            gatehouse_status_str(0, ptr::null_mut(), 4, &mut len),
            GATEHOUSE_NULL_ARGUMENT
        );
        assert_eq!(
            gatehouse_client_status(client, ptr::null_mut(), 0, ptr::null_mut()),
            GATEHOUSE_NULL_ARGUMENT
        );
        assert_eq!(handle, 0, "no handle issued by a failed call");
    }
    release_all(client, user);
}

#[test]
fn invalid_utf8() {
    let (client, user) = client_and_user();
    assert_eq!(
        check(client, user, b"dark\xff_mode", 0).0,
        GATEHOUSE_INVALID_UTF8
    );
    assert_eq!(
        gate_json(client, user, b"\xc3", 4096, 1).0,
        GATEHOUSE_INVALID_UTF8
    );
    let (st, msg) = new_user_bytes(b"{\"userID\":\"\xfe\"}").expect_err("invalid UTF-8");
    assert_eq!(st, GATEHOUSE_INVALID_UTF8);
    assert!(msg.contains("UTF-8"), "{msg}");
    let bad = b"{\"specs_file\":\"\xff\"}";
    let mut handle = 0;
    // SAFETY: valid pointers and lengths.
    let st = unsafe {
        gatehouse_client_new(
            bad.as_ptr(),
            bad.len(),
            &mut handle,
            ptr::null_mut(),
            0,
            ptr::null_mut(),
        )
    };
    assert_eq!(st, GATEHOUSE_INVALID_UTF8);
    release_all(client, user);
}

#[test]
fn buffer_too_small_then_retry_with_the_reported_size() {
    let (client, user) = client_and_user();
    let (st, needed, token_out, buf) = gate_json(client, user, b"dark_mode", 1, 42);
    assert_eq!(st, GATEHOUSE_BUFFER_TOO_SMALL);
    assert!(needed > 1);
    assert_eq!(token_out, 0, "token_out untouched");
    assert_eq!(buf, vec![0xAA], "buffer untouched");
    let (st, len, token_out, buf) = gate_json(client, user, b"dark_mode", needed, 42);
    assert_eq!((st, len, token_out), (GATEHOUSE_OK, needed, 42));
    let text = std::str::from_utf8(&buf).expect("UTF-8");
    let json: serde_json::Value = serde_json::from_str(text).expect("JSON");
    assert_eq!(json["token"], "42");
    assert_eq!(json["name"], "dark_mode");

    // The same for the version and status strings.
    let mut len = 0usize;
    // SAFETY: valid pointers.
    assert_eq!(
        unsafe { gatehouse_version(ptr::null_mut(), 0, &mut len) },
        GATEHOUSE_BUFFER_TOO_SMALL
    );
    let mut v = vec![0u8; len];
    // SAFETY: valid pointers.
    assert_eq!(
        unsafe { gatehouse_version(v.as_mut_ptr(), v.len(), &mut len) },
        GATEHOUSE_OK
    );
    assert_eq!(v, env!("CARGO_PKG_VERSION").as_bytes());
    release_all(client, user);
}

#[test]
fn huge_inputs() {
    let (client, user) = client_and_user();
    let name = vec![b'n'; 10 * 1024 * 1024];
    assert_eq!(check(client, user, &name, 0).0, GATEHOUSE_INPUT_TOO_LARGE);
    assert_eq!(
        gate_json(client, user, &name, 64, 1).0,
        GATEHOUSE_INPUT_TOO_LARGE
    );
    let mut huge_user = String::from(r#"{"userID":"big","custom":{"blob":""#);
    huge_user.push_str(&"x".repeat(50 * 1024 * 1024));
    huge_user.push_str(r#""}}"#);
    let (st, msg) = new_user(&huge_user).expect_err("50 MB user");
    assert_eq!(st, GATEHOUSE_INPUT_TOO_LARGE);
    assert!(msg.contains(&GATEHOUSE_MAX_JSON_LEN.to_string()), "{msg}");
    // Just under the limits works.
    assert_eq!(
        check(client, user, &name[..GATEHOUSE_MAX_NAME_LEN], 0).0,
        GATEHOUSE_OK
    );
    release_all(client, user);
}

#[test]
fn option_user_and_argument_errors_carry_messages() {
    let (st, msg) = new_client(r#"{"specs_file":"x","sepcs_url":"y"}"#).expect_err("unknown key");
    assert_eq!(st, GATEHOUSE_INVALID_OPTIONS);
    assert!(msg.contains("sepcs_url"), "{msg}");
    let (st, msg) = new_client(r#"{"specs_file":"x","events":{"file":"e","batch":1}}"#)
        .expect_err("unknown nested key");
    assert_eq!(st, GATEHOUSE_INVALID_OPTIONS);
    assert!(msg.contains("batch"), "{msg}");
    let (st, msg) =
        new_client(r#"{"specs_file":"x","init_timeout_ms":0}"#).expect_err("runtime validation");
    assert_eq!(st, GATEHOUSE_INVALID_OPTIONS);
    assert!(msg.contains("init_timeout"), "{msg}");
    assert_eq!(
        new_client("not json").map_err(|e| e.0),
        Err(GATEHOUSE_INVALID_OPTIONS)
    );

    let (st, msg) = new_user(r#"["not","a","user"]"#).expect_err("not a user");
    assert_eq!(st, GATEHOUSE_INVALID_USER);
    assert!(!msg.is_empty());

    // A small error buffer truncates at a UTF-8 boundary and reports the full length.
    let opts = r#"{"specs_file":"x","ünknown_key":1}"#;
    let (mut err, mut err_len, mut handle) = ([0u8; 24], 0usize, 0u64);
    // SAFETY: valid pointers and lengths.
    let st = unsafe {
        gatehouse_client_new(
            opts.as_ptr(),
            opts.len(),
            &mut handle,
            err.as_mut_ptr(),
            err.len(),
            &mut err_len,
        )
    };
    assert_eq!(st, GATEHOUSE_INVALID_OPTIONS);
    assert!(err_len > err.len());
    let shown = err.iter().position(|&b| b == 0).unwrap_or(err.len());
    assert!(std::str::from_utf8(&err[..shown]).is_ok());

    let (client, user) = client_and_user();
    assert_eq!(
        check(client, user, b"dark_mode", 0x80).0,
        GATEHOUSE_INVALID_ARGUMENT,
        "unknown flag bits"
    );
    let (mut buf, mut len, mut token_out) = ([0u8; 512], 0usize, 0u64);
    let (l, p) = (b"search", b"no_such_param");
    // SAFETY: valid pointers and lengths.
    let st = unsafe {
        gatehouse_layer_get_param(
            client,
            user,
            l.as_ptr(),
            l.len(),
            p.as_ptr(),
            p.len(),
            0,
            3,
            buf.as_mut_ptr(),
            buf.len(),
            &mut len,
            &mut token_out,
        )
    };
    assert_eq!(st, GATEHOUSE_NOT_FOUND);
    release_all(client, user);
}

#[test]
fn lifecycle_errors() {
    // A missing specs file: initialize fails with a message, the client still answers.
    let opts = serde_json::json!({"specs_file": "/nonexistent/specs.json", "sync_interval_ms": 0})
        .to_string();
    let client = new_client(&opts).expect("client");
    let user = new_user(r#"{"userID":"x"}"#).expect("user");
    let (mut err, mut err_len) = ([0u8; 512], 0usize);
    // SAFETY: valid pointers.
    let st =
        unsafe { gatehouse_client_initialize(client, err.as_mut_ptr(), err.len(), &mut err_len) };
    assert_eq!(st, GATEHOUSE_INIT_FAILED);
    assert!(String::from_utf8_lossy(&err[..err_len.min(512)]).contains("nonexistent"));
    let (st, len, _, buf) = gate_json(client, user, b"dark_mode", 4096, 9);
    assert_eq!(st, GATEHOUSE_OK);
    assert!(String::from_utf8_lossy(&buf[..len]).contains("Uninitialized"));

    // After shutdown: events and initialize are refused, evaluations go on.
    // SAFETY: no error buffers.
    unsafe {
        assert_eq!(
            gatehouse_client_shutdown(client, 1000, ptr::null_mut(), 0, ptr::null_mut()),
            GATEHOUSE_OK
        );
        assert_eq!(
            gatehouse_client_shutdown(client, 1000, ptr::null_mut(), 0, ptr::null_mut()),
            GATEHOUSE_OK
        );
        assert_eq!(
            gatehouse_client_initialize(client, ptr::null_mut(), 0, ptr::null_mut()),
            GATEHOUSE_SHUT_DOWN
        );
        let ev = b"purchase";
        assert_eq!(
            gatehouse_log_event(
                client,
                user,
                ev.as_ptr(),
                ev.len(),
                ptr::null(),
                0,
                ptr::null(),
                0,
                ptr::null_mut(),
                0,
                ptr::null_mut()
            ),
            GATEHOUSE_SHUT_DOWN
        );
    }
    assert_eq!(check(client, user, b"dark_mode", 0).0, GATEHOUSE_OK);
    release_all(client, user);
}

#[test]
fn overrides_and_status_round_trip() {
    let (client, user) = client_and_user();
    let name = b"ffi_override_gate";
    // SAFETY: valid pointers and lengths.
    unsafe {
        assert_eq!(
            gatehouse_override_gate(client, name.as_ptr(), name.len(), 1, ptr::null(), 0),
            GATEHOUSE_OK
        );
    }
    assert_eq!(check(client, user, name, 0).1.value, 1);
    // SAFETY: valid pointers and lengths.
    unsafe {
        assert_eq!(
            gatehouse_remove_override(
                client,
                GATEHOUSE_KIND_GATE,
                name.as_ptr(),
                name.len(),
                ptr::null(),
                0
            ),
            GATEHOUSE_OK
        );
        assert_eq!(
            gatehouse_remove_override(client, 99, name.as_ptr(), name.len(), ptr::null(), 0),
            GATEHOUSE_INVALID_ARGUMENT
        );
        let cfg = b"pricing_display";
        let bad = b"[1,2]";
        let good = br#"{"currency":"EUR"}"#;
        let (mut err, mut err_len) = ([0u8; 256], 0usize);
        assert_eq!(
            gatehouse_override_dynamic_config(
                client,
                cfg.as_ptr(),
                cfg.len(),
                bad.as_ptr(),
                bad.len(),
                ptr::null(),
                0,
                err.as_mut_ptr(),
                err.len(),
                &mut err_len
            ),
            GATEHOUSE_INVALID_ARGUMENT
        );
        assert!(String::from_utf8_lossy(&err[..err_len.min(256)]).contains("value_json"));
        let id = b"misuse-1";
        assert_eq!(
            gatehouse_override_dynamic_config(
                client,
                cfg.as_ptr(),
                cfg.len(),
                good.as_ptr(),
                good.len(),
                id.as_ptr(),
                id.len(),
                ptr::null_mut(),
                0,
                ptr::null_mut()
            ),
            GATEHOUSE_OK
        );
        let (mut buf, mut len, mut token_out) = ([0u8; 4096], 0usize, 0u64);
        assert_eq!(
            gatehouse_get_dynamic_config(
                client,
                user,
                cfg.as_ptr(),
                cfg.len(),
                0,
                11,
                buf.as_mut_ptr(),
                buf.len(),
                &mut len,
                &mut token_out
            ),
            GATEHOUSE_OK
        );
        let json: serde_json::Value = serde_json::from_slice(&buf[..len]).expect("JSON");
        assert_eq!(json["value"]["currency"], "EUR");
        assert_eq!((json["token"].as_str(), token_out), (Some("11"), 11));
        assert_eq!(gatehouse_remove_all_overrides(client), GATEHOUSE_OK);
        assert_eq!(
            gatehouse_get_overrides(client, buf.as_mut_ptr(), buf.len(), &mut len),
            GATEHOUSE_OK
        );
        assert_eq!(
            gatehouse_client_status(client, buf.as_mut_ptr(), buf.len(), &mut len),
            GATEHOUSE_OK
        );
        let status: serde_json::Value = serde_json::from_slice(&buf[..len]).expect("JSON");
        assert_eq!(status["ready"], true);
        assert_eq!(
            gatehouse_client_counters(client, buf.as_mut_ptr(), buf.len(), &mut len),
            GATEHOUSE_OK
        );
        let counters: serde_json::Value = serde_json::from_slice(&buf[..len]).expect("JSON");
        assert!(counters["evaluations"].as_u64().is_some_and(|n| n >= 2));
    }
    release_all(client, user);
}

#[test]
fn unaligned_out_parameters_are_fine() {
    let (client, user) = client_and_user();
    let mut raw = [0u8; 64];
    let name = b"dark_mode";
    // Deliberately misaligned `size_t` and `uint64_t` out parameters.
    let len_p = raw[1..].as_mut_ptr().cast::<usize>();
    let tok_p = raw[17..].as_mut_ptr().cast::<u64>();
    let mut buf = [0u8; 2048];
    // SAFETY: both out pointers address 8 writable bytes inside `raw`.
    let st = unsafe {
        gatehouse_get_feature_gate(
            client,
            user,
            name.as_ptr(),
            name.len(),
            0,
            0xDEAD_BEEF,
            buf.as_mut_ptr(),
            buf.len(),
            len_p,
            tok_p,
        )
    };
    assert_eq!(st, GATEHOUSE_OK);
    // SAFETY: reading back what the call wrote, unaligned.
    let (len, tok) = unsafe { (len_p.read_unaligned(), tok_p.read_unaligned()) };
    assert_eq!(tok, 0xDEAD_BEEF);
    assert!(len > 0 && len <= buf.len());
    release_all(client, user);
}

#[test]
fn racing_releases_and_release_during_use() {
    let (client, _) = client_and_user();
    for _ in 0..20 {
        let user = new_user(r#"{"userID":"race"}"#).expect("user");
        // Eight threads release the same handle at once: exactly one wins.
        let wins: usize = std::thread::scope(|s| {
            let hs: Vec<_> = (0..8)
                .map(|_| s.spawn(move || gatehouse_user_release(user) == GATEHOUSE_OK))
                .collect();
            hs.into_iter()
                .map(|h| usize::from(h.join().expect("thread")))
                .sum()
        });
        assert_eq!(wins, 1);
    }
    // Evaluations racing a release: each call succeeds or sees an invalid handle.
    let user = new_user(r#"{"userID":"in-use"}"#).expect("user");
    std::thread::scope(|s| {
        let evaluators: Vec<_> = (0..4)
            .map(|_| {
                s.spawn(move || loop {
                    let st = check(client, user, b"dark_mode", 0).0;
                    if st == GATEHOUSE_INVALID_HANDLE {
                        break;
                    }
                    assert_eq!(st, GATEHOUSE_OK);
                })
            })
            .collect();
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert_eq!(gatehouse_user_release(user), GATEHOUSE_OK);
        for e in evaluators {
            e.join().expect("evaluator");
        }
    });
    assert_eq!(gatehouse_client_release(client), GATEHOUSE_OK);
}

#[test]
fn every_status_has_a_description() {
    let mut buf = [0u8; 128];
    let mut len = 0usize;
    for status in 0..=GATEHOUSE_PANIC {
        // SAFETY: valid pointers.
        assert_eq!(
            unsafe { gatehouse_status_str(status, buf.as_mut_ptr(), buf.len(), &mut len) },
            GATEHOUSE_OK
        );
        assert!(len > 0 && std::str::from_utf8(&buf[..len]).is_ok());
    }
    // SAFETY: valid pointers.
    assert_eq!(
        unsafe { gatehouse_status_str(-4, buf.as_mut_ptr(), buf.len(), &mut len) },
        GATEHOUSE_OK
    );
    assert_eq!(&buf[..len], b"unknown status");
    assert_eq!(gatehouse_abi_version(), GATEHOUSE_ABI_VERSION);
}

#[test]
fn layer_handles_stale_double_release_and_wrong_type() {
    let (client, user) = client_and_user();
    let (st, layer, len, token_out, buf) = open_layer(client, user, b"search", 0, 8192, 21);
    assert_eq!((st, token_out), (GATEHOUSE_OK, 21));
    assert_eq!(layer >> 56, 0xA9, "the layer tag");
    let json: serde_json::Value = serde_json::from_slice(&buf[..len]).expect("JSON");
    assert_eq!(
        (json["name"].as_str(), json["token"].as_str()),
        (Some("search"), Some("21"))
    );
    assert_eq!(log_param(layer, b"ranking_model"), GATEHOUSE_OK);
    assert_eq!(log_param(layer, b"no_such_param"), GATEHOUSE_NOT_FOUND);
    assert_eq!(log_param(layer, b"rank\xffing"), GATEHOUSE_INVALID_UTF8);
    // SAFETY: NULL with a non-zero length is checked, not read.
    assert_eq!(
        unsafe { gatehouse_layer_log_param(layer, ptr::null(), 3) },
        GATEHOUSE_NULL_ARGUMENT
    );
    assert_eq!(
        log_param(layer, &vec![b'p'; GATEHOUSE_MAX_NAME_LEN + 1]),
        GATEHOUSE_INPUT_TOO_LARGE
    );

    // A layer handle where a client or user belongs, and the reverse.
    assert_eq!(
        check(layer, user, b"dark_mode", 0).0,
        GATEHOUSE_WRONG_HANDLE_TYPE
    );
    assert_eq!(
        check(client, layer, b"dark_mode", 0).0,
        GATEHOUSE_WRONG_HANDLE_TYPE
    );
    assert_eq!(
        open_layer(layer, user, b"search", 0, 8192, 1).0,
        GATEHOUSE_WRONG_HANDLE_TYPE
    );
    assert_eq!(
        open_layer(client, layer, b"search", 0, 8192, 1).0,
        GATEHOUSE_WRONG_HANDLE_TYPE
    );
    assert_eq!(gatehouse_client_release(layer), GATEHOUSE_WRONG_HANDLE_TYPE);
    assert_eq!(gatehouse_user_release(layer), GATEHOUSE_WRONG_HANDLE_TYPE);
    assert_eq!(
        gatehouse_remove_all_overrides(layer),
        GATEHOUSE_WRONG_HANDLE_TYPE
    );
    assert_eq!(
        log_param(client, b"ranking_model"),
        GATEHOUSE_WRONG_HANDLE_TYPE
    );
    assert_eq!(
        log_param(user, b"ranking_model"),
        GATEHOUSE_WRONG_HANDLE_TYPE
    );
    assert_eq!(gatehouse_layer_release(client), GATEHOUSE_WRONG_HANDLE_TYPE);
    assert_eq!(gatehouse_layer_release(user), GATEHOUSE_WRONG_HANDLE_TYPE);

    // Never issued.
    let forged = (0xA9u64 << 56) | (1 << 24) | 0xFF_FFFF;
    for bogus in [0, 1, u64::MAX, forged, &layer as *const u64 as u64] {
        assert_eq!(
            log_param(bogus, b"ranking_model"),
            GATEHOUSE_INVALID_HANDLE,
            "{bogus:#x}"
        );
        assert_eq!(
            gatehouse_layer_release(bogus),
            GATEHOUSE_INVALID_HANDLE,
            "{bogus:#x}"
        );
    }

    // Release, then stale and double release; a dead layer handle offered
    // as another type is invalid, not of the wrong type.
    assert_eq!(gatehouse_layer_release(layer), GATEHOUSE_OK);
    assert_eq!(log_param(layer, b"ranking_model"), GATEHOUSE_INVALID_HANDLE);
    assert_eq!(
        gatehouse_layer_release(layer),
        GATEHOUSE_INVALID_HANDLE,
        "double release"
    );
    assert_eq!(
        check(layer, user, b"dark_mode", 0).0,
        GATEHOUSE_INVALID_HANDLE
    );
    assert_eq!(gatehouse_client_release(layer), GATEHOUSE_INVALID_HANDLE);
    let (st, again, ..) = open_layer(client, user, b"search", 0, 8192, 2);
    assert_eq!(st, GATEHOUSE_OK);
    assert_ne!(again, layer);
    assert_eq!(
        log_param(layer, b"ranking_model"),
        GATEHOUSE_INVALID_HANDLE,
        "stale"
    );
    assert_eq!(gatehouse_layer_release(again), GATEHOUSE_OK);

    // Too small a buffer: only the length is written, and no handle is issued.
    let (st, none, needed, token_out, buf) = open_layer(client, user, b"search", 0, 1, 9);
    assert_eq!(st, GATEHOUSE_BUFFER_TOO_SMALL);
    assert_eq!(
        (none, token_out, buf),
        (0xEE, 0, vec![0xAA]),
        "outputs untouched"
    );
    assert!(needed > 1);
    let (st, layer, len, token_out, buf) = open_layer(client, user, b"search", 0, needed, 9);
    assert_eq!((st, len, token_out), (GATEHOUSE_OK, needed, 9));
    assert!(strip_token_eq(&buf, 9));
    assert_eq!(gatehouse_layer_release(layer), GATEHOUSE_OK);

    // Argument errors issue no handle either.
    let (st, none, ..) = open_layer(client, user, b"search", 0x80, 8192, 1);
    assert_eq!((st, none), (GATEHOUSE_INVALID_ARGUMENT, 0xEE));
    let (st, none, ..) = open_layer(client, user, b"sea\xffrch", 0, 8192, 1);
    assert_eq!((st, none), (GATEHOUSE_INVALID_UTF8, 0xEE));
    let (mut buf, mut len, mut token_out) = ([0u8; 64], 0usize, 0u64);
    // SAFETY: valid pointers, except the NULL `layer_out` under test.
    let st = unsafe {
        gatehouse_layer_open(
            client,
            user,
            b"search".as_ptr(),
            6,
            0,
            1,
            ptr::null_mut(),
            buf.as_mut_ptr(),
            buf.len(),
            &mut len,
            &mut token_out,
        )
    };
    assert_eq!(st, GATEHOUSE_NULL_ARGUMENT);

    // Racing releases of one layer handle: exactly one wins.
    for _ in 0..20 {
        let (st, layer, ..) = open_layer(client, user, b"search", 0, 8192, 3);
        assert_eq!(st, GATEHOUSE_OK);
        let wins: usize = std::thread::scope(|s| {
            let hs: Vec<_> = (0..8)
                .map(|_| s.spawn(move || gatehouse_layer_release(layer) == GATEHOUSE_OK))
                .collect();
            hs.into_iter()
                .map(|h| usize::from(h.join().expect("thread")))
                .sum()
        });
        assert_eq!(wins, 1);
    }

    // The client and user handles released while a layer handle lives: the
    // layer handle still works (it holds its evaluation and its client).
    let (st, layer, ..) = open_layer(client, user, b"search", 0, 8192, 4);
    assert_eq!(st, GATEHOUSE_OK);
    release_all(client, user);
    assert_eq!(log_param(layer, b"ranking_model"), GATEHOUSE_OK);
    assert_eq!(log_param(layer, b"no_such_param"), GATEHOUSE_NOT_FOUND);
    assert_eq!(gatehouse_layer_release(layer), GATEHOUSE_OK);
}

/// Whether the JSON carries `"token":"<token>"`.
fn strip_token_eq(json: &[u8], token: u64) -> bool {
    let text = std::str::from_utf8(json).expect("UTF-8");
    text.contains(&format!("\"token\":\"{token}\""))
}
