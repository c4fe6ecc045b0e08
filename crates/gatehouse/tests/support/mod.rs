//! A loopback HTTP server for the integration tests, built on tiny_http.
//!
//! Use it from a test file with `mod support;`:
//!
//! ```ignore
//! let server = support::Server::start();
//! server.set("/v2/dcs/", support::Reply::json(r#"{"has_updates":false}"#));
//! // … point the code under test at server.url() …
//! let seen = server.requests();
//! assert_eq!(seen[0].header("statsig-api-key"), Some("secret-k"));
//! ```
//!
//! - Replies are chosen per request: by a handler closure when one is set
//!   ([`Server::set_handler`]), otherwise by the longest matching prefix of
//!   the request URL (path and query) among [`Server::set`] routes, and
//!   otherwise a 404.
//! - A [`Reply`] is a status, body and headers, optionally after a delay;
//!   or it closes the connection without answering, sends a truncated body,
//!   or sends raw bytes, each followed by closing the connection.
//! - Every request is recorded (method, URL with query, headers, body;
//!   gunzipped when sent with `Content-Encoding: gzip`) before it is
//!   answered, in arrival order.
//! - Delayed replies do not hold up other requests. Dropping the server
//!   stops it.

#![allow(dead_code)] // Each test file uses a different part of this module.

mod proxy;
mod reply;

pub use reply::{Action, Reply};

use flate2::read::GzDecoder;
use std::io::{Read, Write};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

/// A closure choosing the reply to each request.
pub type Handler = Arc<dyn Fn(&Recorded) -> Reply + Send + Sync>;

/// One request as the server received it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Recorded {
    /// `GET`, `POST`, …
    pub method: String,
    /// The request target: path and query, e.g. `/v2/dcs/k.json?sinceTime=5`.
    pub url: String,
    /// Headers in order, names as sent.
    pub headers: Vec<(String, String)>,
    /// The body, gunzipped when `Content-Encoding` is gzip (and valid).
    pub body: Vec<u8>,
}

impl Recorded {
    /// The URL without the query.
    pub fn path(&self) -> &str {
        self.url.split('?').next().unwrap_or("")
    }

    /// The raw query (after `?`), if any.
    pub fn query(&self) -> Option<&str> {
        self.url.split_once('?').map(|(_, q)| q)
    }

    /// The raw (still percent-encoded) value of query parameter `name`.
    pub fn query_param(&self, name: &str) -> Option<&str> {
        self.query()?
            .split('&')
            .filter_map(|pair| pair.split_once('='))
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }

    /// The first header called `name` (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The body as text (lossy).
    pub fn body_text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body parsed as JSON (panics when it is not JSON).
    pub fn body_json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).expect("request body is JSON")
    }
}

#[derive(Default)]
struct State {
    routes: Vec<(String, Reply)>,
    handler: Option<Handler>,
    requests: Vec<Recorded>,
}

struct Shared {
    state: Mutex<State>,
    arrived: Condvar,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

/// A running test server on 127.0.0.1.
pub struct Server {
    url: String,
    shared: Arc<Shared>,
    backend: Arc<tiny_http::Server>,
    proxy: Arc<Mutex<proxy::Proxy>>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    /// Starts a server on a free loopback port (panics if it cannot).
    pub fn start() -> Server {
        let backend = Arc::new(tiny_http::Server::http("127.0.0.1:0").expect("bind tiny_http"));
        let backend_addr = backend
            .server_addr()
            .to_ip()
            .expect("tiny_http listens on IP");
        let proxy = proxy::Proxy::start(backend_addr).expect("bind relay");
        let url = format!("http://{}", proxy.addr());
        let proxy = Arc::new(Mutex::new(proxy));
        let shared = Arc::new(Shared {
            state: Mutex::new(State::default()),
            arrived: Condvar::new(),
        });
        let thread = {
            let (backend, shared, proxy) = (backend.clone(), shared.clone(), proxy.clone());
            thread::spawn(move || serve(&backend, &shared, &proxy))
        };
        Server {
            url,
            shared,
            backend,
            proxy,
            thread: Some(thread),
        }
    }

    /// `http://127.0.0.1:<port>` (no trailing slash).
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// Answers requests whose URL (path and query) starts with `prefix`
    /// with `reply`, replacing any reply set for the same prefix. The
    /// longest matching prefix wins.
    pub fn set(&self, prefix: &str, reply: Reply) {
        let mut state = self.shared.lock();
        state.routes.retain(|(p, _)| p != prefix);
        state.routes.push((prefix.to_owned(), reply));
    }

