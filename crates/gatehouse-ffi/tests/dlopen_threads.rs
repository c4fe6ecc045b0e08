//! The built cdylib loaded with libloading and driven from 32 threads:
//! every result carries its own token and equals the single-threaded
//! answer. Layer handles are opened, logged through and released from the
//! same threads. Also checks the load-time contract (ABI version, version
//! string).

mod support;

use gatehouse_ffi::{
    GatehouseGateResult, GATEHOUSE_ABI_VERSION, GATEHOUSE_BUFFER_TOO_SMALL,
    GATEHOUSE_FLAG_DISABLE_EXPOSURE_LOGGING, GATEHOUSE_INVALID_HANDLE, GATEHOUSE_NOT_FOUND,
    GATEHOUSE_OK,
};
use libloading::Library;
use std::ptr;
use support::{cdylib_path, entities, specs_path, strip_token, temp_dir, users, Entity};

type NewFn = unsafe extern "C" fn(*const u8, usize, *mut u64, *mut u8, usize, *mut usize) -> i32;
type ErrFn = unsafe extern "C" fn(u64, *mut u8, usize, *mut usize) -> i32;
type ShutdownFn = unsafe extern "C" fn(u64, u64, *mut u8, usize, *mut usize) -> i32;
type ReleaseFn = unsafe extern "C" fn(u64) -> i32;
type JsonFn = unsafe extern "C" fn(
    u64,
    u64,
    *const u8,
    usize,
    u32,
    u64,
    *mut u8,
    usize,
    *mut usize,
    *mut u64,
) -> i32;
type CheckFn =
    unsafe extern "C" fn(u64, u64, *const u8, usize, u32, u64, *mut GatehouseGateResult) -> i32;
type ParamFn = unsafe extern "C" fn(
    u64,
    u64,
    *const u8,
    usize,
    *const u8,
    usize,
    u32,
    u64,
    *mut u8,
    usize,
    *mut usize,
    *mut u64,
) -> i32;
type OpenFn = unsafe extern "C" fn(
    u64,
    u64,
    *const u8,
    usize,
    u32,
    u64,
    *mut u64,
    *mut u8,
    usize,
    *mut usize,
    *mut u64,
) -> i32;
type LogParamFn = unsafe extern "C" fn(u64, *const u8, usize) -> i32;
type AbiFn = unsafe extern "C" fn() -> u32;
type VersionFn = unsafe extern "C" fn(*mut u8, usize, *mut usize) -> i32;

/// The exports this test uses, as plain function pointers.
#[derive(Clone, Copy)]
struct Api {
    client_new: NewFn,
    initialize: ErrFn,
    shutdown: ShutdownFn,
    client_release: ReleaseFn,
    user_new: NewFn,
    user_release: ReleaseFn,
    check_gate: CheckFn,
    feature_gate: JsonFn,
    dynamic_config: JsonFn,
    experiment: JsonFn,
    layer: JsonFn,
    layer_param: ParamFn,
    layer_open: OpenFn,
    layer_log_param: LogParamFn,
    layer_release: ReleaseFn,
}

fn sym<T: Copy>(lib: &Library, name: &str) -> T {
    // SAFETY: each name is an export of the gatehouse library whose C
    // signature matches `T` (include/gatehouse.h); the pointer is used only
    // while `lib` is loaded (the test keeps it for its whole body).
    unsafe {
        *lib.get::<T>(name.as_bytes())
            .unwrap_or_else(|e| panic!("{name}: {e}"))
    }
}

impl Api {
    fn load(lib: &Library) -> Api {
        Api {
            client_new: sym(lib, "gatehouse_client_new"),
            initialize: sym(lib, "gatehouse_client_initialize"),
            shutdown: sym(lib, "gatehouse_client_shutdown"),
            client_release: sym(lib, "gatehouse_client_release"),
            user_new: sym(lib, "gatehouse_user_new"),
            user_release: sym(lib, "gatehouse_user_release"),
            check_gate: sym(lib, "gatehouse_check_gate"),
            feature_gate: sym(lib, "gatehouse_get_feature_gate"),
            dynamic_config: sym(lib, "gatehouse_get_dynamic_config"),
            experiment: sym(lib, "gatehouse_get_experiment"),
            layer: sym(lib, "gatehouse_get_layer"),
            layer_param: sym(lib, "gatehouse_layer_get_param"),
            layer_open: sym(lib, "gatehouse_layer_open"),
            layer_log_param: sym(lib, "gatehouse_layer_log_param"),
            layer_release: sym(lib, "gatehouse_layer_release"),
        }
    }

