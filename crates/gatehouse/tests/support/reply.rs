//! What the test server answers.

use flate2::write::GzEncoder;
use flate2::Compression;
use std::io::Write;
use std::time::Duration;

/// How a reply is delivered.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Action {
    /// A normal HTTP response (status, headers, body).
    Respond,
    /// Close the connection without sending a byte.
    Close,
    /// Send the status line and headers (with the full `Content-Length`)
    /// and only the first `n` body bytes, then close the connection.
    Truncate(usize),
    /// Send these bytes verbatim (garbage status lines, broken headers,
    /// bad chunking, …), then close the connection.
    Raw(Vec<u8>),
}

/// A reply of the test server. Build with the constructors and chain the
/// modifiers: `Reply::json("{}").header("x-a", "1").delay(ms(50))`.
#[derive(Clone, Debug)]
pub struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Body bytes (not sent for 204/304).
    pub body: Vec<u8>,
    /// Extra headers (`Content-Length` is added by the server).
    pub headers: Vec<(String, String)>,
    /// Wait this long before answering.
    pub delay: Duration,
    /// How the reply is delivered.
    pub action: Action,
}

impl Reply {
    /// An empty reply with this status.
    pub fn status(status: u16) -> Reply {
        Reply {
            status,
            body: Vec::new(),
            headers: Vec::new(),
            delay: Duration::ZERO,
            action: Action::Respond,
        }
    }

    /// 200 with this body.
    pub fn ok(body: impl Into<Vec<u8>>) -> Reply {
        Reply::status(200).body(body)
    }

    /// 200 with this JSON text and `Content-Type: application/json`.
    pub fn json(text: &str) -> Reply {
        Reply::ok(text).header("Content-Type", "application/json")
    }

    /// Closes the connection without answering.
    pub fn close() -> Reply {
        Reply {
            action: Action::Close,
            ..Reply::status(0)
        }
    }

    /// Sends `bytes` verbatim and closes the connection.
    pub fn raw(bytes: impl Into<Vec<u8>>) -> Reply {
        Reply {
            action: Action::Raw(bytes.into()),
            ..Reply::status(0)
        }
    }

    /// Replaces the body.
    pub fn body(mut self, body: impl Into<Vec<u8>>) -> Reply {
        self.body = body.into();
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_owned(), value.to_owned()));
        self
    }

    /// Answers only after `delay`.
    pub fn delay(mut self, delay: Duration) -> Reply {
        self.delay = delay;
        self
    }

    /// Gzips the body and adds `Content-Encoding: gzip`.
    pub fn gzip(mut self) -> Reply {
        let mut encoder = GzEncoder::new(Vec::new(), Compression::default());
        let compressed = encoder
            .write_all(&self.body)
            .and_then(|()| encoder.finish());
        self.body = compressed.expect("gzip into memory");
        self.header("Content-Encoding", "gzip")
    }

    /// Sends only the first `keep` body bytes, then closes the connection
    /// (the headers still announce the full length).
    pub fn truncate(mut self, keep: usize) -> Reply {
        self.action = Action::Truncate(keep);
        self
    }

    /// The tiny_http response of an [`Action::Respond`] reply. Headers that
    /// tiny_http rejects are left out (use [`Reply::raw`] for those).
    pub(super) fn to_tiny(&self) -> tiny_http::Response<std::io::Cursor<Vec<u8>>> {
        let mut response =
            tiny_http::Response::from_data(self.body.clone()).with_status_code(self.status);
        for (name, value) in &self.headers {
            if let Ok(header) = tiny_http::Header::from_bytes(name.as_bytes(), value.as_bytes()) {
                response.add_header(header);
            }
        }
        response
    }

    /// The reply as HTTP/1.1 bytes with `Content-Length` of the full body
    /// and only the first `keep` body bytes (all when `None`).
    pub(super) fn wire_bytes(&self, keep: Option<usize>) -> Vec<u8> {
        let mut out = format!("HTTP/1.1 {} X\r\n", self.status).into_bytes();
        for (name, value) in &self.headers {
            out.extend_from_slice(format!("{name}: {value}\r\n").as_bytes());
        }
        out.extend_from_slice(format!("Content-Length: {}\r\n\r\n", self.body.len()).as_bytes());
        let keep = keep.unwrap_or(self.body.len()).min(self.body.len());
        out.extend_from_slice(&self.body[..keep]);
        out
    }
}
