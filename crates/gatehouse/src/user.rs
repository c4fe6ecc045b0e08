//! Users as the runtime holds them: the evaluation user plus what events
//! and dedupe need, computed once.

use crate::Error;
use gatehouse_core::User as CoreUser;
use serde_json::{Map, Value};
use std::hash::{DefaultHasher, Hash, Hasher};

/// A user, parsed once and reusable across calls and threads.
#[derive(Debug)]
pub struct User {
    pub(crate) core: CoreUser,
    /// The loggable user JSON (dcs-semantics §9.2) without
    /// `statsigEnvironment` when the user has none of its own.
    pub(crate) loggable: String,
    pub(crate) has_environment: bool,
    /// Dedupe identity: userID and every custom ID value (§9.3).
    pub(crate) identity: u64,
}

/// The user keys that events carry (privateAttributes never do).
const LOGGED_KEYS: [&str; 10] = [
    "userID",
    "customIDs",
    "email",
    "ip",
    "userAgent",
    "country",
    "locale",
    "appVersion",
    "custom",
    "statsigEnvironment",
];

impl User {
    /// Parse a user from its JSON text (the reference's user shape).
    pub fn from_json_str(json: &str) -> Result<User, Error> {
        let value: Value = serde_json::from_str(json).map_err(|e| {
            Error::Core(gatehouse_core::Error::User {
                path: ".".into(),
                message: e.to_string(),
            })
        })?;
        User::from_json(&value)
    }

    /// Build a user from a JSON object (see [`gatehouse_core::User::from_json`]).
    pub fn from_json(value: &Value) -> Result<User, Error> {
        let core = CoreUser::from_json(value)?;
        // `from_json` accepted it, so it is an object.
        let obj = value.as_object().cloned().unwrap_or_default();
        let mut logged = Map::new();
        for key in LOGGED_KEYS {
            match obj.get(key) {
                None | Some(Value::Null) => {}
                Some(v) => {
                    logged.insert(key.to_owned(), v.clone());
                }
            }
        }
        let has_environment = logged.contains_key("statsigEnvironment");
        let mut h = DefaultHasher::new();
        core.user_id_string().hash(&mut h);
        for id in core.custom_id_strings() {
            id.hash(&mut h);
        }
        Ok(User {
            core,
            loggable: Value::Object(logged).to_string(),
            has_environment,
            identity: h.finish(),
        })
    }

    /// The evaluation user.
    pub fn core(&self) -> &CoreUser {
        &self.core
    }

    /// The user JSON as events carry it; `environment` (the SDK's
    /// `{"tier": …}` object text) is added when the user has none.
    pub(crate) fn loggable_json(&self, environment: Option<&str>) -> String {
        match environment {
            Some(env) if !self.has_environment => {
                // `loggable` is always a serialized object: `{` … `}`.
                let body = &self.loggable[..self.loggable.len() - 1];
                let sep = if body.len() > 1 { "," } else { "" };
                format!("{body}{sep}\"statsigEnvironment\":{env}}}")
            }
            _ => self.loggable.clone(),
        }
    }
}