    fn new_handle(&self, f: NewFn, json: &str) -> u64 {
        let mut handle = 0u64;
        let mut err = [0u8; 512];
        let mut err_len = 0usize;
        // SAFETY: valid pointers and lengths for the call.
        let st = unsafe {
            f(
                json.as_ptr(),
                json.len(),
                &mut handle,
                err.as_mut_ptr(),
                err.len(),
                &mut err_len,
            )
        };
        let msg = String::from_utf8_lossy(&err[..err_len.min(err.len())]).into_owned();
        assert_eq!(st, GATEHOUSE_OK, "{msg}");
        handle
    }

    /// One JSON evaluation (growing `buf` on BUFFER_TOO_SMALL): the status
    /// and, on success, the JSON and the echoed token.
    fn json(
        &self,
        c: u64,
        u: u64,
        e: &Entity,
        flags: u32,
        token: u64,
        buf: &mut Vec<u8>,
    ) -> (i32, String, u64) {
        with_buffer(buf, |p, cap, lp, tp| {
            // SAFETY: every pointer is valid for the call, with the stated lengths.
            unsafe {
                match e {
                    Entity::Gate(n) => {
                        (self.feature_gate)(c, u, n.as_ptr(), n.len(), flags, token, p, cap, lp, tp)
                    }
                    Entity::Config(n) => (self.dynamic_config)(
                        c,
                        u,
                        n.as_ptr(),
                        n.len(),
                        flags,
                        token,
                        p,
                        cap,
                        lp,
                        tp,
                    ),
                    Entity::Experiment(n) => {
                        (self.experiment)(c, u, n.as_ptr(), n.len(), flags, token, p, cap, lp, tp)
                    }
                    Entity::Layer(n) => {
                        (self.layer)(c, u, n.as_ptr(), n.len(), flags, token, p, cap, lp, tp)
                    }
                    Entity::Param(l, q) => (self.layer_param)(
                        c,
                        u,
                        l.as_ptr(),
                        l.len(),
                        q.as_ptr(),
                        q.len(),
                        flags,
                        token,
                        p,
                        cap,
                        lp,
                        tp,
                    ),
                }
            }
        })
    }

    /// Open a layer handle (growing `buf` on BUFFER_TOO_SMALL): the status,
    /// the handle, the JSON and the echoed token.
    fn open(
        &self,
        c: u64,
        u: u64,
        name: &str,
        flags: u32,
        token: u64,
        buf: &mut Vec<u8>,
    ) -> (i32, u64, String, u64) {
        let mut layer = 0u64;
        let (st, text, token_out) = with_buffer(buf, |p, cap, lp, tp| {
            // SAFETY: every pointer is valid for the call, with the stated lengths.
            unsafe {
                (self.layer_open)(
                    c,
                    u,
                    name.as_ptr(),
                    name.len(),
                    flags,
                    token,
                    &mut layer,
                    p,
                    cap,
                    lp,
                    tp,
                )
            }
        });
        (st, layer, text, token_out)
    }

    /// Through a layer handle: the layer's JSON must be the expected one,
    /// logging `param` gives `param_status` (the status `get_param` gave),
    /// and the handle releases once. Returns whether all of that held.
    #[allow(clippy::too_many_arguments)]
    fn via_handle(
        &self,
        c: u64,
        u: u64,
        layer: &str,
        param: Option<(&str, i32)>,
        expected_json: Option<&str>,
        flags: u32,
        token: u64,
        buf: &mut Vec<u8>,
    ) -> bool {
        let (st, handle, json, token_out) = self.open(c, u, layer, flags, token, buf);
        if st != GATEHOUSE_OK || token_out != token {
            return false;
        }
        let mut ok = match expected_json {
            Some(x) => strip_token(&json, token).as_deref() == Some(x),
            None => true,
        };
        if let Some((p, want)) = param {
            // SAFETY: valid pointer and length for the call.
            ok &= unsafe { (self.layer_log_param)(handle, p.as_ptr(), p.len()) } == want;
        }
        // SAFETY: plain integer arguments.
        unsafe {
            ok &= (self.layer_release)(handle) == GATEHOUSE_OK;
            ok &= (self.layer_release)(handle) == GATEHOUSE_INVALID_HANDLE;
        }
        ok
    }

