//! The event pipeline end to end: real threads, a real loopback HTTP
//! server (tiny_http), files and callbacks.

use flate2::read::GzDecoder;
use gatehouse::events::{EventLogger, EventOptions, EventSink};
use gatehouse::{CounterSnapshot, Counters, Error};
use serde_json::Value;
use std::io::Read;
use std::net::{SocketAddr, TcpListener};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, Weak};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Polls `cond` every 5 ms for up to `timeout`.
fn wait_until(timeout: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let end = Instant::now() + timeout;
    while Instant::now() < end {
        if cond() {
            return true;
        }
        thread::sleep(ms(5));
    }
    cond()
}

fn event(seq: usize) -> String {
    format!(r#"{{"eventName":"statsig::gate_exposure","metadata":{{"gate":"g"}},"seq":{seq}}}"#)
}

fn seq_of(v: &Value) -> usize {
    v["seq"].as_u64().expect("event has a seq") as usize
}

// ---------------------------------------------------------------- server

/// One request as the server got it.
#[derive(Clone, Debug)]
struct Req {
    url: String,
    method: String,
    headers: Vec<(String, String)>,
    /// The gunzipped body, parsed.
    body: Value,
    /// The status the server answered.
    status: u16,
}

impl Req {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    fn seqs(&self) -> Vec<usize> {
        self.body["events"]
            .as_array()
            .expect("events array")
            .iter()
            .map(seq_of)
            .collect()
    }

    fn flush_type(&self) -> &str {
        self.body["statsigMetadata"]["flushType"]
            .as_str()
            .unwrap_or("")
    }
}

/// Chooses (status, body) for the n-th request (0-based).
type Policy = Arc<dyn Fn(usize) -> (u16, String) + Send + Sync>;

fn ok_policy() -> Policy {
    Arc::new(|_| (200, r#"{"success":true}"#.to_string()))
}

struct Server {
    addr: SocketAddr,
    log: Arc<Mutex<Vec<Req>>>,
    stop: Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Server {
    fn start(policy: Policy) -> Server {
        Server::start_on("127.0.0.1:0".parse().expect("addr"), policy)
    }

    fn start_on(addr: SocketAddr, policy: Policy) -> Server {
        let http = tiny_http::Server::http(addr).expect("bind test server");
        let addr = http.server_addr().to_ip().expect("ip address");
        let log: Arc<Mutex<Vec<Req>>> = Arc::default();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = {
            let (log, stop) = (log.clone(), stop.clone());
            thread::spawn(move || {
                while !stop.load(Ordering::SeqCst) {
                    let Ok(Some(mut rq)) = http.recv_timeout(ms(10)) else {
                        continue;
                    };
                    let mut raw = Vec::new();
                    rq.as_reader().read_to_end(&mut raw).expect("read body");
                    let headers: Vec<(String, String)> = rq
                        .headers()
                        .iter()
                        .map(|h| (h.field.to_string(), h.value.to_string()))
                        .collect();
                    let gz = headers
                        .iter()
                        .any(|(k, v)| k.eq_ignore_ascii_case("content-encoding") && v == "gzip");
                    let text = if gz {
                        let mut s = String::new();
                        GzDecoder::new(&raw[..])
                            .read_to_string(&mut s)
                            .expect("gunzip body");
                        s
                    } else {
                        String::from_utf8_lossy(&raw).into_owned()
                    };
                    let n = lock(&log).len();
                    let (status, reply) = policy(n);
                    lock(&log).push(Req {
                        url: rq.url().to_string(),
                        method: rq.method().to_string(),
                        headers,
                        body: serde_json::from_str(&text).unwrap_or(Value::Null),
                        status,
                    });
                    let _ = rq
                        .respond(tiny_http::Response::from_string(reply).with_status_code(status));
                }
            })
        };
        Server {
            addr,
            log,
            stop,
            thread: Some(thread),
        }
    }

    fn url(&self) -> String {
        format!("http://{}/v1/log_event?k=1", self.addr)
    }

    fn requests(&self) -> Vec<Req> {
        lock(&self.log).clone()
    }

    fn count(&self) -> usize {
        lock(&self.log).len()
    }

    /// Events of the requests answered 200, in arrival order.
    fn delivered(&self) -> Vec<usize> {
        self.requests()
            .iter()
            .filter(|r| r.status == 200)
            .flat_map(Req::seqs)
            .collect()
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

// ---------------------------------------------------------------- setup

fn fast(sink: EventSink) -> EventOptions {
    let mut o = EventOptions::new(sink);
    o.batch_size = 10;
    o.flush_interval = ms(20);
    o.max_queue = 10_000;
    o.max_retries = 100;
    o.retry_backoff = ms(10);
    o.max_backoff = ms(40);
    o.request_timeout = ms(2_000);
    o
}

fn http(server_url: String) -> EventSink {
    EventSink::Http {
        url: server_url,
        sdk_key: "secret-test-key".to_string(),
    }
}

fn start(options: EventOptions) -> (EventLogger, Arc<Counters>) {
    let counters = Arc::new(Counters::default());
    let logger = EventLogger::start(options, counters.clone()).expect("start logger");
    (logger, counters)
}

fn snap(c: &Counters) -> CounterSnapshot {
    c.snapshot()
}

/// A callback sink recording delivered events; fails while `up` is false.
fn recording_sink(up: Arc<AtomicBool>) -> (EventSink, Arc<Mutex<Vec<String>>>) {
    let got: Arc<Mutex<Vec<String>>> = Arc::default();
    let g = got.clone();
    let sink = EventSink::Callback(Arc::new(move |batch: &[String]| {
        if !up.load(Ordering::SeqCst) {
            return Err("sink down".to_string());
        }
        lock(&g).extend(batch.iter().cloned());
        Ok(())
    }));
    (sink, got)
}

fn seqs(events: &[String]) -> Vec<usize> {
    events
        .iter()
        .map(|e| seq_of(&serde_json::from_str(e).expect("event JSON")))
        .collect()
}

fn temp_path(name: &str) -> PathBuf {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    std::env::temp_dir().join(format!(
        "gatehouse-events-{name}-{}-{nanos}.ndjson",
        std::process::id()
    ))
}

// ---------------------------------------------------------------- (a) HTTP shape

#[test]
fn http_sink_posts_gzip_json_with_headers_and_counts() {
    let server = Server::start(ok_policy());
    let mut o = fast(http(server.url()));
    o.batch_size = 3;
    o.flush_interval = Duration::from_secs(30);
    let (logger, counters) = start(o);
    for i in 0..7 {
        logger.enqueue(event(i));
    }
    assert!(
        wait_until(ms(3_000), || server.count() == 2),
        "two full batches expected, got {} requests",
        server.count()
    );
    logger.flush().expect("flush");
    let reqs = server.requests();
    assert_eq!(reqs.len(), 3);
    assert_eq!(server.delivered(), (0..7).collect::<Vec<_>>());
    let flush_types: Vec<&str> = reqs.iter().map(Req::flush_type).collect();
    assert_eq!(
        flush_types,
        ["scheduled:full_batch", "scheduled:full_batch", "manual"]
    );
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_millis() as i128;
    let session = reqs[0]
        .header("STATSIG-SERVER-SESSION-ID")
        .expect("session header")
        .to_string();
    let shape: Vec<usize> = session.split('-').map(str::len).collect();
    assert_eq!(shape, [8, 4, 4, 4, 12], "session id {session}");
    for r in &reqs {
        assert_eq!(r.method, "POST");
        assert_eq!(r.url, "/v1/log_event?k=1", "URL used exactly as given");
        assert_eq!(r.header("Content-Type"), Some("application/json"));
        assert_eq!(r.header("Content-Encoding"), Some("gzip"));
        assert_eq!(r.header("STATSIG-API-KEY"), Some("secret-test-key"));
        assert_eq!(r.header("STATSIG-SDK-TYPE"), Some("gatehouse-rust"));
        assert_eq!(
            r.header("STATSIG-SDK-VERSION"),
            Some(env!("CARGO_PKG_VERSION"))
        );
        assert_eq!(
            r.header("STATSIG-SERVER-SESSION-ID"),
            Some(session.as_str())
        );
        let t: i128 = r
            .header("STATSIG-CLIENT-TIME")
            .and_then(|v| v.parse().ok())
            .expect("client time");
        assert!((now - t).abs() < 60_000, "client time {t} vs now {now}");
        let n = r.seqs().len();
        assert_eq!(
            r.header("statsig-event-count"),
            Some(n.to_string().as_str())
        );
        assert_eq!(r.header("statsig-retry-count"), Some("0"));
        let meta = &r.body["statsigMetadata"];
        assert_eq!(meta["sdkType"], "gatehouse-rust");
        assert_eq!(meta["sdkVersion"], env!("CARGO_PKG_VERSION"));
        assert_eq!(meta["sessionID"], session.as_str());
        let keys: Vec<&String> = r.body.as_object().expect("object").keys().collect();
        assert_eq!(keys.len(), 2, "only events and statsigMetadata: {keys:?}");
        // Events arrive as the exact objects enqueued.
        let first = &r.body["events"][0];
        assert_eq!(first["eventName"], "statsig::gate_exposure");
        assert_eq!(first["metadata"]["gate"], "g");
    }
    let c = snap(&counters);
    assert_eq!(
        (
            c.events_queued,
            c.events_sent,
            c.events_dropped,
            c.event_batches_failed
        ),
        (7, 7, 0, 0)
    );
    assert_eq!(logger.pending(), 0);
}

#[test]
fn partial_batch_is_sent_after_the_flush_interval() {
    let server = Server::start(ok_policy());
    let mut o = fast(http(server.url()));
    o.batch_size = 100;
    o.flush_interval = ms(50);
    let (logger, counters) = start(o);
    logger.enqueue(event(0));
    logger.enqueue(event(1));
    assert!(wait_until(ms(3_000), || server.count() == 1));
    let reqs = server.requests();
    assert_eq!(reqs[0].flush_type(), "scheduled:max_time");
    assert_eq!(reqs[0].seqs(), [0, 1]);
    assert!(wait_until(ms(1_000), || snap(&counters).events_sent == 2));
    thread::sleep(ms(120));
    assert_eq!(server.count(), 1, "an empty queue sends nothing");
}

// ---------------------------------------------------------------- (b) outages

#[test]
fn server_errors_then_recovery_delivers_each_event_once_in_order() {
    // The first three requests get a 500, then one says success:false, then OK.
    let server = Server::start(Arc::new(|n| match n {
        0..=2 => (500, "overloaded".to_string()),
        3 => (200, r#"{"success":false}"#.to_string()),
        _ => (200, r#"{"success":true}"#.to_string()),
    }));
    let (logger, counters) = start(fast(http(server.url())));
    for i in 0..25 {
        logger.enqueue(event(i));
    }
    thread::sleep(ms(30));
    for i in 25..50 {
        logger.enqueue(event(i));
        if i % 5 == 0 {
            thread::sleep(ms(3));
        }
    }
    logger.shutdown(Duration::from_secs(10)).expect("shutdown");
    let reqs = server.requests();
    // The failed batch was retried as is, with the retry count rising.
    for (i, r) in reqs.iter().take(5).enumerate() {
        assert_eq!(r.seqs(), reqs[0].seqs(), "request {i} resends batch 0");
        assert_eq!(
            r.header("statsig-retry-count"),
            Some(i.to_string().as_str())
        );
    }
    // Request 3 was answered 200 with success:false: not a delivery.
    let delivered: Vec<usize> = reqs
        .iter()
        .enumerate()
        .filter(|(i, r)| r.status == 200 && *i != 3)
        .flat_map(|(_, r)| r.seqs())
        .collect();
    assert_eq!(delivered, (0..50).collect::<Vec<_>>());
    let c = snap(&counters);
    assert_eq!(c.events_queued, 50);
    assert_eq!(c.events_sent, 50);
    assert_eq!(c.events_dropped, 0);
    assert_eq!(c.event_batches_failed, 4);
}

#[test]
fn server_not_listening_then_back_delivers_everything_once() {
    let addr = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    }; // closed: nothing listens there now
    let url = format!("http://{addr}/v1/log_event");
    let (logger, counters) = start(fast(http(url)));
    for i in 0..40 {
        logger.enqueue(event(i));
    }
    assert!(
        wait_until(ms(3_000), || snap(&counters).event_batches_failed >= 3),
        "deliveries to a closed port must fail"
    );
    assert_eq!(snap(&counters).events_sent, 0);
    let err = logger.flush().expect_err("flush while down");
    match &err {
        Error::Sink { message, retryable } => {
            assert!(*retryable);
            assert!(message.contains(&addr.to_string()), "{message}");
        }
        other => panic!("unexpected error {other:?}"),
    }
    for i in 40..60 {
        logger.enqueue(event(i));
    }
    let server = Server::start_on(addr, ok_policy());
    assert!(
        wait_until(ms(5_000), || snap(&counters).events_sent == 60),
        "sent {:?}",
        snap(&counters)
    );
    logger.flush().expect("flush after recovery");
    assert_eq!(server.delivered(), (0..60).collect::<Vec<_>>());
    let c = snap(&counters);
    assert_eq!(
        (c.events_queued, c.events_sent, c.events_dropped),
        (60, 60, 0)
    );
}

// ---------------------------------------------------------------- (c) non-retryable

#[test]
fn non_retryable_statuses_drop_the_batch_at_once() {
    for status in [400u16, 403, 405, 413, 429, 501] {
        let server = Server::start(Arc::new(move |_| (status, r#"{"error":"no"}"#.to_string())));
        let mut o = fast(http(server.url()));
        o.batch_size = 5;
        o.flush_interval = Duration::from_secs(30);
        let (logger, counters) = start(o);
        for i in 0..5 {
            logger.enqueue(event(i));
        }
        assert!(
            wait_until(ms(3_000), || snap(&counters).events_dropped == 5),
            "HTTP {status}: {:?}",
            snap(&counters)
        );
        logger.enqueue(event(5));
        let err = logger.flush().expect_err("flush of a refused batch");
        match &err {
            Error::Sink { message, retryable } => {
                assert!(!*retryable, "HTTP {status}");
                assert!(message.contains(&status.to_string()), "{message}");
                assert!(message.contains(&server.url()), "{message}");
            }
            other => panic!("unexpected error {other:?}"),
        }
        thread::sleep(ms(60));
        assert_eq!(server.count(), 2, "HTTP {status} must not be retried");
        let c = snap(&counters);
        assert_eq!(
            (
                c.events_queued,
                c.events_sent,
                c.events_dropped,
                c.event_batches_failed
            ),
            (6, 0, 6, 2),
            "HTTP {status}"
        );
    }
}

// ---------------------------------------------------------------- (d) bound

#[test]
fn bounded_queue_drops_the_oldest_queued_while_the_sink_is_down() {
    let up = Arc::new(AtomicBool::new(false));
    let (sink, got) = recording_sink(up.clone());
    let mut o = fast(sink);
    o.max_queue = 100;
    o.max_retries = u32::MAX;
    o.max_backoff = ms(20);
    let (logger, counters) = start(o);
    for i in 0..1_000 {
        logger.enqueue(event(i));
        assert!(logger.pending() <= 100, "{} held", logger.pending());
    }
    let c = snap(&counters);
    assert_eq!(c.events_queued, 1_000);
    assert_eq!(c.events_dropped, 900);
    assert_eq!(c.events_sent, 0);
    assert_eq!(logger.pending(), 100);
    up.store(true, Ordering::SeqCst);
    logger.shutdown(Duration::from_secs(5)).expect("shutdown");
    // The batch awaiting its retry (10 consecutive events, taken whenever the
    // flusher got to it) is never dropped; of the queued events the newest
    // 90 survive. All in order.
    let got = seqs(&lock(&got));
    assert_eq!(got.len(), 100, "{got:?}");
    assert_eq!(got[10..], (910..1_000).collect::<Vec<_>>()[..]);
    assert_eq!(got[..10], (got[0]..got[0] + 10).collect::<Vec<_>>()[..]);
    assert!(got[9] < 910, "{got:?}");
    let c = snap(&counters);
    assert_eq!((c.events_sent, c.events_dropped), (100, 900));
}

/// A callback sink that holds every delivery until opened, and records
/// what it received.
struct Valve {
    open: Mutex<bool>,
    cv: Condvar,
    calls: AtomicUsize,
    got: Mutex<Vec<String>>,
}

impl Valve {
    fn new() -> Arc<Valve> {
        Arc::new(Valve {
            open: Mutex::new(false),
            cv: Condvar::new(),
            calls: AtomicUsize::new(0),
            got: Mutex::default(),
        })
    }

    fn sink(self: &Arc<Valve>) -> EventSink {
        let v = self.clone();
        EventSink::Callback(Arc::new(move |batch: &[String]| {
            v.calls.fetch_add(1, Ordering::SeqCst);
            let mut open = lock(&v.open);
            while !*open {
                open = v.cv.wait(open).unwrap_or_else(|p| p.into_inner());
            }
            drop(open);
            lock(&v.got).extend(batch.iter().cloned());
            Ok(())
        }))
    }

    fn calls(&self) -> usize {
        self.calls.load(Ordering::SeqCst)
    }

    fn open(&self) {
        *lock(&self.open) = true;
        self.cv.notify_all();
    }

    fn got(&self) -> Vec<usize> {
        seqs(&lock(&self.got))
    }
}

/// `events_queued == events_sent + events_dropped + pending()`; call only
/// while the flusher cannot resolve anything (the counters and `pending`
/// are read one after the other).
fn assert_balanced(logger: &EventLogger, counters: &Counters) {
    let pending = logger.pending() as u64;
    let c = snap(counters);
    assert_eq!(
        c.events_queued,
        c.events_sent + c.events_dropped + pending,
        "{c:?}, pending {pending}"
    );
}

#[test]
fn overflow_never_drops_an_event_on_the_wire() {
    let valve = Valve::new();
    let mut o = fast(valve.sink());
    o.batch_size = 5;
    o.max_queue = 10;
    o.flush_interval = Duration::from_secs(30);
    let (logger, counters) = start(o);
    for i in 0..5 {
        logger.enqueue(event(i));
    }
    assert!(
        wait_until(ms(3_000), || valve.calls() == 1),
        "the first batch is on the wire"
    );
    for i in 5..20 {
        logger.enqueue(event(i));
        assert_balanced(&logger, &counters);
    }
    assert_eq!(logger.pending(), 10);
    let c = snap(&counters);
    assert_eq!(
        (c.events_queued, c.events_sent, c.events_dropped),
        (20, 0, 10)
    );
    valve.open();
    logger.flush().expect("flush");
    // The batch on the wire arrived whole; the oldest queued (5..15) were dropped.
    assert_eq!(valve.got(), [0, 1, 2, 3, 4, 15, 16, 17, 18, 19]);
    let c = snap(&counters);
    assert_eq!(
        (c.events_queued, c.events_sent, c.events_dropped),
        (20, 10, 10)
    );
    assert_balanced(&logger, &counters);
}

#[test]
fn overflow_with_only_in_flight_events_drops_the_incoming_one() {
    let valve = Valve::new();
    let mut o = fast(valve.sink());
    o.batch_size = 5;
    o.max_queue = 5;
    o.flush_interval = Duration::from_secs(30);
    let (logger, counters) = start(o);
    for i in 0..5 {
        logger.enqueue(event(i));
    }
    assert!(wait_until(ms(3_000), || valve.calls() == 1));
    for i in 5..8 {
        logger.enqueue(event(i));
        assert_balanced(&logger, &counters);
    }
    assert_eq!(logger.pending(), 5);
    assert_eq!(snap(&counters).events_dropped, 3);
    valve.open();
    logger.flush().expect("flush");
    logger.enqueue(event(8));
    logger.flush().expect("flush");
    assert_eq!(valve.got(), [0, 1, 2, 3, 4, 8]);
    let c = snap(&counters);
    assert_eq!(
        (c.events_queued, c.events_sent, c.events_dropped),
        (9, 6, 3)
    );
    assert_balanced(&logger, &counters);
}

#[test]
fn overflow_counters_match_what_the_sink_received() {
    let got: Arc<Mutex<Vec<String>>> = Arc::default();
    let g = got.clone();
    let sink = EventSink::Callback(Arc::new(move |batch: &[String]| {
        thread::sleep(Duration::from_micros(300));
        lock(&g).extend(batch.iter().cloned());
        Ok(())
    }));
    let mut o = fast(sink);
    o.batch_size = 16;
    o.max_queue = 64;
    let (logger, counters) = start(o);
    let logger = Arc::new(logger);
    let producers: Vec<_> = (0..4)
        .map(|t| {
            let logger = logger.clone();
            thread::spawn(move || {
                for i in 0..5_000 {
                    logger.enqueue(event(t * 10_000 + i));
                }
            })
        })
        .collect();
    for p in producers {
        p.join().expect("producer");
    }
    logger.shutdown(Duration::from_secs(10)).expect("shutdown");
    let all = seqs(&lock(&got));
    let c = snap(&counters);
    assert_eq!(c.events_queued, 20_000);
    assert_eq!(c.events_sent as usize, all.len(), "{c:?}");
    assert_eq!(c.events_sent + c.events_dropped, 20_000, "{c:?}");
    assert!(c.events_dropped > 0, "the queue overflowed: {c:?}");
    let mut unique = all.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), all.len(), "no event delivered twice");
    for t in 0..4 {
        let mine: Vec<usize> = all.iter().filter(|s| *s / 10_000 == t).copied().collect();
        assert!(
            mine.windows(2).all(|w| w[0] < w[1]),
            "producer {t} in order"
        );
    }
}

#[test]
fn exhausted_retries_drop_the_batch_after_exponential_backoff() {
    let calls: Arc<Mutex<Vec<Instant>>> = Arc::default();
    let c2 = calls.clone();
    let sink = EventSink::Callback(Arc::new(move |_: &[String]| {
        lock(&c2).push(Instant::now());
        Err("nope".to_string())
    }));
    let mut o = fast(sink);
    o.batch_size = 4;
    o.max_retries = 3;
    o.retry_backoff = ms(30);
    o.max_backoff = ms(60);
    let (logger, counters) = start(o);
    for i in 0..4 {
        logger.enqueue(event(i));
    }
    assert!(wait_until(ms(3_000), || snap(&counters).events_dropped == 4));
    thread::sleep(ms(100));
    let calls = lock(&calls).clone();
    assert_eq!(calls.len(), 4, "one attempt and three retries");
    let gaps: Vec<Duration> = calls.windows(2).map(|w| w[1] - w[0]).collect();
    assert!(gaps[0] >= ms(30), "{gaps:?}");
    assert!(gaps[1] >= ms(60), "{gaps:?}");
    assert!(gaps[2] >= ms(60), "{gaps:?}");
    assert!(gaps[2] < ms(115), "backoff capped at 60 ms: {gaps:?}");
    let c = snap(&counters);
    assert_eq!((c.events_sent, c.event_batches_failed), (0, 4));
    assert_eq!(logger.pending(), 0);
}

// ---------------------------------------------------------------- (e) shutdown

#[test]
fn shutdown_delivers_everything_queued_and_refuses_later_events() {
    let server = Server::start(ok_policy());
    let mut o = fast(http(server.url()));
    o.batch_size = 100;
    o.flush_interval = Duration::from_secs(30);
    let (logger, counters) = start(o);
    for i in 0..250 {
        logger.enqueue(event(i));
    }
    logger.shutdown(Duration::from_secs(5)).expect("shutdown");
    assert_eq!(server.delivered(), (0..250).collect::<Vec<_>>());
    let c = snap(&counters);
    assert_eq!(
        (c.events_queued, c.events_sent, c.events_dropped),
        (250, 250, 0)
    );
    // Batches formed before shutdown are full batches; the rest "shutdown".
    let last = server.requests().pop().expect("requests");
    assert_eq!(last.flush_type(), "shutdown");
    assert_eq!(last.seqs().len(), 50);

    logger.enqueue(event(250));
    let c = snap(&counters);
    assert_eq!((c.events_queued, c.events_dropped), (250, 1));
    assert_eq!(logger.pending(), 0);
    logger
        .shutdown(Duration::from_secs(1))
        .expect("second shutdown");
    logger
        .flush()
        .expect("flush after shutdown has nothing to do");
    thread::sleep(ms(50));
    assert_eq!(server.delivered().len(), 250);
}

#[test]
fn shutdown_timeout_drops_and_counts_what_is_left() {
    let (sink, _got) = recording_sink(Arc::new(AtomicBool::new(false)));
    let (logger, counters) = start(fast(sink));
    for i in 0..30 {
        logger.enqueue(event(i));
    }
    let t = Instant::now();
    let err = logger.shutdown(ms(100)).expect_err("undelivered events");
    assert!(t.elapsed() < ms(1_000), "took {:?}", t.elapsed());
    assert!(matches!(err, Error::Sink { .. }), "{err:?}");
    assert!(err.to_string().contains("30 events"), "{err}");
    let c = snap(&counters);
    assert_eq!((c.events_sent, c.events_dropped), (0, 30));
    assert!(c.event_batches_failed >= 2);
}

#[test]
fn dropping_the_logger_stops_its_thread_and_delivers() {
    let (sink, got) = recording_sink(Arc::new(AtomicBool::new(true)));
    let EventSink::Callback(callback) = &sink else {
        unreachable!()
    };
    let callback = callback.clone();
    let mut o = fast(sink.clone());
    o.flush_interval = Duration::from_secs(30);
    let (logger, counters) = start(o);
    drop(sink);
    assert!(Arc::strong_count(&callback) > 1);
    for i in 0..3 {
        logger.enqueue(event(i));
    }
    let t = Instant::now();
    drop(logger);
    // Dropping never blocks; the thread delivers and ends on its own.
    assert!(t.elapsed() < ms(100), "drop blocked {:?}", t.elapsed());
    assert!(
        wait_until(ms(2_000), || Arc::strong_count(&callback) == 1),
        "the thread still runs"
    );
    assert_eq!(seqs(&lock(&got)), [0, 1, 2]);
    assert_eq!(snap(&counters).events_sent, 3);
}

// ---------------------------------------------------------------- (f) file

#[test]
fn file_sink_appends_ndjson_lines() {
    let path = temp_path("ndjson");
    let (logger, counters) = start(fast(EventSink::File(path.clone())));
    for i in 0..4 {
        logger.enqueue(event(i));
    }
    // Pretty-printed JSON still ends up on one line.
    logger.enqueue("{\n  \"seq\": 4,\r\n  \"text\": \"a\\nb\"\n}".to_string());
    logger.flush().expect("flush");
    logger.shutdown(ms(500)).expect("shutdown");
    let (logger, _) = start(fast(EventSink::File(path.clone())));
    for i in 5..8 {
        logger.enqueue(event(i));
    }
    logger.shutdown(ms(500)).expect("shutdown");
    let text = std::fs::read_to_string(&path).expect("read ndjson");
    let _ = std::fs::remove_file(&path);
    assert!(text.ends_with('\n'));
    let lines: Vec<Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).expect("each line is JSON"))
        .collect();
    assert_eq!(
        lines.iter().map(seq_of).collect::<Vec<_>>(),
        (0..8).collect::<Vec<_>>()
    );
    assert_eq!(lines[4]["text"], "a\nb");
    assert_eq!(snap(&counters).events_sent, 5);
}

#[test]
fn file_sink_bad_paths_fail_fast_without_retries() {
    let not_a_dir = temp_path("plain-file");
    std::fs::write(&not_a_dir, "").expect("create a plain file");
    let paths = [
        temp_path("missing-dir").join("events.ndjson"),
        std::env::temp_dir(),
        not_a_dir.join("events.ndjson"),
    ];
    for path in paths {
        let mut o = fast(EventSink::File(path.clone()));
        o.max_retries = 5;
        o.retry_backoff = Duration::from_secs(30);
        o.max_backoff = Duration::from_secs(30);
        o.flush_interval = Duration::from_secs(30);
        let (logger, counters) = start(o);
        logger.enqueue(event(0));
        let err = logger.flush().expect_err("a bad path");
        match &err {
            Error::Sink { message, retryable } => {
                assert!(!*retryable, "{message}");
                assert!(message.contains(&path.display().to_string()), "{message}");
            }
            other => panic!("unexpected error {other:?}"),
        }
        assert_eq!(logger.pending(), 0, "dropped at once: {}", path.display());
        let c = snap(&counters);
        assert_eq!(
            (c.events_dropped, c.event_batches_failed),
            (1, 1),
            "{}",
            path.display()
        );
    }
    let _ = std::fs::remove_file(&not_a_dir);
}

#[cfg(target_os = "linux")]
#[test]
fn file_sink_disk_full_is_retried_and_never_duplicates() {
    // The path first leads to /dev/full (every write fails with ENOSPC),
    // then, once "space is freed", to a regular file.
    let path = temp_path("disk-full");
    std::os::unix::fs::symlink("/dev/full", &path).expect("symlink to /dev/full");
    let mut o = fast(EventSink::File(path.clone()));
    o.retry_backoff = Duration::from_secs(30);
    o.max_backoff = Duration::from_secs(30);
    o.flush_interval = Duration::from_secs(30);
    let (logger, counters) = start(o);
    for i in 0..4 {
        logger.enqueue(event(i));
    }
    for attempt in 1..=3u64 {
        let err = logger.flush().expect_err("disk full");
        match &err {
            Error::Sink { message, retryable } => {
                assert!(*retryable, "{message}");
                assert!(message.contains(&path.display().to_string()), "{message}");
            }
            other => panic!("unexpected error {other:?}"),
        }
        assert_eq!(logger.pending(), 4, "kept for a retry");
        let c = snap(&counters);
        assert_eq!((c.event_batches_failed, c.events_dropped), (attempt, 0));
    }
    std::fs::remove_file(&path).expect("remove the symlink");
    logger.flush().expect("space is back");
    let text = std::fs::read_to_string(&path).expect("read ndjson");
    let _ = std::fs::remove_file(&path);
    let lines: Vec<usize> = text
        .lines()
        .map(|l| seq_of(&serde_json::from_str(l).expect("each line is JSON")))
        .collect();
    assert_eq!(lines, [0, 1, 2, 3]);
    let c = snap(&counters);
    assert_eq!((c.events_sent, c.events_dropped), (4, 0));
}

/// Environment variable naming the file of the child run below.
const FSIZE_CHILD: &str = "GATEHOUSE_EVENTS_FSIZE_CHILD";

/// Run by `file_sink_partial_writes_leave_no_torn_lines_or_duplicates` in
/// a child process whose file size is limited (`ulimit -f`): writes past
/// the limit are cut short (a partial write), then fail with EFBIG.
#[test]
#[ignore = "child process of file_sink_partial_writes_leave_no_torn_lines_or_duplicates"]
fn file_sink_fsize_child() {
    let path = PathBuf::from(std::env::var_os(FSIZE_CHILD).expect("run by the parent test"));
    let mut o = fast(EventSink::File(path));
    o.batch_size = 20;
    o.max_retries = 2;
    o.retry_backoff = ms(1);
    o.max_backoff = ms(1);
    let (logger, counters) = start(o);
    for i in 0..200 {
        // About 100 bytes a line, about 2 KB a batch.
        logger.enqueue(format!(r#"{{"seq":{i},"pad":"{}"}}"#, "x".repeat(80)));
    }
    let _ = logger.shutdown(Duration::from_secs(10));
    let c = snap(&counters);
    println!(
        "COUNTERS {} {} {}",
        c.events_queued, c.events_sent, c.events_dropped
    );
}

#[cfg(target_os = "linux")]
#[test]
fn file_sink_partial_writes_leave_no_torn_lines_or_duplicates() {
    let path = temp_path("fsize");
    let exe = std::env::current_exe().expect("test binary");
    // SIGXFSZ ignored (inherited through exec): a write past the limit is
    // cut short, the next one fails with EFBIG.
    let out = std::process::Command::new("sh")
        .arg("-c")
        .arg(r#"trap '' XFSZ; ulimit -f 10 && exec "$0" --ignored --exact file_sink_fsize_child --nocapture --test-threads=1"#)
        .arg(&exe)
        .env(FSIZE_CHILD, &path)
        .output()
        .expect("run the child");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let counts: Vec<u64> = stdout
        .lines()
        .find_map(|l| l.split_once("COUNTERS ").map(|(_, n)| n))
        .unwrap_or_else(|| panic!("no counters line in {stdout}"))
        .split(' ')
        .map(|n| n.parse().expect("number"))
        .collect();
    let (queued, sent, dropped) = (counts[0], counts[1], counts[2]);
    let text = std::fs::read_to_string(&path).expect("read ndjson");
    let _ = std::fs::remove_file(&path);
    assert_eq!(queued, 200);
    assert!(sent > 0 && dropped > 0, "the limit was reached: {counts:?}");
    assert_eq!(sent + dropped, 200);
    assert!(text.is_empty() || text.ends_with('\n'), "a torn last line");
    let lines: Vec<usize> = text
        .lines()
        .map(|l| seq_of(&serde_json::from_str(l).expect("each line is whole JSON")))
        .collect();
    assert_eq!(
        lines,
        (0..sent as usize).collect::<Vec<_>>(),
        "once each, in order"
    );
}

// ---------------------------------------------------------------- (g) flush

#[test]
fn flush_returns_only_after_delivery() {
    let got: Arc<Mutex<Vec<String>>> = Arc::default();
    let g = got.clone();
    let sink = EventSink::Callback(Arc::new(move |batch: &[String]| {
        thread::sleep(ms(150));
        lock(&g).extend(batch.iter().cloned());
        Ok(())
    }));
    let mut o = fast(sink);
    o.flush_interval = Duration::from_secs(30);
    let (logger, counters) = start(o);
    let t = Instant::now();
    logger.flush().expect("empty flush");
    assert!(t.elapsed() < ms(100), "nothing to wait for");
    for i in 0..3 {
        logger.enqueue(event(i));
    }
    assert!(lock(&got).is_empty());
    let t = Instant::now();
    logger.flush().expect("flush");
    assert!(t.elapsed() >= ms(150), "returned after {:?}", t.elapsed());
    assert_eq!(seqs(&lock(&got)), [0, 1, 2]);
    assert_eq!(snap(&counters).events_sent, 3);
    assert_eq!(logger.pending(), 0);
}

#[test]
fn flush_skips_the_backoff_and_keeps_a_failing_batch() {
    let attempts = Arc::new(AtomicUsize::new(0));
    let a = attempts.clone();
    let got: Arc<Mutex<Vec<String>>> = Arc::default();
    let g = got.clone();
    let sink = EventSink::Callback(Arc::new(move |batch: &[String]| {
        if a.fetch_add(1, Ordering::SeqCst) < 2 {
            return Err("flaky".to_string());
        }
        lock(&g).extend(batch.iter().cloned());
        Ok(())
    }));
    let mut o = fast(sink);
    o.flush_interval = Duration::from_secs(30);
    o.retry_backoff = Duration::from_secs(30);
    o.max_backoff = Duration::from_secs(30);
    let (logger, counters) = start(o);
    logger.enqueue(event(0));
    logger.enqueue(event(1));
    let t = Instant::now();
    let err = logger.flush().expect_err("first attempt fails");
    assert!(err.to_string().contains("flaky"), "{err}");
    assert_eq!(logger.pending(), 2);
    logger.enqueue(event(2));
    assert!(logger.flush().is_err(), "second attempt fails");
    logger.flush().expect("third attempt delivers");
    assert!(
        t.elapsed() < ms(2_000),
        "backoff was waited: {:?}",
        t.elapsed()
    );
    assert_eq!(seqs(&lock(&got)), [0, 1, 2]);
    let c = snap(&counters);
    assert_eq!(
        (c.events_sent, c.events_dropped, c.event_batches_failed),
        (3, 0, 2)
    );
}

// ---------------------------------------------------------------- more

#[test]
fn concurrent_producers_keep_their_order_and_lose_nothing() {
    let (sink, got) = recording_sink(Arc::new(AtomicBool::new(true)));
    let mut o = fast(sink);
    o.batch_size = 64;
    let (logger, counters) = start(o);
    let logger = Arc::new(logger);
    let producers: Vec<_> = (0..4)
        .map(|t| {
            let logger = logger.clone();
            thread::spawn(move || {
                for i in 0..2_000 {
                    logger.enqueue(event(t * 10_000 + i));
                }
            })
        })
        .collect();
    for p in producers {
        p.join().expect("producer");
    }
    logger.shutdown(Duration::from_secs(10)).expect("shutdown");
    let all = seqs(&lock(&got));
    assert_eq!(all.len(), 8_000);
    for t in 0..4 {
        let mine: Vec<usize> = all
            .iter()
            .filter(|s| *s / 10_000 == t)
            .map(|s| s % 10_000)
            .collect();
        assert_eq!(mine, (0..2_000).collect::<Vec<_>>(), "producer {t}");
    }
    let c = snap(&counters);
    assert_eq!(
        (c.events_queued, c.events_sent, c.events_dropped),
        (8_000, 8_000, 0)
    );
}

#[test]
fn a_panicking_callback_drops_its_batch_and_the_pipeline_goes_on() {
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let got: Arc<Mutex<Vec<String>>> = Arc::default();
    let g = got.clone();
    let sink = EventSink::Callback(Arc::new(move |batch: &[String]| {
        if c.fetch_add(1, Ordering::SeqCst) == 0 {
            panic!("sink bug");
        }
        lock(&g).extend(batch.iter().cloned());
        Ok(())
    }));
    let mut o = fast(sink);
    o.flush_interval = Duration::from_secs(30);
    let (logger, counters) = start(o);
    logger.enqueue(event(0));
    assert!(logger.flush().is_err());
    logger.enqueue(event(1));
    logger.flush().expect("next batch delivered");
    assert_eq!(seqs(&lock(&got)), [1]);
    let c = snap(&counters);
    assert_eq!((c.events_sent, c.events_dropped), (1, 1));
}

#[test]
fn invalid_options_are_rejected() {
    let counters = Arc::new(Counters::default());
    let mut o = fast(EventSink::File(temp_path("never")));
    o.batch_size = 0;
    let err = EventLogger::start(o, counters.clone()).err();
    assert!(
        matches!(
            err,
            Some(Error::Options {
                option: "batch_size",
                ..
            })
        ),
        "{err:?}"
    );
    let mut o = fast(EventSink::File(temp_path("never")));
    o.max_queue = 0;
    assert!(EventLogger::start(o, counters.clone()).is_err());
    let o = fast(http("ftp://example.com/x".to_string()));
    assert!(EventLogger::start(o, counters.clone()).is_err());
    type Change = fn(&mut EventOptions);
    let cases: [(&str, Change); 5] = [
        ("request_timeout", |o| o.request_timeout = Duration::ZERO),
        ("retry_backoff", |o| o.retry_backoff = Duration::ZERO),
        ("max_backoff", |o| {
            o.retry_backoff = ms(50);
            o.max_backoff = ms(49);
        }),
        ("sink.sdk_key", |o| {
            o.sink = EventSink::Http {
                url: "http://127.0.0.1:9/x".to_string(),
                sdk_key: String::new(),
            }
        }),
        ("flush_interval", |o| o.flush_interval = Duration::ZERO),
    ];
    for (name, change) in cases {
        let mut o = fast(EventSink::File(temp_path("never")));
        change(&mut o);
        match EventLogger::start(o, counters.clone()) {
            Err(Error::Options { option, message }) => {
                assert_eq!(option, name, "{message}");
            }
            Err(other) => panic!("{name}: unexpected error {other:?}"),
            Ok(_) => panic!("{name}: accepted"),
        }
    }
    // Equal backoffs are fine.
    let mut o = fast(EventSink::File(temp_path("never")));
    o.max_backoff = o.retry_backoff;
    EventLogger::start(o, counters)
        .expect("max_backoff == retry_backoff")
        .shutdown(ms(100))
        .expect("nothing to deliver");
}

#[test]
fn debug_output_hides_the_sdk_key() {
    let text = format!("{:?}", fast(http("http://127.0.0.1:9/x".to_string())));
    assert!(text.contains("http://127.0.0.1:9/x"), "{text}");
    assert!(!text.contains("secret-test-key"), "{text}");
}

// ---------------------------------------------------------------- error texts

/// An SDK key with characters that percent-encoding changes.
const ODD_KEY: &str = "secret-abc+/=";
const ODD_KEY_UPPER: &str = "secret-abc%2B%2F%3D";
const ODD_KEY_LOWER: &str = "secret-abc%2b%2f%3d";

fn assert_no_key(text: &str) {
    for form in [ODD_KEY, ODD_KEY_UPPER, ODD_KEY_LOWER] {
        assert!(!text.contains(form), "`{form}` in {text}");
    }
}

#[test]
fn http_errors_never_contain_the_sdk_key() {
    let echo = format!(r#"{{"error":"unknown key {ODD_KEY} ({ODD_KEY_UPPER}, {ODD_KEY_LOWER})"}}"#);
    // The second answer has the key where a 200-byte quote would cut it.
    let long = format!("{}{ODD_KEY}", "x".repeat(195));
    let server = Server::start(Arc::new(move |n| {
        (404, if n == 0 { echo.clone() } else { long.clone() })
    }));
    let url = format!("http://{}/v1/log_event?k={ODD_KEY_UPPER}", server.addr);
    let mut o = fast(EventSink::Http {
        url,
        sdk_key: ODD_KEY.to_string(),
    });
    o.flush_interval = Duration::from_secs(30);
    o.retry_backoff = Duration::from_secs(30);
    o.max_backoff = Duration::from_secs(30);
    let (logger, _counters) = start(o);
    logger.enqueue(event(0));
    let err = logger.flush().expect_err("HTTP 404");
    let text = format!("{err} {err:?}");
    assert!(text.contains("404"), "{text}");
    assert!(text.contains("unknown key <sdk-key>"), "{text}");
    assert!(text.contains(&server.addr.to_string()), "{text}");
    assert_no_key(&text);
    let last = logger.last_error().expect("last error kept");
    assert!(last.contains("unknown key <sdk-key>"), "{last}");
    assert_no_key(&last);
    let err = logger.flush().expect_err("HTTP 404 again");
    let text = format!("{err} {err:?}");
    assert!(text.contains("xxxxx"), "{text}");
    assert!(!text.contains("secret-"), "part of the key in {text}");
    assert_no_key(&logger.last_error().expect("last error"));
    assert_eq!(
        server.requests()[0].header("STATSIG-API-KEY"),
        Some(ODD_KEY),
        "the key itself is still sent"
    );
}

/// "a: b: b: c" has a segment twice in a row.
fn assert_no_repeated_segment(message: &str) {
    let parts: Vec<&str> = message.split(": ").collect();
    assert!(
        parts.windows(2).all(|w| w[0] != w[1]),
        "repeated text in {message}"
    );
}

#[test]
fn http_transport_errors_are_not_repeated_and_hide_the_key() {
    // Nothing listens: connection refused.
    let addr = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr")
    };
    // Connections are accepted (by the kernel) but never answered.
    let silent = TcpListener::bind("127.0.0.1:0").expect("bind");
    let silent_addr = silent.local_addr().expect("addr");
    for target in [addr, silent_addr] {
        let mut o = fast(EventSink::Http {
            url: format!("http://{target}/v1/log_event?k={ODD_KEY_UPPER}"),
            sdk_key: ODD_KEY.to_string(),
        });
        o.flush_interval = Duration::from_secs(30);
        o.retry_backoff = Duration::from_secs(30);
        o.max_backoff = Duration::from_secs(30);
        o.request_timeout = ms(300);
        let (logger, _counters) = start(o);
        logger.enqueue(event(0));
        let err = logger.flush().expect_err("no answer");
        let Error::Sink { message, retryable } = &err else {
            panic!("unexpected error {err:?}");
        };
        assert!(*retryable, "{message}");
        assert_eq!(
            message.matches(&target.to_string()).count(),
            1,
            "the URL once: {message}"
        );
        assert_no_repeated_segment(message);
        assert_no_key(message);
    }
    drop(silent);
}

#[test]
fn last_error_says_why_events_were_dropped() {
    let up = Arc::new(AtomicBool::new(false));
    let u = up.clone();
    let got: Arc<Mutex<Vec<String>>> = Arc::default();
    let g = got.clone();
    let sink = EventSink::Callback(Arc::new(move |batch: &[String]| {
        if !u.load(Ordering::SeqCst) {
            return Err("disk on fire".to_string());
        }
        lock(&g).extend(batch.iter().cloned());
        Ok(())
    }));
    let mut o = fast(sink);
    o.max_retries = 1;
    o.flush_interval = Duration::from_secs(30);
    let (logger, counters) = start(o);
    assert_eq!(logger.last_error(), None);
    logger.enqueue(event(0));
    assert!(logger.flush().is_err());
    assert!(logger.flush().is_err(), "out of retries");
    assert_eq!(snap(&counters).events_dropped, 1);
    let why = logger.last_error().expect("a failure happened");
    assert!(why.contains("disk on fire"), "{why}");
    up.store(true, Ordering::SeqCst);
    logger.enqueue(event(1));
    logger.flush().expect("delivered");
    assert_eq!(seqs(&lock(&got)), [1]);
    assert_eq!(
        logger.last_error().as_deref(),
        Some(why.as_str()),
        "kept after a success"
    );
}

// ---------------------------------------------------------------- back-pressure

#[test]
fn block_when_full_waits_for_room_and_loses_nothing() {
    let valve = Valve::new();
    let mut o = fast(valve.sink());
    o.batch_size = 5;
    o.max_queue = 10;
    o.flush_interval = Duration::from_secs(30);
    o.block_when_full = true;
    let (logger, counters) = start(o);
    let logger = Arc::new(logger);
    let done = Arc::new(AtomicUsize::new(0));
    let producer = {
        let (logger, done) = (logger.clone(), done.clone());
        thread::spawn(move || {
            for i in 0..30 {
                logger.enqueue(event(i));
                done.store(i + 1, Ordering::SeqCst);
            }
        })
    };
    assert!(wait_until(ms(3_000), || valve.calls() == 1
        && done.load(Ordering::SeqCst) == 10));
    thread::sleep(ms(100));
    assert_eq!(done.load(Ordering::SeqCst), 10, "the 11th event waits");
    assert_eq!(logger.pending(), 10);
    assert_balanced(&logger, &counters);
    valve.open();
    producer.join().expect("producer");
    logger.flush().expect("flush");
    assert_eq!(valve.got(), (0..30).collect::<Vec<_>>());
    let c = snap(&counters);
    assert_eq!(
        (c.events_queued, c.events_sent, c.events_dropped),
        (30, 30, 0)
    );
    assert_balanced(&logger, &counters);
}

#[test]
fn block_when_full_gives_up_at_shutdown() {
    let (sink, got) = recording_sink(Arc::new(AtomicBool::new(false)));
    let mut o = fast(sink);
    o.batch_size = 5;
    o.max_queue = 5;
    o.max_retries = u32::MAX;
    o.block_when_full = true;
    let (logger, counters) = start(o);
    let logger = Arc::new(logger);
    let done = Arc::new(AtomicUsize::new(0));
    let producer = {
        let (logger, done) = (logger.clone(), done.clone());
        thread::spawn(move || {
            for i in 0..10 {
                logger.enqueue(event(i));
                done.store(i + 1, Ordering::SeqCst);
            }
        })
    };
    assert!(wait_until(ms(3_000), || done.load(Ordering::SeqCst) == 5));
    thread::sleep(ms(100));
    assert_eq!(done.load(Ordering::SeqCst), 5, "the 6th event waits");
    assert_eq!(snap(&counters).events_dropped, 0);
    let err = logger.shutdown(ms(100)).expect_err("the sink is down");
    // The 5 held events, plus those the producer offered after the close.
    assert!(err.to_string().contains(" events"), "{err}");
    assert!(
        wait_until(ms(2_000), || done.load(Ordering::SeqCst) == 10),
        "the waiting producer was released"
    );
    producer.join().expect("producer");
    assert!(lock(&got).is_empty());
    let c = snap(&counters);
    // Five accepted and lost at shutdown, five refused after it.
    assert_eq!(
        (c.events_queued, c.events_sent, c.events_dropped),
        (5, 0, 10)
    );
}

#[test]
fn block_when_full_on_the_sink_thread_drops_instead_of_waiting() {
    let me: Arc<Mutex<Weak<EventLogger>>> = Arc::new(Mutex::new(Weak::new()));
    let inner_done = Arc::new(AtomicBool::new(false));
    let got: Arc<Mutex<Vec<String>>> = Arc::default();
    let sink = {
        let (me, inner_done, got) = (me.clone(), inner_done.clone(), got.clone());
        EventSink::Callback(Arc::new(move |batch: &[String]| {
            lock(&got).extend(batch.iter().cloned());
            if let Some(logger) = lock(&me).upgrade() {
                if !inner_done.swap(true, Ordering::SeqCst) {
                    // The queue is full of this very batch: waiting for
                    // room here would wait for itself.
                    for i in 100..103 {
                        logger.enqueue(event(i));
                    }
                }
            }
            Ok(())
        }))
    };
    let mut o = fast(sink);
    o.batch_size = 2;
    o.max_queue = 2;
    o.flush_interval = Duration::from_secs(30);
    o.block_when_full = true;
    let (logger, counters) = start(o);
    let logger = Arc::new(logger);
    *lock(&me) = Arc::downgrade(&logger);
    logger.enqueue(event(0));
    logger.enqueue(event(1));
    assert!(
        wait_until(ms(3_000), || inner_done.load(Ordering::SeqCst)),
        "the callback's enqueue returned"
    );
    logger.flush().expect("flush");
    assert_eq!(seqs(&lock(&got)), [0, 1]);
    let c = snap(&counters);
    assert_eq!(
        (c.events_queued, c.events_sent, c.events_dropped),
        (5, 2, 3)
    );
    assert_balanced(&logger, &counters);
}
