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
    /// The parts of the exposure dedupe identity (§9.3).
    pub(crate) identity: Identity,
}

/// A user's exposure dedupe identity as the reference builds it
/// (`UserData::create_exposure_dedupe_user_hash`): the `userID`, the
/// `stableID` custom ID, the unit ID of the evaluation's ID type and the
/// *sum* of every custom ID value's hash. Custom ID names only matter
/// through the `stableID` and unit ID lookups, and values are compared by
/// their text (a string's content, any other JSON value's serialization,
/// so `123` and `"123"` are the same ID). An absent value hashes to 0.
#[derive(Debug)]
pub(crate) struct Identity {
    user_id: u64,
    stable_id: u64,
    custom_id_sum: u64,
    /// Custom ID name → value hash, in input order.
    custom_ids: Vec<(String, u64)>,
}

impl Identity {
    fn new(obj: &Map<String, Value>) -> Identity {
        let user_id = obj
            .get("userID")
            .filter(|v| !v.is_null())
            .map_or(0, value_hash);
        let custom_ids: Vec<(String, u64)> = match obj.get("customIDs") {
            Some(Value::Object(ids)) => ids
                .iter()
                .map(|(k, v)| (k.clone(), value_hash(v)))
                .collect(),
            _ => Vec::new(),
        };
        let custom_id_sum = custom_ids
            .iter()
            .fold(0u64, |sum, (_, h)| sum.wrapping_add(*h));
        let mut identity = Identity {
            user_id,
            stable_id: 0,
            custom_id_sum,
            custom_ids,
        };
        identity.stable_id = identity.unit_id_hash("stableID");
        identity
    }

    /// The hash of the unit ID for `id_type`: `userID` for any casing of
    /// "userid", else the custom ID of that name, else of its lowercase
    /// name, else 0.
    fn unit_id_hash(&self, id_type: &str) -> u64 {
        if id_type.eq_ignore_ascii_case("userid") {
            return self.user_id;
        }
        let find = |name: &str| {
            self.custom_ids
                .iter()
                .find(|(k, _)| k == name)
                .map(|(_, h)| *h)
        };
        find(id_type)
            .or_else(|| find(&id_type.to_lowercase()))
            .unwrap_or(0)
    }

    /// The identity of an exposure whose evaluation has `id_type`.
    pub(crate) fn for_id_type(&self, id_type: &str) -> u64 {
        let mut h = DefaultHasher::new();
        (
            self.user_id,
            self.stable_id,
            self.unit_id_hash(id_type),
            self.custom_id_sum,
        )
            .hash(&mut h);
        h.finish()
    }
}

/// A user value's hash, by its text.
fn value_hash(v: &Value) -> u64 {
    let mut h = DefaultHasher::new();
    match v {
        Value::String(s) => s.hash(&mut h),
        other => other.to_string().hash(&mut h),
    }
    h.finish()
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
        Ok(User {
            core,
            loggable: Value::Object(logged).to_string(),
            has_environment,
            identity: Identity::new(&obj),
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