    fn check(
        &self,
        c: u64,
        u: u64,
        name: &str,
        flags: u32,
        token: u64,
    ) -> (i32, GatehouseGateResult) {
        let mut out = GatehouseGateResult::default();
        // SAFETY: valid pointers for the call.
        let st =
            unsafe { (self.check_gate)(c, u, name.as_ptr(), name.len(), flags, token, &mut out) };
        (st, out)
    }
}

/// Runs `call(buf, cap, len_out, token_out)`, growing `buf` while it
/// answers BUFFER_TOO_SMALL: the status and, on success, the UTF-8 output
/// and the echoed token.
fn with_buffer(
    buf: &mut Vec<u8>,
    mut call: impl FnMut(*mut u8, usize, *mut usize, *mut u64) -> i32,
) -> (i32, String, u64) {
    loop {
        let (mut len, mut token_out) = (0usize, 0u64);
        let st = call(buf.as_mut_ptr(), buf.len(), &mut len, &mut token_out);
        if st == GATEHOUSE_BUFFER_TOO_SMALL {
            assert!(len > buf.len(), "the needed length exceeds the capacity");
            buf.resize(len, 0);
            continue;
        }
        let text = if st == GATEHOUSE_OK {
            String::from_utf8(buf[..len].to_vec()).expect("UTF-8 JSON")
        } else {
            String::new()
        };
        return (st, text, token_out);
    }
}

struct Expected {
    status: i32,
    json: String,
    gate: Option<u8>,
}

