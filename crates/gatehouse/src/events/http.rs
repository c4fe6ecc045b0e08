//! The HTTP sink: gzip-compressed POSTs in the reference's log_event shape.

use super::sink::Attempt;
use crate::Error;
use flate2::write::GzEncoder;
use flate2::Compression;
use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::io::Write;
use std::sync::OnceLock;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// `sdkType` and `STATSIG-SDK-TYPE`.
pub(super) const SDK_TYPE: &str = "gatehouse-rust";

/// `sdkVersion` and `STATSIG-SDK-VERSION`.
pub(super) const SDK_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Statuses the reference never retries.
const NOT_RETRYABLE: [u16; 6] = [400, 403, 405, 413, 429, 501];

/// Response bodies quoted in error messages are cut to this many bytes.
const QUOTE_MAX: usize = 200;

/// Stands for the SDK key in every message.
const KEY_SHOWN: &str = "<sdk-key>";

/// A POST endpoint with its agent (connection pool, timeout) built once.
///
/// Every error message it makes goes through [`Redactor`]: the server's
/// answer may echo the SDK key, and the URL may hold it.
pub(super) struct HttpSink {
    agent: ureq::Agent,
    url: String,
    /// `url` as shown in messages.
    shown_url: String,
    sdk_key: String,
    redactor: Redactor,
    timeout: Duration,
}

impl HttpSink {
    /// Checks the URL's scheme and builds the agent (no redirects: a POST
    /// must not turn into a GET).
    pub(super) fn new(url: &str, sdk_key: &str, timeout: Duration) -> Result<HttpSink, Error> {
        let redactor = Redactor::new(sdk_key);
        let shown_url = redactor.apply(url);
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(Error::Options {
                option: "sink.url",
                message: format!("`{shown_url}` is not an http:// or https:// URL"),
            });
        }
        let agent = ureq::AgentBuilder::new()
            .timeout(timeout)
            .redirects(0)
            .build();
        Ok(HttpSink {
            agent,
            url: url.to_string(),
            shown_url,
            sdk_key: sdk_key.to_string(),
            redactor,
            timeout,
        })
    }

    /// POSTs one batch. Success is a 2xx status whose body, when it is
    /// JSON, does not say `"success": false`.
    pub(super) fn deliver(&self, batch: &[String], at: &Attempt) -> Result<(), Error> {
        let body = gzip(body(batch, at.kind.as_str()).as_bytes())?;
        let timeout = at.time_left.map_or(self.timeout, |t| t.min(self.timeout));
        let request = self
            .agent
            .post(&self.url)
            .timeout(timeout)
            .set("Content-Type", "application/json")
            .set("Content-Encoding", "gzip")
            .set("STATSIG-API-KEY", &self.sdk_key)
            .set("STATSIG-SDK-TYPE", SDK_TYPE)
            .set("STATSIG-SDK-VERSION", SDK_VERSION)
            .set("STATSIG-SERVER-SESSION-ID", session_id())
            .set("STATSIG-CLIENT-TIME", &now_ms().to_string())
            .set("statsig-event-count", &batch.len().to_string())
            .set("statsig-retry-count", &at.retry.to_string());
        match request.send_bytes(&body) {
            Ok(response) => {
                let status = response.status();
                // A 2xx whose body cannot be read was still accepted.
                let text = response.into_string().unwrap_or_default();
                if !(200..300).contains(&status) {
                    return Err(self.failure(status, &text, true));
                }
                let refused = serde_json::from_str::<serde_json::Value>(&text)
                    .ok()
                    .and_then(|v| v.get("success").and_then(|s| s.as_bool()))
                    == Some(false);
                if refused {
                    return Err(self.failure(status, &text, true));
                }
                Ok(())
            }
            Err(ureq::Error::Status(status, response)) => {
                let text = response.into_string().unwrap_or_default();
                Err(self.failure(status, &text, !NOT_RETRYABLE.contains(&status)))
            }
            Err(ureq::Error::Transport(t)) => Err(Error::Sink {
                message: self.redactor.apply(&format!(
                    "POST {} failed: {}",
                    self.shown_url,
                    transport_detail(&t)
                )),
                retryable: true,
            }),
        }
    }

    /// An HTTP status failure quoting the start of the answer (redacted
    /// before it is cut, so that no part of a key survives the cut).
    fn failure(&self, status: u16, body: &str, retryable: bool) -> Error {
        let body = self.redactor.apply(body);
        let mut cut = body.len().min(QUOTE_MAX);
        while !body.is_char_boundary(cut) {
            cut -= 1;
        }
        let quote = body[..cut].trim();
        let message = if quote.is_empty() {
            format!("POST {} failed with HTTP {status}", self.shown_url)
        } else {
            format!("POST {} failed with HTTP {status}: {quote}", self.shown_url)
        };
        Error::Sink { message, retryable }
    }
}

/// What went wrong on the way, without the URL (the caller names it) and
/// without the repetitions of ureq's nested errors ("Network Error: Network
/// Error: …" when an I/O error wraps another ureq error).
fn transport_detail(t: &ureq::Transport) -> String {
    let mut text = t.kind().to_string();
    if let Some(m) = t.message() {
        text.push_str(": ");
        text.push_str(m);
    }
    if let Some(source) = std::error::Error::source(t) {
        text.push_str(": ");
        text.push_str(&source.to_string());
    }
    let url = t.url().map(|u| u.to_string());
    let mut parts: Vec<&str> = Vec::new();
    for part in text.split(": ") {
        if parts.last() != Some(&part) && Some(part) != url.as_deref() {
            parts.push(part);
        }
    }
    parts.join(": ")
}

