//! Any text into `User::from_json_str`, and the user agent parser and ID-list
//! parser, which read user-controlled strings too.
#![no_main]

use gatehouse_core::idlist::IdList;
use gatehouse_core::ua::parse_user_agent;
use gatehouse_core::User;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    if let Err(e) = User::from_json_str(&text) {
        assert!(e.to_string().contains("at `"), "error without a path: {e}");
    }
    let _ = parse_user_agent(&text);
    let _ = IdList::parse(&text).len();
});
