//! ID lists from local files (the `+id` / `-id` line format of §8).

use crate::Error;
use gatehouse_core::IdLists;
use std::path::PathBuf;

/// Reads ID-list files, each given as `(list name, path)`, into a set of
/// lists. A name given twice gets both files applied in order (the second
/// file's `-` lines remove from the first's). An unreadable or non-UTF-8
/// file is an [`Error::Io`] naming its path.
pub fn load_id_list_files(files: &[(String, PathBuf)]) -> Result<IdLists, Error> {
    let mut lists = IdLists::new();
    for (name, path) in files {
        let text = std::fs::read_to_string(path).map_err(|e| Error::Io {
            path: path.display().to_string(),
            message: e.to_string(),
        })?;
        lists.entry(name.clone()).or_default().apply(&text);
    }
    Ok(lists)
}