    /// Lets `handler` choose every reply (routes are then not used).
    pub fn set_handler(&self, handler: Handler) {
        self.shared.lock().handler = Some(handler);
    }

    /// Goes back to routes.
    pub fn clear_handler(&self) {
        self.shared.lock().handler = None;
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().requests.clone()
    }

    /// The requests so far whose URL starts with `prefix`.
    pub fn requests_to(&self, prefix: &str) -> Vec<Recorded> {
        let state = self.shared.lock();
        let matching = state.requests.iter().filter(|r| r.url.starts_with(prefix));
        matching.cloned().collect()
    }

    /// Forgets the recorded requests.
    pub fn clear_requests(&self) {
        self.shared.lock().requests.clear();
    }

    /// Waits until at least `count` requests arrived (or `timeout` passed)
    /// and returns all requests so far.
    pub fn wait_for_requests(&self, count: usize, timeout: Duration) -> Vec<Recorded> {
        let deadline = Instant::now() + timeout;
        let mut state = self.shared.lock();
        while state.requests.len() < count {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            state = match self.shared.arrived.wait_timeout(state, left) {
                Ok((guard, _)) => guard,
                Err(poisoned) => poisoned.into_inner().0,
            };
        }
        state.requests.clone()
    }

    /// Stops the server and shuts its open connections. Idempotent.
    pub fn stop(&mut self) {
        let Some(thread) = self.thread.take() else {
            return;
        };
        self.backend.unblock();
        let _ = thread.join();
        match self.proxy.lock() {
            Ok(mut proxy) => proxy.stop(),
            Err(poisoned) => poisoned.into_inner().stop(),
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop();
    }
}

/// The accept loop: record, choose, answer (on a thread per request).
fn serve(backend: &tiny_http::Server, shared: &Arc<Shared>, proxy: &Arc<Mutex<proxy::Proxy>>) {
    for mut request in backend.incoming_requests() {
        let recorded = record(&mut request);
        let reply = {
            let mut state = shared.lock();
            state.requests.push(recorded.clone());
            shared.arrived.notify_all();
            choose(&state, &recorded)
        };
        let proxy = proxy.clone();
        thread::spawn(move || answer(request, reply, &proxy));
    }
}

fn record(request: &mut tiny_http::Request) -> Recorded {
    let headers: Vec<(String, String)> = request
        .headers()
        .iter()
        .map(|h| (h.field.as_str().to_string(), h.value.as_str().to_owned()))
        .collect();
    let mut body = Vec::new();
    let _ = request.as_reader().read_to_end(&mut body);
    let gzipped = headers
        .iter()
        .any(|(k, v)| k.eq_ignore_ascii_case("content-encoding") && v.contains("gzip"));
    if gzipped {
        let mut plain = Vec::new();
        if GzDecoder::new(&body[..]).read_to_end(&mut plain).is_ok() {
            body = plain;
        }
    }
    Recorded {
        method: request.method().as_str().to_owned(),
        url: request.url().to_owned(),
        headers,
        body,
    }
}

fn choose(state: &State, recorded: &Recorded) -> Reply {
    if let Some(handler) = &state.handler {
        return handler(recorded);
    }
    state
        .routes
        .iter()
        .filter(|(prefix, _)| recorded.url.starts_with(prefix.as_str()))
        .max_by_key(|(prefix, _)| prefix.len())
        .map(|(_, reply)| reply.clone())
        .unwrap_or_else(|| Reply::status(404).body(format!("no reply set for {}", recorded.url)))
}

fn answer(request: tiny_http::Request, reply: Reply, proxy: &Mutex<proxy::Proxy>) {
    if !reply.delay.is_zero() {
        thread::sleep(reply.delay);
    }
    let cut_bytes = match &reply.action {
        Action::Respond => {
            // The client may have gone (e.g. timed out): nothing to do then.
            let _ = request.respond(reply.to_tiny());
            return;
        }
        Action::Close => Vec::new(),
        Action::Truncate(keep) => reply.wire_bytes(Some(*keep)),
        Action::Raw(bytes) => bytes.clone(),
    };
    let peer = request.remote_addr().copied();
    // Take the writer so tiny_http does not answer 500 on drop.
    let mut writer = request.into_writer();
    let cut = peer.is_some_and(|peer| match proxy.lock() {
        Ok(proxy) => proxy.cut(peer, &cut_bytes),
        Err(poisoned) => poisoned.into_inner().cut(peer, &cut_bytes),
    });
    if !cut {
        // Not relayed (cannot happen in practice): write what we can.
        let _ = writer.write_all(&cut_bytes);
        let _ = writer.flush();
    }
}
