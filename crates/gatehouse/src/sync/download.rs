//! Downloading one ID-list file, whole or from a byte offset (delta D9).

use super::manifest::ManifestEntry;
use super::transport::{redact, Call};
use crate::Error;
use std::time::Duration;

/// Tail downloads from URLs under this prefix ask for the range in the
/// query (`range=<start>-`), as the reference does; everything else uses
/// the `Range` header.
const STATSIG_CDN: &str = "https://api.statsigcdn.com";

/// A downloaded list body.
#[derive(Debug)]
pub(crate) struct Downloaded {
    /// The body text (checked to start with `+` or `-`).
    pub text: String,
    /// True when the body is the file from byte 0 (a full download, or a
    /// server that ignored the range and answered 200): the list restarts
    /// from this body. False: the body is the tail from the requested start.
    pub whole_file: bool,
}

/// Who is downloading: the agent, key and timeout of the sync.
pub(crate) struct Downloader<'a> {
    /// The sync's agent.
    pub agent: &'a ureq::Agent,
    /// The SDK key (headers; redacted from errors).
    pub sdk_key: &'a str,
    /// Deadline of one download.
    pub timeout: Duration,
}

impl Downloader<'_> {
    /// GETs list `name` from byte `start` of `entry.url`.
    pub(crate) fn download(
        &self,
        name: &str,
        entry: &ManifestEntry,
        start: u64,
    ) -> Result<Downloaded, Error> {
        let (url, in_query) = download_url(&entry.url, start);
        let call = Call {
            agent: self.agent,
            sdk_key: self.sdk_key,
            timeout: self.timeout,
            shown_url: redact(&url, self.sdk_key),
        };
        let mut request = call.request("GET", &url);
        if !in_query {
            request = request
                .set("Range", &format!("bytes={start}-"))
                .set("statsig-id-list-file-size", &entry.size.to_string());
        }
        let labelled = |e: Error| label(e, name);
        let response = call.send(request, None).map_err(labelled)?;
        let status = response.status();
        if !(200..=299).contains(&status) {
            return Err(labelled(call.status_error(response)));
        }
        let whole_file = status != 206 || start == 0;
        if status == 206 {
            let first = response
                .header("content-range")
                .and_then(content_range_start);
            if let Some(first) = first.filter(|&first| first != start) {
                return Err(labelled(call.error(
                    status,
                    &format!("asked for bytes from {start}, got a range from {first}"),
                )));
            }
        }
        let text = call.read_text(response).map_err(labelled)?;
        let first = text.trim_start().chars().next();
        if first != Some('+') && first != Some('-') {
            return Err(Error::Rejected {
                source: call.shown_url.clone(),
                message: format!("ID list `{name}`: the body must start with '+' or '-'"),
            });
        }
        Ok(Downloaded { text, whole_file })
    }
}

/// The URL to GET for bytes from `start`, and whether the range is in it
/// (tails from the Statsig CDN) rather than in a `Range` header.
fn download_url(url: &str, start: u64) -> (String, bool) {
    if start > 0 && url.starts_with(STATSIG_CDN) {
        let separator = if url.contains('?') { '&' } else { '?' };
        (format!("{url}{separator}range={start}-"), true)
    } else {
        (url.to_owned(), false)
    }
}

/// The first byte of a `Content-Range: bytes <first>-<last>/<total>` value.
fn content_range_start(value: &str) -> Option<u64> {
    let range = value.trim().strip_prefix("bytes")?.trim_start();
    range.split('-').next()?.trim().parse().ok()
}

/// Prefixes an HTTP error's message with the list name.
fn label(error: Error, name: &str) -> Error {
    match error {
        Error::Http {
            url,
            status,
            message,
        } => Error::Http {
            url,
            status,
            message: format!("ID list `{name}`: {message}"),
        },
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn range_in_query_only_for_cdn_tails() {
        let cdn = "https://api.statsigcdn.com/id_lists/x";
        assert_eq!(download_url(cdn, 0), (cdn.to_owned(), false));
        assert_eq!(download_url(cdn, 7), (format!("{cdn}?range=7-"), true));
        assert_eq!(
            download_url("https://api.statsigcdn.com/l?a=1", 7),
            ("https://api.statsigcdn.com/l?a=1&range=7-".to_owned(), true)
        );
        assert_eq!(
            download_url("http://h/l", 7),
            ("http://h/l".to_owned(), false)
        );
    }

    #[test]
    fn content_range() {
        assert_eq!(content_range_start("bytes 10-19/20"), Some(10));
        assert_eq!(content_range_start(" bytes  0-0/*"), Some(0));
        assert_eq!(content_range_start("bytes */20"), None);
        assert_eq!(content_range_start("items 1-2/3"), None);
    }
}
