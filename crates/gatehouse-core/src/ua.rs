//! First-party user-agent parser (dcs-semantics §7.2).
//!
//! STUB: interface only; the implementation is being written.

/// The four fields `ua_based` conditions read. Missing versions are `"0.0.0"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserAgentInfo {
    pub os_name: String,
    pub os_version: String,
    pub browser_name: String,
    pub browser_version: String,
}

/// Parse a user-agent string. Total: every input gives an answer.
pub fn parse_user_agent(ua: &str) -> UserAgentInfo {
    let _ = ua;
    UserAgentInfo {
        os_name: "Other".into(),
        os_version: "0.0.0".into(),
        browser_name: "Other".into(),
        browser_version: "0.0.0".into(),
    }
}
