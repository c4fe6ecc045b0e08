//! Spec and ID-list fetching against the loopback test server.

mod support;

use gatehouse::sync::{load_id_list_files, HttpSpecSource, IdListSync, SpecFetch};
use gatehouse::Error;
use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use support::{Recorded, Reply, Server};

const KEY: &str = "secret-Key_42";
const SECOND: Duration = Duration::from_secs(1);

fn source(server: &Server) -> HttpSpecSource {
    HttpSpecSource::new(&format!("{}/v2/dcs/", server.url()), KEY, 5 * SECOND)
}

/// The error of a failed fetch (panics on success).
fn fetch_err(src: &HttpSpecSource) -> Error {
    match src.fetch(0, None) {
        Ok(got) => panic!("expected an error, got {got:?}"),
        Err(e) => e,
    }
}

/// The status of an `Error::Http`, after checking the key is nowhere in it.
fn http_status(error: &Error) -> u16 {
    let shown = format!("{error} {error:?}");
    assert!(!shown.contains(KEY), "SDK key leaked: {shown}");
    match error {
        Error::Http { url, status, .. } => {
            assert!(url.contains("<sdk-key>"), "{url}");
            *status
        }
        other => panic!("expected Error::Http, got {other:?}"),
    }
}

#[test]
fn spec_request_url_query_and_headers() {
    let server = Server::start();
    server.set("/v2/dcs/", Reply::json(r#"{"has_updates":true}"#));
    let src = source(&server);
    let before = SystemTime::now().duration_since(UNIX_EPOCH).unwrap();
    match src.fetch(1_700_000_000_123, Some("ab+/= é~1")) {
        Ok(SpecFetch::Body(text)) => assert_eq!(text, r#"{"has_updates":true}"#),
        other => panic!("{other:?}"),
    }
    let seen = server.requests();
    assert_eq!(seen.len(), 1);
    let r = &seen[0];
    assert_eq!(r.method, "GET");
    assert_eq!(r.path(), format!("/v2/dcs/{KEY}.json"));
    assert_eq!(
        r.query(),
        Some("sinceTime=1700000000123&checksum=ab%2B%2F%3D%20%C3%A9%7E1")
    );
    assert_eq!(r.header("STATSIG-API-KEY"), Some(KEY));
    assert_eq!(r.header("statsig-sdk-type"), Some("gatehouse-rust"));
    assert_eq!(
        r.header("statsig-sdk-version"),
        Some(env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(r.header("accept-encoding"), Some("gzip"));
    assert_eq!(r.header("statsig-supports-proto"), None);
    let client_ms: u128 = r.header("statsig-client-time").unwrap().parse().unwrap();
    assert!(client_ms >= before.as_millis() && client_ms < before.as_millis() + 60_000);
}

#[test]
fn spec_first_sync_has_no_query() {
    let server = Server::start();
    server.set("/", Reply::json("{}"));
    let src = source(&server);
    src.fetch(0, None).unwrap();
    src.fetch(0, Some("")).unwrap();
    src.fetch(0, Some("c1")).unwrap();
    let urls: Vec<String> = server.requests().into_iter().map(|r| r.url).collect();
    let path = format!("/v2/dcs/{KEY}.json");
    assert_eq!(
        urls,
        [path.clone(), path.clone(), format!("{path}?checksum=c1")]
    );
    assert_eq!(src.request_url(0, None), format!("{}{path}", server.url()));
}

#[test]
fn spec_gzip_body_is_decompressed() {
    let server = Server::start();
    let text = format!(r#"{{"feature_gates":{{}},"pad":"{}"}}"#, "x".repeat(5000));
    server.set("/v2/dcs/", Reply::json(&text).gzip());
    match source(&server).fetch(0, None) {
        Ok(SpecFetch::Body(body)) => assert_eq!(body, text),
        other => panic!("{other:?}"),
    }
}

#[test]
fn spec_204_and_304_are_not_modified() {
    let server = Server::start();
    let src = source(&server);
    for status in [204, 304] {
        server.set("/v2/dcs/", Reply::status(status));
        assert!(matches!(
            src.fetch(5, Some("c")),
            Ok(SpecFetch::NotModified)
        ));
    }
}

#[test]
fn spec_error_status_keeps_body_start_but_not_key() {
    let server = Server::start();
    let src = source(&server);
    let body = format!(
        "{}{}tail-not-shown invalid key {KEY}",
        "é".repeat(150),
        "b".repeat(50)
    );
    server.set("/v2/dcs/", Reply::status(500).body(body));
    let error = fetch_err(&src);
    assert_eq!(http_status(&error), 500);
    let Error::Http { message, .. } = &error else {
        unreachable!()
    };
    assert_eq!(*message, format!("{}{}", "é".repeat(150), "b".repeat(50)));
    for status in [400, 401, 403, 404, 429, 503] {
        server.set("/v2/dcs/", Reply::status(status).body(format!("no: {KEY}")));
        let error = fetch_err(&src);
        assert_eq!(http_status(&error), status);
    }
}

#[test]
fn spec_broken_responses_are_errors() {
    let server = Server::start();
    let src = source(&server);
    let json = Reply::json(r#"{"feature_gates":{}}"#);
    let cases = [
        ("close", Reply::close(), 0),
        ("truncated", json.clone().truncate(5), 0),
        ("garbage status line", Reply::raw("garbage\r\n\r\n"), 0),
        (
            "huge header",
            Reply::raw(format!(
                "HTTP/1.1 200 OK\r\nX: {}\r\n\r\n{{}}",
                "a".repeat(200_000)
            )),
            0,
        ),
        (
            "bad chunk",
            Reply::raw("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"),
            0,
        ),
        (
            "bad gzip",
            Reply::json("not gzip").header("Content-Encoding", "gzip"),
            0,
        ),
        (
            "huge length",
            Reply::raw("HTTP/1.1 200 OK\r\nContent-Length: 999999999999\r\n\r\n{}"),
            200,
        ),
        ("not UTF-8", Reply::ok(vec![b'{', 0xff, 0xfe, b'}']), 200),
    ];
    for (what, reply, status) in cases {
        server.set("/v2/dcs/", reply);
        let error = fetch_err(&src);
        assert_eq!(http_status(&error), status, "{what}: {error}");
    }
    // ureq skips a header line without a colon: a lenient success, no panic.
    server.set(
        "/v2/dcs/",
        Reply::raw("HTTP/1.1 200 OK\r\nno colon\r\n\r\n{}"),
    );
    assert!(matches!(src.fetch(0, None), Ok(SpecFetch::Body(b)) if b == "{}"));
}

#[test]
fn spec_slow_server_times_out() {
    let server = Server::start();
    server.set("/v2/dcs/", Reply::json("{}").delay(3 * SECOND));
    let src = HttpSpecSource::new(
        &format!("{}/v2/dcs", server.url()),
        KEY,
        Duration::from_millis(300),
    );
    let started = Instant::now();
    let error = fetch_err(&src);
    assert_eq!(http_status(&error), 0);
    assert!(started.elapsed() < 2 * SECOND, "{:?}", started.elapsed());
}

#[test]
fn spec_unreachable_server_is_status_0() {
    let port = {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let src = HttpSpecSource::new(&format!("http://127.0.0.1:{port}/v2/dcs"), KEY, SECOND);
    let error = fetch_err(&src);
    assert_eq!(http_status(&error), 0);
    let bad = HttpSpecSource::new("not a url", KEY, SECOND);
    assert_eq!(http_status(&fetch_err(&bad)), 0);
}

/// One list file as the fake list host serves it.
#[derive(Clone)]
struct File {
    content: String,
    file_id: &'static str,
    creation_time: i64,
    /// Answer 500 to downloads.
    fail: bool,
    /// Answer 200 with the whole file, whatever the `Range`.
    ignore_range: bool,
}

fn file(content: &str, file_id: &'static str, creation_time: i64) -> File {
    File {
        content: content.to_owned(),
        file_id,
        creation_time,
        fail: false,
        ignore_range: false,
    }
}

type Files = Arc<Mutex<BTreeMap<String, File>>>;

/// A manifest (POST `/v1/get_id_lists`) and list host (`/lists/<name>`,
/// honouring `Range: bytes=<start>-` with 206) over `files`.
fn list_host(server: &Server, files: &Files) {
    let (base, files) = (server.url(), files.clone());
    server.set_handler(Arc::new(move |r: &Recorded| {
        let files = files.lock().unwrap();
        if r.path() == "/v1/get_id_lists" {
            let manifest: serde_json::Map<String, serde_json::Value> = files
                .iter()
                .map(|(name, f)| {
                    let entry = serde_json::json!({
                        "name": name, "url": format!("{base}/lists/{name}"),
                        "fileID": f.file_id, "size": f.content.len(),
                        "creationTime": f.creation_time,
                    });
                    (name.clone(), entry)
                })
                .collect();
            return Reply::json(&serde_json::Value::Object(manifest).to_string());
        }
        let name = r.path().trim_start_matches("/lists/");
        let Some(f) = files.get(name) else {
            return Reply::status(404);
        };
        let start: usize = r
            .header("range")
            .and_then(|v| v.strip_prefix("bytes=")?.strip_suffix('-')?.parse().ok())
            .unwrap_or(0);
        if f.fail {
            Reply::status(500).body("list store down")
        } else if f.ignore_range || start == 0 {
            Reply::ok(f.content.clone())
        } else {
            let len = f.content.len();
            Reply::status(206)
                .body(f.content.get(start..).unwrap_or("").to_owned())
                .header("Content-Range", &format!("bytes {start}-{}/{len}", len - 1))
        }
    }));
}

fn id_sync(server: &Server) -> IdListSync {
    IdListSync::new(
        &format!("{}/v1/get_id_lists", server.url()),
        KEY,
        5 * SECOND,
    )
}

/// The `Range` headers of the list downloads since the last clear.
fn ranges(server: &Server) -> Vec<(String, String)> {
    server
        .requests_to("/lists/")
        .into_iter()
        .map(|r| {
            (
                r.path().to_owned(),
                r.header("range").unwrap_or("-").to_owned(),
            )
        })
        .collect()
}

fn pair(path: &str, range: &str) -> (String, String) {
    (path.to_owned(), range.to_owned())
}

#[test]
fn id_lists_initial_download_then_nothing_new() {
    let server = Server::start();
    let files = Files::default();
    files.lock().unwrap().extend([
        (
            "company".to_owned(),
            file("+34jaY4Sb\n+pmWkWSBC\n", "f1", 100),
        ),
        ("users".to_owned(), file("+Q1Wha2PJ\r\n", "f2", 100)),
        ("empty".to_owned(), file("", "f3", 100)),
    ]);
    list_host(&server, &files);
    let mut sync = id_sync(&server);
    let outcome = sync.sync();
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    let lists = outcome.lists.expect("lists changed");
    assert_eq!(lists.len(), 3);
    assert!(lists["company"].contains_unit_id("marcos_1"));
    assert!(lists["company"].contains_unit_id("123"));
    assert!(!lists["company"].contains_unit_id("a_user"));
    assert!(lists["users"].contains_unit_id("a_user"));
    assert!(lists["empty"].is_empty());

    let manifest = &server.requests_to("/v1/get_id_lists")[0];
    assert_eq!(manifest.method, "POST");
    assert_eq!(manifest.body_text(), "{}");
    assert_eq!(manifest.header("STATSIG-API-KEY"), Some(KEY));
    assert_eq!(manifest.header("STATSIG-SDK-TYPE"), Some("gatehouse-rust"));
    assert_eq!(
        ranges(&server),
        [
            pair("/lists/company", "bytes=0-"),
            pair("/lists/users", "bytes=0-")
        ]
    );

    server.clear_requests();
    let again = sync.sync();
    assert!(again.lists.is_none() && again.errors.is_empty());
    assert!(ranges(&server).is_empty());
    assert_eq!(sync.current(), lists);
}

#[test]
fn id_lists_grown_file_downloads_only_the_tail() {
    let server = Server::start();
    let files = Files::default();
    files
        .lock()
        .unwrap()
        .insert("company".into(), file("+34jaY4Sb\n", "f1", 100));
    list_host(&server, &files);
    let mut sync = id_sync(&server);
    assert!(sync.sync().lists.unwrap()["company"].contains_unit_id("marcos_1"));

    server.clear_requests();
    if let Some(f) = files.lock().unwrap().get_mut("company") {
        f.content.push_str("+pmWkWSBC\n-34jaY4Sb\n");
        f.creation_time = 200;
    }
    let outcome = sync.sync();
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    let company = &outcome.lists.unwrap()["company"];
    assert!(company.contains_unit_id("123"));
    assert!(!company.contains_unit_id("marcos_1"));
    assert_eq!(ranges(&server), [pair("/lists/company", "bytes=10-")]);
    let request = &server.requests_to("/lists/")[0];
    assert_eq!(request.header("statsig-id-list-file-size"), Some("30"));

    // A newer creationTime alone does not download again (D9).
    server.clear_requests();
    files
        .lock()
        .unwrap()
        .get_mut("company")
        .unwrap()
        .creation_time = 300;
    assert!(sync.sync().lists.is_none());
    assert!(ranges(&server).is_empty());
}

#[test]
fn id_lists_full_answer_to_a_range_request_restarts_the_list() {
    let server = Server::start();
    let files = Files::default();
    files
        .lock()
        .unwrap()
        .insert("l".into(), file("+34jaY4Sb\n", "f1", 100));
    list_host(&server, &files);
    let mut sync = id_sync(&server);
    sync.sync();

    // The server ignores the range and sends all 30 bytes with 200.
    if let Some(f) = files.lock().unwrap().get_mut("l") {
        f.content = "+34jaY4Sb\n+pmWkWSBC\n-34jaY4Sb\n".into();
        f.ignore_range = true;
    }
    server.clear_requests();
    let l = &sync.sync().lists.unwrap()["l"];
    assert!(l.contains_unit_id("123") && !l.contains_unit_id("marcos_1"));
    assert_eq!(ranges(&server), [pair("/lists/l", "bytes=10-")]);

    // 30 bytes are held now (not 40): the next tail starts there.
    if let Some(f) = files.lock().unwrap().get_mut("l") {
        f.content.push_str("+Q1Wha2PJ\n");
        f.ignore_range = false;
    }
    server.clear_requests();
    let l = &sync.sync().lists.unwrap()["l"];
    assert!(l.contains_unit_id("a_user") && l.contains_unit_id("123"));
    assert_eq!(ranges(&server), [pair("/lists/l", "bytes=30-")]);
}

#[test]
fn id_lists_new_file_id_resets_and_stale_one_is_ignored() {
    let server = Server::start();
    let files = Files::default();
    files
        .lock()
        .unwrap()
        .insert("l".into(), file("+34jaY4Sb\n+pmWkWSBC\n", "f1", 100));
    list_host(&server, &files);
    let mut sync = id_sync(&server);
    sync.sync();

    server.clear_requests();
    files
        .lock()
        .unwrap()
        .insert("l".into(), file("+Q1Wha2PJ\n", "f2", 150));
    let l = &sync.sync().lists.unwrap()["l"];
    assert!(l.contains_unit_id("a_user"));
    assert!(!l.contains_unit_id("marcos_1") && !l.contains_unit_id("123"));
    assert_eq!(ranges(&server), [pair("/lists/l", "bytes=0-")]);

    // An older file from a stale manifest changes nothing.
    server.clear_requests();
    files
        .lock()
        .unwrap()
        .insert("l".into(), file("+34jaY4Sb\n+34jaY4Sb\n", "f0", 90));
    assert!(sync.sync().lists.is_none());
    assert!(ranges(&server).is_empty());
    assert!(sync.current()["l"].contains_unit_id("a_user"));

    // A recreated empty file empties the list without a download.
    files
        .lock()
        .unwrap()
        .insert("l".into(), file("", "f3", 200));
    assert!(sync.sync().lists.unwrap()["l"].is_empty());
    assert!(ranges(&server).is_empty());
}

#[test]
fn id_lists_absent_from_the_manifest_are_deleted() {
    let server = Server::start();
    let files = Files::default();
    files.lock().unwrap().extend([
        ("a".to_owned(), file("+34jaY4Sb\n", "fa", 1)),
        ("b".to_owned(), file("+Q1Wha2PJ\n", "fb", 1)),
    ]);
    list_host(&server, &files);
    let mut sync = id_sync(&server);
    assert_eq!(sync.sync().lists.unwrap().len(), 2);
    files.lock().unwrap().remove("b");
    let lists = sync.sync().lists.unwrap();
    assert_eq!(lists.keys().collect::<Vec<_>>(), ["a"]);
    assert!(lists["a"].contains_unit_id("marcos_1"));
}

#[test]
fn id_lists_failed_download_keeps_old_content_while_others_update() {
    let server = Server::start();
    let files = Files::default();
    files.lock().unwrap().extend([
        ("a".to_owned(), file("+34jaY4Sb\n", "fa", 1)),
        ("b".to_owned(), file("+pmWkWSBC\n", "fb", 1)),
    ]);
    list_host(&server, &files);
    let mut sync = id_sync(&server);
    sync.sync();

    {
        let mut files = files.lock().unwrap();
        files.get_mut("a").unwrap().content.push_str("+Q1Wha2PJ\n");
        let b = files.get_mut("b").unwrap();
        b.content.push_str("-pmWkWSBC\n");
        b.fail = true;
        let mut c = file("+Q1Wha2PJ\n", "fc", 1);
        c.fail = true;
        files.insert("c".into(), c);
    }
    let outcome = sync.sync();
    let lists = outcome.lists.expect("a changed");
    assert!(lists["a"].contains_unit_id("a_user"));
    assert!(
        lists["b"].contains_unit_id("123"),
        "b keeps its old content"
    );
    assert!(
        !lists.contains_key("c"),
        "a new list that failed stays absent"
    );
    assert_eq!(outcome.errors.len(), 2, "{:?}", outcome.errors);
    for (error, name) in outcome.errors.iter().zip(["b", "c"]) {
        let Error::Http {
            url,
            status,
            message,
        } = error
        else {
            panic!("{error:?}")
        };
        assert_eq!(
            (url.as_str(), *status),
            (format!("{}/lists/{name}", server.url()).as_str(), 500)
        );
        assert!(message.contains(&format!("`{name}`")) && message.contains("list store down"));
    }

    // Once the store is back, b resumes from the bytes it had.
    server.clear_requests();
    for f in files.lock().unwrap().values_mut() {
        f.fail = false;
    }
    let outcome = sync.sync();
    assert!(outcome.errors.is_empty(), "{:?}", outcome.errors);
    let lists = outcome.lists.unwrap();
    assert!(!lists["b"].contains_unit_id("123"));
    assert!(lists["c"].contains_unit_id("a_user"));
    assert_eq!(
        ranges(&server),
        [pair("/lists/b", "bytes=10-"), pair("/lists/c", "bytes=0-")]
    );
}

#[test]
fn id_lists_bodies_must_start_with_a_sign() {
    let server = Server::start();
    let files = Files::default();
    files.lock().unwrap().extend([
        ("html".to_owned(), file("<html>+34jaY4Sb\n</html>", "f1", 1)),
        ("ok".to_owned(), file(" \n+34jaY4Sb\n", "f2", 1)),
    ]);
    list_host(&server, &files);
    let outcome = id_sync(&server).sync();
    let lists = outcome.lists.unwrap();
    assert!(lists["ok"].contains_unit_id("marcos_1"));
    assert!(!lists.contains_key("html"));
    assert!(
        matches!(&outcome.errors[..], [Error::Rejected { source, .. }] if source.ends_with("/lists/html")),
        "{:?}",
        outcome.errors
    );
}

#[test]
fn id_lists_manifest_failures_change_nothing() {
    let server = Server::start();
    let url = format!("{}/v1/get_id_lists/{KEY}.json", server.url());
    let mut sync = IdListSync::new(&url, KEY, SECOND);
    let cases = [
        Reply::status(500).body(format!("bad key {KEY}")),
        Reply::json("[1,2]"),
        Reply::json(r#"{"a":{"url":"u","size":"big","creationTime":1}}"#),
        Reply::close(),
    ];
    for reply in cases {
        server.set("/", reply);
        let outcome = sync.sync();
        assert!(outcome.lists.is_none());
        let [error] = &outcome.errors[..] else {
            panic!("{:?}", outcome.errors)
        };
        let shown = format!("{error} {error:?}");
        assert!(
            !shown.contains(KEY) && shown.contains("<sdk-key>"),
            "{shown}"
        );
    }
}

#[test]
fn id_list_files_load_and_report_missing_files() {
    let dir = std::env::temp_dir().join(format!("gatehouse-idlists-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (one, two) = (dir.join("one.txt"), dir.join("two.txt"));
    std::fs::write(&one, "+34jaY4Sb\n+pmWkWSBC\n").unwrap();
    std::fs::write(&two, "-pmWkWSBC\n+Q1Wha2PJ\n").unwrap();
    let lists = load_id_list_files(&[
        ("x".to_owned(), one.clone()),
        ("x".to_owned(), two.clone()),
        ("y".to_owned(), two),
    ])
    .unwrap();
    assert!(lists["x"].contains_unit_id("marcos_1") && lists["x"].contains_unit_id("a_user"));
    assert!(!lists["x"].contains_unit_id("123"));
    assert_eq!(lists["y"].len(), 1);

    let missing: PathBuf = dir.join("missing.txt");
    let error = load_id_list_files(&[("x".to_owned(), one), ("z".to_owned(), missing.clone())]);
    assert!(
        matches!(&error, Err(Error::Io { path, .. }) if *path == missing.display().to_string()),
        "{error:?}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn support_server_routes_records_and_stops() {
    use flate2::{write::GzEncoder, Compression};
    use std::io::Write;
    let mut server = Server::start();
    server.set("/a", Reply::ok("short"));
    server.set("/a/b", Reply::status(202).body("long").header("X-T", "1"));
    let agent = ureq::AgentBuilder::new().timeout(5 * SECOND).build();
    let base = server.url();
    let get = |path: &str| agent.get(&format!("{base}{path}")).call().map_err(Box::new);
    assert_eq!(get("/a/x").unwrap().into_string().unwrap(), "short");
    let long = get("/a/b?q=1").unwrap();
    assert_eq!((long.status(), long.header("x-t")), (202, Some("1")));
    assert!(matches!(
        get("/nothing").map_err(|e| *e),
        Err(ureq::Error::Status(404, _))
    ));

    let mut gz = GzEncoder::new(Vec::new(), Compression::default());
    gz.write_all(br#"{"events":[1]}"#).unwrap();
    let body = gz.finish().unwrap();
    let posted = agent
        .post(&format!("{base}/log"))
        .set("Content-Encoding", "gzip")
        .send_bytes(&body);
    assert!(matches!(posted, Err(ureq::Error::Status(404, _))));
    let seen = server.wait_for_requests(4, SECOND);
    assert_eq!(seen.len(), 4);
    assert_eq!(seen[1].query_param("q"), Some("1"));
    assert_eq!((seen[3].method.as_str(), seen[3].path()), ("POST", "/log"));
    assert_eq!(seen[3].body_json(), serde_json::json!({"events": [1]}));

    server.set_handler(Arc::new(|r: &Recorded| Reply::ok(r.url.clone())));
    assert_eq!(get("/a/b").unwrap().into_string().unwrap(), "/a/b");
    server.stop();
    assert!(get("/a").is_err());
}
