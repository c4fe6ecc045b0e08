//! Locating the reference package (`statsig-rust-0.24.0`) in the local cargo registry.
//!
//! Cargo unpacks every registry dependency under `$CARGO_HOME/registry/src/<index>/`; the
//! reference package ships its test fixtures (`tests/data/`), an ID list and the country table
//! (`resources/ip_supalite.table`) that gatehouse is given in differential runs.

use std::path::{Path, PathBuf};

/// The directory name of the reference package in the registry source cache.
pub const REFERENCE_PACKAGE: &str = "statsig-rust-0.24.0";

/// The first `…/registry/src/*/statsig-rust-0.24.0` directory found under `$CARGO_HOME`, then
/// `$HOME/.cargo`.
pub fn reference_package_dir() -> Result<PathBuf, String> {
    let mut homes = Vec::new();
    if let Some(cargo_home) = std::env::var_os("CARGO_HOME") {
        homes.push(PathBuf::from(cargo_home));
    }
    if let Some(home) = std::env::var_os("HOME") {
        homes.push(Path::new(&home).join(".cargo"));
    }
    for home in &homes {
        let src = home.join("registry").join("src");
        let Ok(indexes) = std::fs::read_dir(&src) else {
            continue;
        };
        let mut candidates: Vec<PathBuf> = indexes
            .filter_map(Result::ok)
            .map(|entry| entry.path().join(REFERENCE_PACKAGE))
            .filter(|dir| dir.join("src").join("lib.rs").is_file())
            .collect();
        candidates.sort();
        if let Some(dir) = candidates.into_iter().next() {
            return Ok(dir);
        }
    }
    Err(format!(
        "{REFERENCE_PACKAGE} not found under {:?}/registry/src/*/ (run `cargo fetch` first)",
        homes
    ))
}

/// `tests/data/` of the reference package.
pub fn reference_data_dir() -> Result<PathBuf, String> {
    Ok(reference_package_dir()?.join("tests").join("data"))
}

/// Reads a file of the reference package's `tests/data/` as text.
pub fn read_data_file(name: &str) -> Result<String, String> {
    let path = reference_data_dir()?.join(name);
    std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))
}

/// The bytes of the reference's bundled country table (`resources/ip_supalite.table`).
pub fn country_table() -> Result<Vec<u8>, String> {
    let path = reference_package_dir()?
        .join("resources")
        .join("ip_supalite.table");
    std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))
}
