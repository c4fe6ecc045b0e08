//! Shared HTTP plumbing for spec and ID-list requests: the agent, the
//! Statsig request headers, bounded body reads, status and transport error
//! mapping, and SDK-key redaction.
//!
//! Every error built here goes through [`redact`], so neither a URL nor a
//! message (ureq's, or a server's echo of the request) carries the SDK key.

use crate::Error;
use std::io::Read;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Largest response body accepted, counted after decompression.
pub(crate) const MAX_BODY_BYTES: u64 = 256 * 1024 * 1024;

/// How much of an error response's body goes into the error message.
const SNIPPET_CHARS: usize = 200;

/// What replaces the SDK key in URLs and messages.
pub(crate) const REDACTED_KEY: &str = "<sdk-key>";

/// Builds the agent every source keeps: one connection pool, the overall
/// request timeout, no proxy from the environment, and no redirects — a
/// redirect would carry the SDK key header to wherever it points, so a 3xx
/// is an error that names its status.
pub(crate) fn agent(timeout: Duration) -> ureq::Agent {
    ureq::AgentBuilder::new()
        .timeout(timeout)
        .redirects(0)
        .build()
}

/// Replaces every occurrence of `sdk_key` (raw and fully percent-encoded)
/// in `text` with `<sdk-key>`. An empty key redacts nothing.
pub(crate) fn redact(text: &str, sdk_key: &str) -> String {
    if sdk_key.is_empty() {
        return text.to_owned();
    }
    let out = text.replace(sdk_key, REDACTED_KEY);
    let encoded = percent_encode(sdk_key);
    if encoded == sdk_key {
        out
    } else {
        out.replace(&encoded, REDACTED_KEY)
    }
}

/// Percent-encodes every byte that is not an ASCII letter or digit.
pub(crate) fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() {
            out.push(char::from(byte));
        } else {
            out.push_str(&format!("%{byte:02X}"));
        }
    }
    out
}

/// Milliseconds since the Unix epoch (0 if the clock is before it).
fn now_ms() -> u128 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

/// One request's context: the agent, the key (for the headers and for
/// redaction), the timeout and the URL as shown in errors (already redacted).
pub(crate) struct Call<'a> {
    /// The source's agent.
    pub agent: &'a ureq::Agent,
    /// The SDK key, sent in `STATSIG-API-KEY` and redacted from errors.
    pub sdk_key: &'a str,
    /// The overall deadline of the request, body included.
    pub timeout: Duration,
    /// The URL errors name (never holding the key).
    pub shown_url: String,
}

impl Call<'_> {
    /// A request with the Statsig headers every gatehouse request carries.
    pub(crate) fn request(&self, method: &str, url: &str) -> ureq::Request {
        self.agent
            .request(method, url)
            .timeout(self.timeout)
            .set("STATSIG-API-KEY", self.sdk_key)
            .set("STATSIG-SDK-TYPE", "gatehouse-rust")
            .set("STATSIG-SDK-VERSION", env!("CARGO_PKG_VERSION"))
            .set("STATSIG-CLIENT-TIME", &now_ms().to_string())
    }

    /// Sends `request` (with `body` when given). Any response below 400
    /// comes back for the caller to classify; 4xx/5xx and transport
    /// failures become [`Error::Http`].
    pub(crate) fn send(
        &self,
        request: ureq::Request,
        body: Option<&str>,
    ) -> Result<ureq::Response, Error> {
        let result = match body {
            Some(text) => request.send_string(text),
            None => request.call(),
        };
        match result {
            Ok(response) => Ok(response),
            Err(ureq::Error::Status(_, response)) => Err(self.status_error(response)),
            Err(ureq::Error::Transport(transport)) => {
                let mut message = transport.kind().to_string();
                if let Some(detail) = transport.message() {
                    message.push_str(": ");
                    message.push_str(detail);
                }
                if let Some(source) = std::error::Error::source(&transport) {
                    message.push_str(": ");
                    message.push_str(&source.to_string());
                }
                Err(self.error(0, &message))
            }
        }
    }

    /// The error for a response whose status is not accepted; the message
    /// holds the start of the body.
    pub(crate) fn status_error(&self, response: ureq::Response) -> Error {
        let status = response.status();
        let mut head = Vec::new();
        // A failed or short read only shortens the snippet.
        let _ = response
            .into_reader()
            .take(4 * SNIPPET_CHARS as u64)
            .read_to_end(&mut head);
        let text = String::from_utf8_lossy(&head);
        let snippet: String = text.chars().take(SNIPPET_CHARS).collect();
        let message = if snippet.trim().is_empty() {
            "(empty body)".to_owned()
        } else {
            snippet
        };
        self.error(status, &message)
    }

    /// Reads the whole body (at most [`MAX_BODY_BYTES`] after
    /// decompression) as UTF-8 text.
    pub(crate) fn read_text(&self, response: ureq::Response) -> Result<String, Error> {
        let status = response.status();
        let bytes = self.read_body(response)?;
        String::from_utf8(bytes).map_err(|e| {
            self.error(
                status,
                &format!(
                    "response body is not valid UTF-8 (at byte {})",
                    e.utf8_error().valid_up_to()
                ),
            )
        })
    }

    /// Reads the whole body, at most [`MAX_BODY_BYTES`] after decompression.
    fn read_body(&self, response: ureq::Response) -> Result<Vec<u8>, Error> {
        let status = response.status();
        let too_large = || {
            self.error(
                status,
                &format!("response body larger than {MAX_BODY_BYTES} bytes"),
            )
        };
        let declared = response
            .header("content-length")
            .and_then(|v| v.trim().parse::<u64>().ok());
        if declared.is_some_and(|len| len > MAX_BODY_BYTES) {
            return Err(too_large());
        }
        let mut body = Vec::new();
        response
            .into_reader()
            .take(MAX_BODY_BYTES + 1)
            .read_to_end(&mut body)
            .map_err(|e| self.error(0, &format!("reading the HTTP {status} response body: {e}")))?;
        if body.len() as u64 > MAX_BODY_BYTES {
            return Err(too_large());
        }
        Ok(body)
    }

    /// An [`Error::Http`] for this call, message redacted.
    pub(crate) fn error(&self, status: u16, message: &str) -> Error {
        Error::Http {
            url: self.shown_url.clone(),
            status,
            message: redact(message, self.sdk_key),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_every_non_alphanumeric_byte() {
        assert_eq!(percent_encode("aZ9-_.~ /é"), "aZ9%2D%5F%2E%7E%20%2F%C3%A9");
    }

    #[test]
    fn redacts_raw_and_encoded_keys() {
        let text = "x/secret-k.json y secret%2Dk z";
        assert_eq!(redact(text, "secret-k"), "x/<sdk-key>.json y <sdk-key> z");
        assert_eq!(redact(text, ""), text);
    }
}