#[test]
fn thirty_two_threads_get_their_own_results() {
    let path = cdylib_path();
    // SAFETY: loading our own library runs no foreign initialisers.
    let lib = unsafe { Library::new(&path) }.expect("load the cdylib");
    let api = Api::load(&lib);

    // The load-time contract a binding checks.
    let abi: AbiFn = sym(&lib, "gatehouse_abi_version");
    // SAFETY: no arguments.
    assert_eq!(unsafe { abi() }, GATEHOUSE_ABI_VERSION);
    let version: VersionFn = sym(&lib, "gatehouse_version");
    let (mut v, mut vlen) = ([0u8; 32], 0usize);
    // SAFETY: valid pointers for the call.
    assert_eq!(
        unsafe { version(v.as_mut_ptr(), v.len(), &mut vlen) },
        GATEHOUSE_OK
    );
    assert_eq!(&v[..vlen], env!("CARGO_PKG_VERSION").as_bytes());

    let dir = temp_dir("dlopen");
    let options = serde_json::json!({
        "specs_file": specs_path(),
        "sync_interval_ms": 0,
        "id_list_files": {"beta_testers": support::repo_root().join("examples/id_lists/beta_testers.txt")},
        "events": {"file": dir.join("events.ndjson"), "flush_interval_ms": 20},
    })
    .to_string();
    let client = api.new_handle(api.client_new, &options);
    let (mut err, mut err_len) = ([0u8; 512], 0usize);
    // SAFETY: valid pointers for the call.
    let st = unsafe { (api.initialize)(client, err.as_mut_ptr(), err.len(), &mut err_len) };
    assert_eq!(
        st,
        GATEHOUSE_OK,
        "{}",
        String::from_utf8_lossy(&err[..err_len.min(512)])
    );

    let user_json = users(48);
    let user_handles: Vec<u64> = user_json
        .iter()
        .map(|j| api.new_handle(api.user_new, j))
        .collect();
    let entities = entities();

    // Single-threaded answers first.
    let mut buf = vec![0u8; 16];
    let mut expected = Vec::new();
    for (ui, &u) in user_handles.iter().enumerate() {
        for (ei, e) in entities.iter().enumerate() {
            let token = (1u64 << 63) | ((ui as u64) << 16) | ei as u64;
            let (status, json, token_out) = api.json(
                client,
                u,
                e,
                GATEHOUSE_FLAG_DISABLE_EXPOSURE_LOGGING,
                token,
                &mut buf,
            );
            assert!(
                status == GATEHOUSE_OK
                    || (status == GATEHOUSE_NOT_FOUND && matches!(e, Entity::Param(..))),
                "{e:?}: {status}"
            );
            let json = if status == GATEHOUSE_OK {
                assert_eq!(token_out, token);
                strip_token(&json, token).expect("token in JSON")
            } else {
                json
            };
            let gate = match e {
                Entity::Gate(n) => {
                    let (st, r) =
                        api.check(client, u, n, GATEHOUSE_FLAG_DISABLE_EXPOSURE_LOGGING, token);
                    assert_eq!((st, r.token), (GATEHOUSE_OK, token));
                    Some(r.value)
                }
                _ => None,
            };
            expected.push(Expected { status, json, gate });
        }
    }

    const THREADS: u64 = 32;
    const ITERATIONS: u64 = 2000;
    let mismatches: u64 = std::thread::scope(|s| {
        let workers: Vec<_> = (0..THREADS)
            .map(|t| {
                let (api, entities, expected, users) = (api, &entities, &expected, &user_handles);
                s.spawn(move || {
                    let mut bad = 0u64;
                    let mut seed =
                        0x2545_F491_4F6C_DD1D_u64 ^ (t + 1).wrapping_mul(0x9E37_79B9_7F4A_7C15);
                    let mut buf = vec![0u8; 64];
                    for i in 0..ITERATIONS {
                        seed ^= seed << 13;
                        seed ^= seed >> 7;
                        seed ^= seed << 17;
                        let ui = (seed % users.len() as u64) as usize;
                        let ei = ((seed >> 24) % entities.len() as u64) as usize;
                        let token = ((t + 1) << 48) | (i << 8) | (seed & 0xFF);
                        let flags = if seed >> 40 & 1 == 1 {
                            GATEHOUSE_FLAG_DISABLE_EXPOSURE_LOGGING
                        } else {
                            0
                        };
                        let x = &expected[ui * entities.len() + ei];
                        if let (Entity::Gate(n), true) = (&entities[ei], token & 1 == 1) {
                            let (st, r) = api.check(client, users[ui], n, flags, token);
                            if st != GATEHOUSE_OK || r.token != token || Some(r.value) != x.gate {
                                bad += 1;
                            }
                            continue;
                        }
                        // Every other layer or parameter call goes through a layer handle.
                        let via = match &entities[ei] {
                            Entity::Layer(l) if token & 2 == 2 => Some((l, None)),
                            Entity::Param(l, q) if token & 2 == 2 => {
                                Some((l, Some((q.as_str(), x.status))))
                            }
                            _ => None,
                        };
                        if let Some((l, param)) = via {
                            let json = param.is_none().then_some(x.json.as_str());
                            if !api.via_handle(
                                client, users[ui], l, param, json, flags, token, &mut buf,
                            ) {
                                eprintln!("layer handle mismatch: thread {t} token {token}: {l}");
                                bad += 1;
                            }
                            continue;
                        }
                        let (st, json, token_out) =
                            api.json(client, users[ui], &entities[ei], flags, token, &mut buf);
                        let ok = st == x.status
                            && (st != GATEHOUSE_OK
                                || (token_out == token
                                    && strip_token(&json, token).as_deref()
                                        == Some(x.json.as_str())));
                        if !ok {
                            eprintln!("mismatch: thread {t} token {token}: {json}");
                            bad += 1;
                        }
                    }
                    bad
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().expect("worker")).sum()
    });
    assert_eq!(mismatches, 0, "results attributed to the wrong call");

    // SAFETY: valid pointers for the call.
    let st = unsafe { (api.shutdown)(client, 5000, ptr::null_mut(), 0, ptr::null_mut()) };
    assert_eq!(st, GATEHOUSE_OK);
    for u in user_handles {
        // SAFETY: plain integer argument.
        assert_eq!(unsafe { (api.user_release)(u) }, GATEHOUSE_OK);
    }
    // SAFETY: plain integer argument.
    assert_eq!(unsafe { (api.client_release)(client) }, GATEHOUSE_OK);
}
