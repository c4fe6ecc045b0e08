//! The C program `tests/c/concurrency.c`, compiled against the committed
//! header and the built cdylib: many pthreads with distinct users and
//! tokens, every result checked against the single-threaded answer. It runs
//! natively, under valgrind memcheck, and built with AddressSanitizer.

mod support;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use support::{cdylib_path, entities, in_ci, lib_dir, specs_path, temp_dir, users};

const THREADS: usize = 16;

/// `cc`, or `None` (with a loud message) when there is no C compiler.
fn compiler() -> Option<&'static str> {
    let found = ["cc", "gcc"].into_iter().find(|cc| {
        Command::new(cc)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    if found.is_none() {
        assert!(!in_ci(), "no C compiler (cc/gcc) in CI");
        eprintln!("SKIPPED: no C compiler (cc/gcc) on this machine");
    }
    found
}

/// Build the program into `dir`, with extra compiler flags.
fn build(cc: &str, dir: &Path, name: &str, extra: &[&str]) -> PathBuf {
    let crate_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    cdylib_path();
    let out = dir.join(name);
    let lib = lib_dir();
    let status = Command::new(cc)
        .args([
            "-std=c11", "-O1", "-g", "-Wall", "-Wextra", "-Werror", "-pthread",
        ])
        .args(extra)
        .arg("-I")
        .arg(crate_dir.join("include"))
        .arg(crate_dir.join("tests/c/concurrency.c"))
        .arg("-o")
        .arg(&out)
        .arg(format!("-L{}", lib.display()))
        .arg(format!("-Wl,-rpath,{}", lib.display()))
        .arg("-lgatehouse_ffi")
        .status()
        .expect("run the C compiler");
    assert!(status.success(), "compiling tests/c/concurrency.c failed");
    out
}

/// The program's arguments (inputs written to `dir`).
fn inputs(dir: &Path, n_users: usize, iterations: usize) -> Vec<String> {
    let entities: Vec<String> = entities().iter().map(|e| e.line()).collect();
    let entity_file = dir.join("entities.txt");
    std::fs::write(&entity_file, entities.join("\n") + "\n").expect("write entities");
    let user_file = dir.join("users.jsonl");
    std::fs::write(&user_file, users(n_users).join("\n") + "\n").expect("write users");
    vec![
        specs_path().display().to_string(),
        entity_file.display().to_string(),
        user_file.display().to_string(),
        dir.join("events.ndjson").display().to_string(),
        THREADS.to_string(),
        iterations.to_string(),
    ]
}

fn check(what: &str, output: &Output, dir: &Path) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "{what}: {}\nstdout:\n{stdout}\nstderr:\n{stderr}",
        output.status
    );
    assert!(stdout.contains(" 0 mismatches"), "{what}: {stdout}");
    let events = std::fs::metadata(dir.join("events.ndjson")).map_or(0, |m| m.len());
    assert!(
        events > 0,
        "{what}: exposures were logged to the events file"
    );
    eprintln!("{what}: {}", stdout.lines().last().unwrap_or_default());
}

#[test]
fn c_threads_match_single_threaded_answers() {
    let Some(cc) = compiler() else { return };
    let dir = temp_dir("c-native");
    let exe = build(cc, &dir, "concurrency", &[]);
    let output = Command::new(&exe)
        .args(inputs(&dir, 64, 4000))
        .output()
        .expect("run the C program");
    check("native", &output, &dir);
}

#[test]
fn c_threads_under_valgrind_memcheck() {
    let Some(cc) = compiler() else { return };
    if std::env::var_os("GATEHOUSE_FFI_SKIP_VALGRIND").is_some() {
        eprintln!("SKIPPED (loudly): GATEHOUSE_FFI_SKIP_VALGRIND is set: .ci/run could not install valgrind");
        return;
    }
    let found = Command::new("valgrind").arg("--version").output();
    if !found.is_ok_and(|o| o.status.success()) {
        assert!(!in_ci(), "valgrind is missing in CI (.ci/run installs it)");
        eprintln!("SKIPPED: valgrind is not installed (apt-get install -y valgrind)");
        return;
    }
    let dir = temp_dir("c-valgrind");
    let exe = build(cc, &dir, "concurrency", &[]);
    let output = Command::new("valgrind")
        .args([
            "--tool=memcheck",
            "--error-exitcode=1",
            "--leak-check=full",
            "--errors-for-leak-kinds=definite",
            "--show-leak-kinds=definite",
            "--fair-sched=yes",
        ])
        .arg(&exe)
        .args(inputs(&dir, 16, 100))
        .output()
        .expect("run valgrind");
    check("valgrind", &output, &dir);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        stderr.contains("ERROR SUMMARY: 0 errors"),
        "valgrind:\n{stderr}"
    );
}

#[test]
fn c_threads_under_address_sanitizer() {
    let Some(cc) = compiler() else { return };
    let dir = temp_dir("c-asan");
    let probe = dir.join("probe.c");
    std::fs::write(&probe, "int main(void){return 0;}\n").expect("write probe");
    let asan = Command::new(cc)
        .args(["-fsanitize=address", "-o"])
        .arg(dir.join("probe"))
        .arg(&probe)
        .status()
        .is_ok_and(|s| s.success());
    if !asan {
        assert!(
            !in_ci(),
            "the C compiler cannot build with -fsanitize=address in CI"
        );
        eprintln!("SKIPPED: {cc} cannot link -fsanitize=address (libasan missing)");
        return;
    }
    let exe = build(
        cc,
        &dir,
        "concurrency-asan",
        &["-fsanitize=address", "-fno-omit-frame-pointer"],
    );
    let output = Command::new(&exe)
        .args(inputs(&dir, 32, 1000))
        .env(
            "ASAN_OPTIONS",
            "detect_leaks=1:abort_on_error=0:exitcode=23",
        )
        .output()
        .expect("run the ASan program");
    check("asan", &output, &dir);
}
