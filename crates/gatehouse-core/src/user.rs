//! Users (dcs-semantics §6): parsed once, with every field's facets
//! precomputed, then evaluated against any number of specs.

use crate::hash::{key_hash, Key, KeyRef};
use crate::spec::{FieldKey, IdType, TopField, UaField};
use crate::ua::{parse_user_agent, UserAgentInfo, MAX_USER_AGENT_LEN};
use crate::value::DynValue;
use crate::Error;
use serde_json::{Map, Value};
use std::sync::OnceLock;

/// A user, in the reference's user JSON shape.
///
/// `Send + Sync`: one user may be evaluated from many threads at once. The
/// parsed user agent is computed on first use and cached.
#[derive(Debug, Default)]
pub struct User {
    user_id: DynValue,
    email: DynValue,
    ip: DynValue,
    user_agent: DynValue,
    country: DynValue,
    locale: DynValue,
    app_version: DynValue,
    custom_ids: FieldMap,
    custom: FieldMap,
    private_attributes: FieldMap,
    environment: Option<FieldMap>,
    /// Boxed: most evaluations never read it, and inline it would double the
    /// user's size (and the cache lines a lookup touches).
    ua: OnceLock<Option<Box<[DynValue; 4]>>>,
}

impl User {
    /// Parse a user from its JSON text.
    pub fn from_json_str(json: &str) -> Result<User, Error> {
        let value: Value =
            serde_json::from_str(json).map_err(|e| Error::user(".", e.to_string()))?;
        User::from_json(&value)
    }

    /// Build a user from a JSON object: `userID`, `customIDs`, `email`, `ip`,
    /// `userAgent`, `country`, `locale`, `appVersion`, `custom`,
    /// `privateAttributes`, `statsigEnvironment`. Scalar fields accept any
    /// JSON (numbers are common IDs); the maps must be objects or null.
    /// Unknown keys are ignored, as the reference ignores them.
    pub fn from_json(value: &Value) -> Result<User, Error> {
        let obj = value.as_object().ok_or_else(|| {
            Error::user(
                ".",
                format!("expected an object, found {}", type_name(value)),
            )
        })?;
        let scalar = |key: &str| obj.get(key).map(DynValue::from_json).unwrap_or_default();
        Ok(User {
            user_id: scalar("userID"),
            email: scalar("email"),
            ip: scalar("ip"),
            user_agent: scalar("userAgent"),
            country: scalar("country"),
            locale: scalar("locale"),
            app_version: scalar("appVersion"),
            custom_ids: map_field(obj, "customIDs")?.unwrap_or_default(),
            custom: map_field(obj, "custom")?.unwrap_or_default(),
            private_attributes: map_field(obj, "privateAttributes")?.unwrap_or_default(),
            environment: map_field(obj, "statsigEnvironment")?,
            ua: OnceLock::new(),
        })
    }

    fn top(&self, f: TopField) -> &DynValue {
        match f {
            TopField::UserId => &self.user_id,
            TopField::Email => &self.email,
            TopField::Ip => &self.ip,
            TopField::Country => &self.country,
            TopField::Locale => &self.locale,
            TopField::AppVersion => &self.app_version,
            TopField::UserAgent => &self.user_agent,
        }
    }

    /// `user_field` lookup (dcs-semantics §6.2).
    pub(crate) fn field(&self, key: &FieldKey) -> Option<&DynValue> {
        let lower = key.lower.as_ref().map(Key::as_ref);
        self.lookup(key.raw.as_ref(), lower, key.top, key.alias)
    }

    fn lookup(
        &self,
        raw: KeyRef<'_>,
        lower: Option<KeyRef<'_>>,
        top: Option<TopField>,
        alias: Option<TopField>,
    ) -> Option<&DynValue> {
        if let Some(top) = top {
            let v = self.top(top);
            if v.string_facet().is_some_and(|s| !s.is_empty()) {
                return Some(v);
            }
        }
        if let Some(v) = lookup2(&self.custom, raw, lower) {
            return Some(v);
        }
        if let Some(v) = lookup2(&self.private_attributes, raw, lower) {
            return Some(v);
        }
        alias.map(|a| self.top(a))
    }

    /// The user's own `statsigEnvironment[field]` (exact key).
    pub(crate) fn environment_field(&self, raw: &Key) -> Option<&DynValue> {
        self.environment.as_ref()?.get(raw.as_ref())
    }

