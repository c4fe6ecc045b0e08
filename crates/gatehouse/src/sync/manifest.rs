//! The ID-list manifest (dcs-semantics §8) and the per-list sync decision
//! of statsig-rust 0.24.0 (delta D9).

use serde_json::Value;

/// One manifest entry: `{ "name", "url", "fileID"?, "size", "creationTime" }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ManifestEntry {
    /// Where the list file is.
    pub url: String,
    /// The file's id; a new id means a new file (absent = `None`).
    pub file_id: Option<String>,
    /// The file's size in bytes.
    pub size: u64,
    /// When the file was created (ms); the server also moves it on appends.
    pub creation_time: i64,
}

/// Parses a manifest: an object of list name → entry, sorted by name.
/// `name`/`key` inside an entry are not needed and not checked; `url`,
/// `size` and `creationTime` are required, `fileID` is a string or absent
/// or null. Any fault rejects the whole manifest (as the reference's serde
/// parse does), with the JSON path in the message.
pub(crate) fn parse_manifest(text: &str) -> Result<Vec<(String, ManifestEntry)>, String> {
    let root: Value =
        serde_json::from_str(text).map_err(|e| format!("manifest is not JSON: {e}"))?;
    let Value::Object(map) = root else {
        return Err("manifest is not a JSON object".to_owned());
    };
    let mut entries = Vec::with_capacity(map.len());
    for (name, entry) in &map {
        let path = format!("$[{}]", Value::String(name.clone()));
        let field = |key: &str| entry.get(key).filter(|v| !v.is_null());
        let bad = |key: &str, want: &str| format!("{path}.{key}: expected {want}");
        if !entry.is_object() {
            return Err(format!("{path}: expected an object"));
        }
        let url = field("url")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("url", "a string"))?;
        let file_id = match field("fileID") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => return Err(bad("fileID", "a string")),
        };
        let size = field("size")
            .and_then(Value::as_u64)
            .ok_or_else(|| bad("size", "a non-negative integer"))?;
        let creation_time = field("creationTime")
            .and_then(Value::as_i64)
            .ok_or_else(|| bad("creationTime", "an integer"))?;
        entries.push((
            name.clone(),
            ManifestEntry {
                url: url.to_owned(),
                file_id,
                size,
                creation_time,
            },
        ));
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(entries)
}

/// What the local side knows of a list.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Local<'a> {
    /// The file id of the content held.
    pub file_id: Option<&'a str>,
    /// The creation time of the content held.
    pub creation_time: i64,
    /// Bytes of the file read so far.
    pub read_bytes: u64,
}

/// What to do with one manifest entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Plan {
    /// Download from `start`. `start == 0` replaces the content; a larger
    /// start appends the tail to the current content.
    Download {
        /// First byte to request.
        start: u64,
    },
    /// Replace the content with an empty list (a new or recreated empty file).
    Empty,
    /// Keep the content; take the entry's `creationTime` and `url`.
    Refresh,
    /// Keep everything: the entry is an older file from a stale manifest.
    Ignore,
}

/// The D9 decision for one list.
pub(crate) fn plan(entry: &ManifestEntry, local: Option<Local<'_>>) -> Plan {
    let Some(local) = local else {
        return if entry.size > 0 {
            Plan::Download { start: 0 }
        } else {
            Plan::Empty
        };
    };
    if entry.file_id.as_deref() != local.file_id {
        if entry.creation_time < local.creation_time {
            Plan::Ignore
        } else if entry.size > 0 {
            Plan::Download { start: 0 }
        } else {
            Plan::Empty
        }
    } else if entry.size > local.read_bytes {
        Plan::Download {
            start: local.read_bytes,
        }
    } else {
        Plan::Refresh
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(file_id: &str, size: u64, creation_time: i64) -> ManifestEntry {
        ManifestEntry {
            url: "u".into(),
            file_id: Some(file_id.into()),
            size,
            creation_time,
        }
    }

    fn local(file_id: &str, read_bytes: u64, creation_time: i64) -> Option<Local<'_>> {
        Some(Local {
            file_id: Some(file_id),
            creation_time,
            read_bytes,
        })
    }

    #[test]
    fn d9_decisions() {
        assert_eq!(plan(&entry("a", 9, 1), None), Plan::Download { start: 0 });
        assert_eq!(plan(&entry("a", 0, 1), None), Plan::Empty);
        assert_eq!(
            plan(&entry("b", 9, 2), local("a", 20, 1)),
            Plan::Download { start: 0 }
        );
        assert_eq!(
            plan(&entry("b", 9, 1), local("a", 20, 1)),
            Plan::Download { start: 0 }
        );
        assert_eq!(plan(&entry("b", 0, 2), local("a", 20, 1)), Plan::Empty);
        assert_eq!(plan(&entry("b", 30, 0), local("a", 20, 1)), Plan::Ignore);
        assert_eq!(
            plan(&entry("a", 30, 1), local("a", 20, 1)),
            Plan::Download { start: 20 }
        );
        assert_eq!(plan(&entry("a", 20, 5), local("a", 20, 1)), Plan::Refresh);
        assert_eq!(plan(&entry("a", 10, 5), local("a", 20, 1)), Plan::Refresh);
    }

    #[test]
    fn manifest_shapes() {
        let text = r#"{"b":{"name":"b","url":"u2","size":3,"creationTime":4},
                       "a":{"key":"a","url":"u1","fileID":"f","size":1,"creationTime":2}}"#;
        let parsed = parse_manifest(text).expect("valid manifest");
        assert_eq!(parsed[0].0, "a");
        assert_eq!(parsed[0].1, entry("f", 1, 2).with_url("u1"));
        assert_eq!(parsed[1].1.file_id, None);
        for bad in [
            "[]",
            "{",
            r#"{"a":1}"#,
            r#"{"a":{"size":1,"creationTime":2}}"#,
            r#"{"a":{"url":"u","size":-1,"creationTime":2}}"#,
            r#"{"a":{"url":"u","size":1,"creationTime":"2"}}"#,
            r#"{"a":{"url":"u","fileID":3,"size":1,"creationTime":2}}"#,
        ] {
            assert!(parse_manifest(bad).is_err(), "{bad}");
        }
        let err = parse_manifest(r#"{"x\"y":{"url":"u","creationTime":2}}"#).unwrap_err();
        assert_eq!(err, r#"$["x\"y"].size: expected a non-negative integer"#);
    }

    impl ManifestEntry {
        fn with_url(mut self, url: &str) -> ManifestEntry {
            self.url = url.into();
            self
        }
    }
}
