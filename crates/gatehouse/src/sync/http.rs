//! dcs-v2 download over HTTP(S) (dcs-semantics §1.1).
//!
//! Only the JSON variant is requested: `supports_proto` is never sent, so
//! the server answers with the dcs-v2 JSON shape.

use super::transport::{self, Call, REDACTED_KEY};
use crate::Error;
use std::fmt;
use std::time::Duration;

/// What a fetch produced.
#[derive(Debug)]
pub enum SpecFetch {
    /// A response body to parse (JSON text).
    Body(String),
    /// The server said nothing changed (HTTP 204/304).
    NotModified,
}

/// Downloads dcs-v2 specs from `{url}/{sdk_key}.json` with one blocking GET
/// per [`fetch`](HttpSpecSource::fetch).
///
/// The source keeps one `ureq` agent (a connection pool), so repeated syncs
/// reuse connections. Errors never contain the SDK key: the key's path
/// segment shows as `<sdk-key>`.
#[derive(Clone)]
pub struct HttpSpecSource {
    /// The dcs-v2 base URL (a trailing `/` is ignored).
    pub url: String,
    /// The server SDK key: the last path segment and the `STATSIG-API-KEY` header.
    pub sdk_key: String,
    /// The overall deadline of one fetch, connection and body included.
    pub timeout: Duration,
    agent: ureq::Agent,
}

impl HttpSpecSource {
    /// `url` is the dcs-v2 base; `/{sdk_key}.json` is appended.
    pub fn new(url: &str, sdk_key: &str, timeout: Duration) -> HttpSpecSource {
        HttpSpecSource {
            url: url.to_owned(),
            sdk_key: sdk_key.to_owned(),
            timeout,
            agent: transport::agent(timeout),
        }
    }

    /// The full request URL for a sync: `{url}/{sdk_key}.json`, with
    /// `sinceTime=<since_time>` when `since_time > 0` and
    /// `checksum=<checksum>` (every non-alphanumeric byte percent-encoded)
    /// when the checksum is known and non-empty.
    pub fn request_url(&self, since_time: u64, checksum: Option<&str>) -> String {
        self.url_with_key(&self.sdk_key, since_time, checksum)
    }

    /// [`request_url`](Self::request_url) with the key shown as `<sdk-key>`:
    /// the URL that errors name.
    pub fn redacted_url(&self, since_time: u64, checksum: Option<&str>) -> String {
        self.url_with_key(REDACTED_KEY, since_time, checksum)
    }

    fn url_with_key(&self, key: &str, since_time: u64, checksum: Option<&str>) -> String {
        // A query in the base URL stays a query: the key goes on the path.
        let (path, query) = match self.url.split_once('?') {
            Some((p, q)) => (p, Some(q)),
            None => (self.url.as_str(), None),
        };
        let base = path.strip_suffix('/').unwrap_or(path);
        let mut url = format!("{base}/{key}.json");
        let mut separator = '?';
        if let Some(q) = query.filter(|q| !q.is_empty()) {
            url.push('?');
            url.push_str(q);
            separator = '&';
        }
        if since_time > 0 {
            url.push(separator);
            url.push_str(&format!("sinceTime={since_time}"));
            separator = '&';
        }
        if let Some(sum) = checksum.filter(|s| !s.is_empty()) {
            url.push(separator);
            url.push_str("checksum=");
            url.push_str(&transport::percent_encode(sum));
        }
        url
    }

    /// One GET of [`request_url`](Self::request_url).
    ///
    /// - 2xx (except 204) → [`SpecFetch::Body`] with the (gunzipped) body;
    ///   a body over 256 MiB or not valid UTF-8 is an [`Error::Http`].
    /// - 204 or 304 → [`SpecFetch::NotModified`].
    /// - any other status → [`Error::Http`] with that status and the first
    ///   200 characters of the body.
    /// - no response (connection failure, timeout, malformed response) →
    ///   [`Error::Http`] with status 0.
    ///
    /// Never panics, whatever the server sends.
    pub fn fetch(&self, since_time: u64, checksum: Option<&str>) -> Result<SpecFetch, Error> {
        let call = Call {
            agent: &self.agent,
            sdk_key: &self.sdk_key,
            timeout: self.timeout,
            shown_url: self.redacted_url(since_time, checksum),
        };
        let request = call
            .request("GET", &self.request_url(since_time, checksum))
            .set("accept-encoding", "gzip");
        let response = call.send(request, None)?;
        match response.status() {
            204 | 304 => Ok(SpecFetch::NotModified),
            200..=299 => call.read_text(response).map(SpecFetch::Body),
            _ => Err(call.status_error(response)),
        }
    }
}

/// Shows the key as `<sdk-key>`.
impl fmt::Debug for HttpSpecSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HttpSpecSource")
            .field("url", &self.url)
            .field("sdk_key", &REDACTED_KEY)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn source(url: &str) -> HttpSpecSource {
        HttpSpecSource::new(url, "secret-k", Duration::from_secs(1))
    }

    #[test]
    fn url_shapes() {
        let s = source("https://h/v2/download_config_specs/");
        assert_eq!(
            s.request_url(0, None),
            "https://h/v2/download_config_specs/secret-k.json"
        );
        assert_eq!(s.request_url(0, Some("")), s.request_url(0, None));
        assert_eq!(
            s.request_url(12, Some("a+b/c=")),
            "https://h/v2/download_config_specs/secret-k.json?sinceTime=12&checksum=a%2Bb%2Fc%3D"
        );
        assert_eq!(
            source("http://h/x").request_url(0, Some("9")),
            "http://h/x/secret-k.json?checksum=9"
        );
        assert_eq!(
            s.redacted_url(5, None),
            "https://h/v2/download_config_specs/<sdk-key>.json?sinceTime=5"
        );
        assert!(!format!("{s:?}").contains("secret-k"));
    }
}