    /// The unit id for an id type (dcs-semantics §6.3).
    pub(crate) fn unit_id(&self, id_type: &IdType) -> Option<&DynValue> {
        if id_type.is_user_id {
            return if self.user_id.is_null() {
                None
            } else {
                Some(&self.user_id)
            };
        }
        let lower = id_type.lower.as_ref().map(Key::as_ref);
        lookup2(&self.custom_ids, id_type.raw.as_ref(), lower)
    }

    /// The `userID` as a string (numbers in their string form), if set.
    pub fn user_id_string(&self) -> Option<&str> {
        self.user_id.string_facet()
    }

    /// The custom ID values as strings, ordered by custom ID name.
    pub fn custom_id_strings(&self) -> impl Iterator<Item = &str> {
        let mut ids: Vec<(&str, &str)> = self
            .custom_ids
            .entries
            .iter()
            .filter_map(|(k, v)| Some((&*k.text, v.string_facet()?)))
            .collect();
        ids.sort_unstable();
        ids.into_iter().map(|(_, v)| v)
    }

    /// The unit id's string facet, `""` when absent (used for hashing).
    pub(crate) fn unit_id_str(&self, id_type: &IdType) -> &str {
        self.unit_id(id_type)
            .and_then(DynValue::string_facet)
            .unwrap_or("")
    }

    /// The IP for country lookups: the `user_field` lookup of `ip`, so a
    /// `custom.ip` counts when the top-level one is empty, as in the reference.
    pub(crate) fn ip_str(&self) -> Option<&str> {
        self.lookup(("ip", key_hash("ip")), None, Some(TopField::Ip), None)?
            .string_facet()
    }

    /// A field parsed from the user agent, cached per user. The user agent
    /// itself is looked up like a field (top level if non-empty, then
    /// `custom`, then `privateAttributes`).
    pub(crate) fn ua_field(&self, field: UaField) -> Option<&DynValue> {
        let parsed = self.ua.get_or_init(|| {
            // The `user_field` lookup of `userAgent`, as in the reference.
            let raw = ("userAgent", key_hash("userAgent"));
            let lower = ("useragent", key_hash("useragent"));
            let ua = self
                .lookup(raw, Some(lower), Some(TopField::UserAgent), None)?
                .string_facet()?;
            if ua.len() > MAX_USER_AGENT_LEN {
                return None;
            }
            let UserAgentInfo {
                os_name,
                os_version,
                browser_name,
                browser_version,
            } = parse_user_agent(ua);
            Some(Box::new(
                [os_name, os_version, browser_name, browser_version]
                    .map(|s| DynValue::from_string(&s)),
            ))
        });
        let parsed = parsed.as_ref()?;
        Some(&parsed[field as usize])
    }
}

fn lookup2<'u>(
    map: &'u FieldMap,
    raw: KeyRef<'_>,
    lower: Option<KeyRef<'_>>,
) -> Option<&'u DynValue> {
    if map.is_empty() {
        return None;
    }
    map.get(raw).or_else(|| lower.and_then(|l| map.get(l)))
}

fn map_field(obj: &Map<String, Value>, key: &str) -> Result<Option<FieldMap>, Error> {
    match obj.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Object(m)) => Ok(Some(FieldMap::new(
            m.iter()
                .map(|(k, v)| (Key::new(k), DynValue::from_json(v)))
                .collect(),
        ))),
        Some(other) => Err(Error::user(
            key,
            format!("expected an object or null, found {}", type_name(other)),
        )),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// A user's small string-keyed map (customIDs, custom, …), probed with keys
/// whose hash was computed at spec load: entries are sorted by hash, so a
/// probe compares `u64`s and touches a string only on a hash match.
#[derive(Debug, Default)]
struct FieldMap {
    entries: Vec<(Key, DynValue)>,
}

impl FieldMap {
    fn new(mut entries: Vec<(Key, DynValue)>) -> FieldMap {
        entries.sort_unstable_by_key(|(k, _)| k.hash);
        FieldMap { entries }
    }

    fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn get(&self, (text, hash): KeyRef<'_>) -> Option<&DynValue> {
        let start = if self.entries.len() <= 8 {
            0
        } else {
            self.entries.partition_point(|(k, _)| k.hash < hash)
        };
        self.entries[start..]
            .iter()
            .take_while(|(k, _)| k.hash <= hash)
            .find(|(k, _)| k.hash == hash && &*k.text == text)
            .map(|(_, v)| v)
    }
}