/// Replaces the SDK key in a text: as is, percent-encoded (upper- and
/// lowercase hex, as in a URL) and JSON-escaped (as a server may echo it).
struct Redactor {
    forms: Vec<String>,
}

impl Redactor {
    fn new(sdk_key: &str) -> Redactor {
        let mut forms = Vec::new();
        if !sdk_key.is_empty() {
            let upper = percent_encode(sdk_key);
            let json = serde_json::to_string(sdk_key).unwrap_or_default();
            let json = json.trim_matches('"').to_string();
            for form in [sdk_key.to_string(), upper.to_ascii_lowercase(), upper, json] {
                if !form.is_empty() && !forms.contains(&form) {
                    forms.push(form);
                }
            }
            // Longest first, so that a form containing another goes whole.
            forms.sort_by_key(|f| std::cmp::Reverse(f.len()));
        }
        Redactor { forms }
    }

    fn apply(&self, text: &str) -> String {
        let mut text = text.to_string();
        for form in &self.forms {
            if text.contains(form.as_str()) {
                text = text.replace(form.as_str(), KEY_SHOWN);
            }
        }
        text
    }
}

/// Percent-encodes every byte but the URL-unreserved ones (RFC 3986).
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// `{"events":[...],"statsigMetadata":{...}}` around the opaque event texts.
pub(super) fn body(batch: &[String], flush_type: &str) -> String {
    let metadata = serde_json::json!({
        "sdkType": SDK_TYPE,
        "sdkVersion": SDK_VERSION,
        "sessionID": session_id(),
        "flushType": flush_type,
    });
    let mut s = String::with_capacity(batch.iter().map(|e| e.len() + 1).sum::<usize>() + 160);
    s.push_str("{\"events\":[");
    for (i, event) in batch.iter().enumerate() {
        if i > 0 {
            s.push(',');
        }
        s.push_str(event);
    }
    s.push_str("],\"statsigMetadata\":");
    s.push_str(&metadata.to_string());
    s.push('}');
    s
}

fn gzip(data: &[u8]) -> Result<Vec<u8>, Error> {
    let mut encoder = GzEncoder::new(Vec::with_capacity(data.len() / 4), Compression::best());
    encoder
        .write_all(data)
        .and_then(|()| encoder.finish())
        .map_err(|e| Error::Sink {
            message: format!("gzip: {e}"),
            retryable: false,
        })
}

fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis())
}

/// One random id per process, shaped like a UUID v4
/// (`xxxxxxxx-xxxx-4xxx-yxxx-xxxxxxxxxxxx`). The randomness is std's
/// per-process random hash keys, mixed with the time and the process id.
pub(super) fn session_id() -> &'static str {
    static ID: OnceLock<String> = OnceLock::new();
    ID.get_or_init(|| {
        let mut bytes = [0u8; 16];
        for (i, half) in bytes.chunks_mut(8).enumerate() {
            let mut h = RandomState::new().build_hasher();
            h.write_usize(i);
            h.write_u128(
                SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_nanos()),
            );
            h.write_u32(std::process::id());
            half.copy_from_slice(&h.finish().to_le_bytes());
        }
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        format!(
            "{}-{}-{}-{}-{}",
            &hex[0..8],
            &hex[8..12],
            &hex[12..16],
            &hex[16..20],
            &hex[20..32]
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn session_id_is_uuid_v4_shaped_and_stable() {
        let id = session_id();
        let parts: Vec<_> = id.split('-').map(str::len).collect();
        assert_eq!(parts, [8, 4, 4, 4, 12], "{id}");
        assert_eq!(&id[14..15], "4");
        assert!("89ab".contains(&id[19..20]), "{id}");
        assert!(id.chars().all(|c| c == '-' || c.is_ascii_hexdigit()));
        assert_eq!(session_id(), id);
    }

    #[test]
    fn redactor_replaces_every_form_of_the_key() {
        let r = Redactor::new("secret-a+b/c=\"d");
        let text = r.apply(
            "k=secret-a%2Bb%2Fc%3D%22d, k=secret-a%2bb%2fc%3d%22d, \
             {\"error\":\"bad key secret-a+b/c=\\\"d\"}, raw secret-a+b/c=\"d",
        );
        assert_eq!(
            text,
            "k=<sdk-key>, k=<sdk-key>, {\"error\":\"bad key <sdk-key>\"}, raw <sdk-key>"
        );
        assert_eq!(
            Redactor::new("").apply("nothing to hide"),
            "nothing to hide"
        );
        assert_eq!(percent_encode("aZ09-._~ é"), "aZ09-._~%20%C3%A9");
    }

    #[test]
    fn a_key_cut_by_the_quote_limit_is_still_redacted() {
        let key = "secret-0123456789";
        let sink =
            HttpSink::new("http://127.0.0.1:9/x", key, Duration::from_secs(1)).expect("sink");
        for at in QUOTE_MAX - key.len()..QUOTE_MAX + 1 {
            let body = format!("{}{key} and more", "x".repeat(at));
            let Error::Sink { message, .. } = sink.failure(404, &body, true) else {
                unreachable!()
            };
            assert!(!message.contains("secret-0"), "{message}");
        }
    }

    #[test]
    fn body_wraps_events_and_metadata() {
        let b = body(&["{\"a\":1}".into(), "{\"b\":2}".into()], "manual");
        let v: serde_json::Value = serde_json::from_str(&b).expect("body is JSON");
        assert_eq!(v["events"], serde_json::json!([{"a":1},{"b":2}]));
        assert_eq!(v["statsigMetadata"]["sdkType"], "gatehouse-rust");
        assert_eq!(v["statsigMetadata"]["flushType"], "manual");
        assert_eq!(v["statsigMetadata"]["sessionID"], session_id());
    }
}
