//! Deterministic generators of varied users in the reference's user JSON shape.
//!
//! Shape (`StatsigUserData`'s serde form): `userID`, `customIDs`, `email`, `ip`, `userAgent`,
//! `country`, `locale`, `appVersion`, `custom`, `privateAttributes`, `statsigEnvironment`; any
//! JSON value is accepted for each field or map entry.
//!
//! Randomness comes from a local splitmix64 ([`Rng`]), so a seed always gives the same users on
//! every platform. Objects nested inside generated values are built with their keys in byte
//! order: the reference stringifies arrays with `serde_json` in `preserve_order` mode, so an
//! array holding an object with unsorted keys would make its string facet depend on input key
//! order (see docs/CONFORMANCE.md).
//!
//! IPv4-looking strings whose value is 2^32 or more (e.g. `999.1.1.1`, `256.0.0.0`) make the
//! reference's country lookup index out of bounds and panic; [`generate_users`] and
//! [`generate_users_for_specs`] never emit them ([`ip_is_reference_safe`]).
//! [`malformed_ip_users`] collects them for gatehouse-only robustness tests.

use serde_json::{json, Map, Value};
use std::collections::BTreeMap;

/// splitmix64: tiny, fast, good enough for test data, identical everywhere.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// A number in `0..n` (`n` > 0).
    pub fn below(&mut self, n: usize) -> usize {
        // The modulo bias is irrelevant for test data.
        (self.next_u64() % n.max(1) as u64) as usize
    }

    /// True with probability `percent`/100.
    pub fn chance(&mut self, percent: u64) -> bool {
        self.next_u64() % 100 < percent
    }

    /// A uniformly chosen element of a non-empty slice.
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Real user-agent strings (most from the reference's own UA test data), plus an empty one.
pub const USER_AGENTS: &[&str] = &[
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36 Edg/140.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/133.0.0.0 Safari/537.36 OPR/118.0.0.0",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/134.0.0.0 YaBrowser/25.4.0.0 Safari/537.36",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:139.0) Gecko/20100101 Firefox/139.0",
    "Mozilla/5.0 (Windows NT 6.1; WOW64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/49.0.2623.112 Safari/537.36",
    "Mozilla/5.0 (Windows NT 5.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/49.0.2623.112 Safari/537.36",
    "Mozilla/4.0 (compatible; MSIE 8.0; Windows NT 5.1; Trident/4.0; .NET CLR 2.0.50727)",
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64; Xbox; Xbox Series X) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/48.0.2564.82 Safari/537.36 Edge/20.02",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.3.1 Safari/605.1.15",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:138.0) Gecko/20100101 Firefox/138.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) CriOS/140 Version/11.1.1 Safari/605.1.15",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:109.0) Gecko/20100101 Firefox/115.0",
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/109.0.5414.74 Safari/537.36 Prerender (+https://github.com/prerender/prerender)",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 10_3_1 like Mac OS X) AppleWebKit/603.1.30 (KHTML, like Gecko) Version/10.0 Mobile/14E304 Safari/602.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_6_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) EdgiOS/139.0.3405.125 Version/18.0 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (iPhone14,2; CPU iPhone OS 15_6_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Mohegan Sun/4.7.4",
    "Mozilla/5.0 (iPad15,3; CPU OS 18_3_2 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Mobile/15E148 Resorts/4.7.5",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 10_3 like Mac OS X) AppleWebKit/602.1.50 (KHTML, like Gecko) CriOS/56.0.2924.75 Mobile/14E5239e Safari/602.1",
    "Mozilla/5.0 (Apple-iPhone7C2/1202.466; U; CPU like Mac OS X; en) AppleWebKit/420+ (KHTML, like Gecko) Version/3.0 Mobile/1A543 Safari/419.3",
    "Mozilla/5.0 (Linux; Android 15; Pixel 8 Pro Build/AP4A.250105.002; wv) AppleWebKit/537.36 (KHTML, like Gecko) Version/4.0 Chrome/132.0.6834.163 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 13; SM-S908U) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/111.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 5.0.2; SAMSUNG SM-T550 Build/LRX22G) AppleWebKit/537.36 (KHTML, like Gecko) SamsungBrowser/3.3 Chrome/38.0.2125.102 Safari/537.36",
    "Mozilla/5.0 (Linux; Android 10; JNY-LX1; HMSCore 6.15.0.302) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/114.0.5735.196 HuaweiBrowser/15.0.4.312 Mobile Safari/537.36",
    "Mozilla/5.0 (Linux; Android 10; K) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Mobile Safari/537.36 OPR/83.0.0.0",
    "Mozilla/5.0 (Android 14; Mobile; rv:128.0) Gecko/128.0 Firefox/128.0",
    "Dalvik/2.1.0 (Linux; U; Android 15; 24091RPADG Build/AQ3A.240801.002)",
    "Mozilla/5.0 (CrKey armv7l 1.5.16041) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/31.0.1650.0 Safari/537.36",
    "Mozilla/5.0 (X11; CrOS x86_64 14541.0.0) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Safari/537.36",
    "AppleTV14,1/16.1",
    "ChatGPT/1.2025.245 (iOS 18.6.2; iPhone14,5; build 17507616669)",
    "ChatGPT/1.2025.315 (Android 15; V2225; build 2531527)",
    "ChatGPT/35.1.2 CFNetwork/3826.400.120 Darwin/24.3.0",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (compatible; Yahoo! Slurp; http://help.yahoo.com/help/us/ysearch/slurp)",
    "Better Stack Better Uptime Bot Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/130.0.0.0 Safari/537.36",
    "FortniteGame/++Fortnite+Release-37.20-CL-45679055 (http-eventloop) PS5/ (sceHttp2)",
    "axios/1.6.7,6468",
    "curl/8.4.0",
    "okhttp/4.12.0",
    "",
];

/// Real-looking IPv4 addresses spread over many countries (and a few without a country).
pub const IPV4_ADDRESSES: &[&str] = &[
    "1.0.0.0",
    "8.8.8.8",
    "81.2.69.142",
    "24.48.0.1",
    "73.162.10.5",
    "2.16.0.1",
    "5.255.255.5",
    "31.13.72.36",
    "41.190.3.1",
    "46.4.0.1",
    "49.51.0.1",
    "58.14.0.1",
    "61.135.169.121",
    "77.88.55.60",
    "85.214.132.117",
    "91.198.174.192",
    "101.32.0.1",
    "103.21.244.0",
    "110.33.0.1",
    "114.114.114.114",
    "117.18.232.200",
    "133.242.0.1",
    "139.130.4.5",
    "150.101.0.1",
    "175.45.176.1",
    "177.67.80.1",
    "186.192.90.5",
    "190.210.0.1",
    "196.25.1.1",
    "197.210.0.1",
    "200.147.67.142",
    "202.12.27.33",
    "203.0.113.1",
    "210.140.92.183",
    "212.58.244.20",
    "213.180.204.3",
    "217.160.0.1",
    "223.5.5.5",
    "127.0.0.1",
    "0.0.0.0",
    "10.0.0.1",
    "192.168.1.1",
    "255.255.255.255",
];

/// IPv6 addresses (the reference's country lookup is IPv4-only).
pub const IPV6_ADDRESSES: &[&str] = &["2001:4860:4860::8888", "::1", "fe80::1ff:fe23:4567:890a"];

/// Malformed IPs the reference handles without panicking.
pub const SAFE_MALFORMED_IPS: &[&str] = &[
    "",
    "1.2.3",
    "1.2.3.4.5",
    "not-an-ip",
    " 8.8.8.8",
    "8.8.8.8 ",
    "01.002.0003.4",
    "-1.2.3.4",
    "1..2.3",
    "1.2.3.x",
];

/// Malformed IPv4 strings the reference resolves to a country (it parses each
/// part as an `i64`, so a sign or an octet above 255 still yields a number)
/// and gatehouse deliberately does not: a documented deviation
/// (docs/CONFORMANCE.md), so gatehouse-only tests.
pub const DEVIATING_IPS: &[&str] = &["+8.8.8.8", "8.8.+8.8", "1.256.0.0", "8.8.8.300"];

/// Malformed IPv4 strings that panic the reference (value ≥ 2^32): gatehouse-only tests.
pub const PANICKING_IPS: &[&str] = &[
    "999.1.1.1",
    "256.0.0.0",
    "0.0.0.4294967296",
    "255.255.255.256",
    "4294967296.0.0.0",
];

const SPECIAL_USER_IDS: &[&str] = &[
    "9",
    "a_user",
    "random_user_99",
    "user-not-in-layer-holdout",
    "marcos_1",
    "123",
    "4",
    "",
];

const UNICODE_USER_IDS: &[&str] = &[
    "ユーザー42",
    "用户_七",
    "unicode 🗻",
    "Ünïcödé-Üser",
    "İstanbul",
    "ß-straße",
    "Ωμέγα",
    "\u{200b}zero-width",
];

const EMAILS: &[&str] = &[
    "a_user@statsig.com",
    "someone@gmail.com",
    "UPPER.CASE@STATSIG.COM",
    "jane.doe@example.org",
    "dev+tag@statsig.io",
    "no-at-sign",
    "",
    "ünï@exämple.de",
];

const COUNTRIES: &[&str] = &[
    "US", "GB", "CA", "DE", "FR", "JP", "IN", "BR", "CN", "NZ", "us", "gb", "",
];

const LOCALES: &[&str] = &[
    "en_US",
    "en-US",
    "en_GB",
    "fr_FR",
    "de-DE",
    "ja_JP",
    "zh-Hans-CN",
    "pt_BR",
    "",
    "EN_us",
];

const APP_VERSIONS: &[&str] = &[
    "1.3",
    "1.2.3.4",
    "2.0.0-beta",
    "10",
    "1.2.3",
    "0.0.1",
    "1.3.0",
    "3.10.2",
    "v1.0",
    "1..2",
    "",
    "1.2.3.4.5.6",
];

const TIERS: &[&str] = &["production", "staging", "development", "Staging", "qa"];

const TIMESTAMPS: &[&str] = &[
    "2023-01-01T00:00:00Z",
    "2024-06-30T12:34:56.789+02:00",
    "2023-01-01 00:00:00",
    "2023-01-01",
    "1672531200000",
    "1672531200",
];

/// Users for a spec-independent run.
pub fn generate_users(seed: u64, n: usize) -> Vec<Value> {
    let mut rng = Rng::new(seed);
    let harvest = Harvest::default();
    (0..n).map(|i| random_user(&mut rng, i, &harvest)).collect()
}

/// Users of [`generate_users`]' kind, about two thirds of them carrying one to three target
/// values harvested from `specs_json`'s `condition_map` (so `any`/`eq`/`str_contains_*`
/// conditions match for a good fraction). Falls back to [`generate_users`] if the specs are not
/// JSON.
pub fn generate_users_for_specs(specs_json: &str, seed: u64, n: usize) -> Vec<Value> {
    let harvest = match serde_json::from_str::<Value>(specs_json) {
        Ok(specs) => harvest_targets(&specs),
        Err(_) => Harvest::default(),
    };
    let mut rng = Rng::new(seed);
    (0..n).map(|i| random_user(&mut rng, i, &harvest)).collect()
}

/// Users whose `ip` panics the reference or deviates on purpose (see [`PANICKING_IPS`],
/// [`DEVIATING_IPS`]), with and without a `country` override, for gatehouse-only tests.
/// Every third user (index `3k`) has only the malformed `ip`.
pub fn malformed_ip_users() -> Vec<Value> {
    let mut users = Vec::new();
    for (i, ip) in PANICKING_IPS.iter().chain(DEVIATING_IPS).enumerate() {
        users.push(json!({"userID": format!("malformed-ip-{i}"), "ip": ip}));
        users.push(json!({"userID": format!("malformed-ip-{i}-c"), "ip": ip, "country": "US"}));
        users.push(json!({"ip": ip, "custom": {"country": "GB"}}));
    }
    users
}

/// False for IPv4-shaped strings that panic the reference's country lookup: four
/// dot-separated parts that all parse as `i64` and combine to 2^32 or more (or overflow).
pub fn ip_is_reference_safe(ip: &str) -> bool {
    let parts: Vec<&str> = ip.split('.').collect();
    if parts.len() != 4 {
        return true;
    }
    let nums: Vec<Option<i64>> = parts.iter().map(|p| p.parse::<i64>().ok()).collect();
    let [Some(a), Some(b), Some(c), Some(d)] = nums[..] else {
        return true;
    };
    // The reference computes `a * 256^3 + (b << 16) + (c << 8) + d` in i64 and indexes its
    // range table with the result; only values below 2^32 stay in bounds. Terms that would
    // wrap (or overflow-panic in debug builds) count as unsafe.
    let in_range = a.unsigned_abs() < (1 << 38)
        && b.unsigned_abs() < (1 << 46)
        && c.unsigned_abs() < (1 << 54)
        && d.unsigned_abs() < (1 << 61);
    let value = i128::from(a) * (1 << 24)
        + i128::from(b) * (1 << 16)
        + i128::from(c) * (1 << 8)
        + i128::from(d);
    in_range && value < (1_i128 << 32)
}

// ------------------------------------------------------------------------------ harvesting

/// Target values found in a spec's `condition_map`.
#[derive(Clone, Debug, Default)]
pub struct Harvest {
    /// `user_field` / `ip_based` / `ua_based` conditions: field name → target values.
    pub fields: BTreeMap<String, Vec<Value>>,
    /// `unit_id` conditions: id type → target values.
    pub unit_ids: BTreeMap<String, Vec<Value>>,
    /// `environment_field` conditions: field name → target values.
    pub environment: BTreeMap<String, Vec<Value>>,
}

impl Harvest {
    fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.unit_ids.is_empty() && self.environment.is_empty()
    }
}

/// At most this many values are kept per condition (some fixtures hold huge target lists).
const MAX_VALUES_PER_CONDITION: usize = 40;

/// Collects the string and number target values of every condition, grouped by what they
/// target.
pub fn harvest_targets(specs: &Value) -> Harvest {
    let mut harvest = Harvest::default();
    let Some(conditions) = specs.get("condition_map").and_then(Value::as_object) else {
        return harvest;
    };
    let mut keys: Vec<&String> = conditions.keys().collect();
    keys.sort();
    for key in keys {
        let condition = &conditions[key];
        let kind = condition.get("type").and_then(Value::as_str).unwrap_or("");
        let field = condition.get("field").and_then(Value::as_str);
        let id_type = condition.get("idType").and_then(Value::as_str);
        let values = target_values(condition.get("targetValue").unwrap_or(&Value::Null));
        if values.is_empty() {
            continue;
        }
        let (map, name) = match (kind, field, id_type) {
            ("user_field" | "ip_based" | "ua_based", Some(field), _) => {
                (&mut harvest.fields, field)
            }
            ("unit_id", _, Some(id_type)) => (&mut harvest.unit_ids, id_type),
            ("environment_field", Some(field), _) => (&mut harvest.environment, field),
            _ => continue,
        };
        let entry = map.entry(name.to_string()).or_default();
        for value in values {
            if !entry.contains(&value) {
                entry.push(value);
            }
        }
    }
    harvest
}

/// The usable scalars of a `targetValue`: a string or number, or those inside an array
/// (evenly sampled down to [`MAX_VALUES_PER_CONDITION`]).
fn target_values(target: &Value) -> Vec<Value> {
    let usable = |v: &Value| v.is_string() || v.is_number();
    match target {
        Value::Array(items) => {
            let items: Vec<&Value> = items.iter().filter(|v| usable(v)).collect();
            let step = items.len().div_ceil(MAX_VALUES_PER_CONDITION).max(1);
            items.into_iter().step_by(step).cloned().collect()
        }
        v if usable(v) => vec![v.clone()],
        _ => Vec::new(),
    }
}

// ------------------------------------------------------------------------------ generation

fn random_user(rng: &mut Rng, index: usize, harvest: &Harvest) -> Value {
    let mut user = Map::new();

    if rng.chance(92) {
        user.insert("userID".into(), random_user_id(rng, index));
    }
    if rng.chance(45) {
        user.insert("email".into(), json!(rng.pick(EMAILS)));
    }
    if rng.chance(55) {
        user.insert("ip".into(), random_ip(rng));
    }
    if rng.chance(60) {
        user.insert("userAgent".into(), json!(rng.pick(USER_AGENTS)));
    }
    if rng.chance(25) {
        user.insert("country".into(), json!(rng.pick(COUNTRIES)));
    }
    if rng.chance(30) {
        user.insert("locale".into(), json!(rng.pick(LOCALES)));
    }
    if rng.chance(40) {
        let version = match rng.below(10) {
            0 => json!(1.3),
            1 => json!(2),
            2 => json!(10.25),
            _ => json!(rng.pick(APP_VERSIONS)),
        };
        user.insert("appVersion".into(), version);
    }
    if rng.chance(60) {
        let mut custom = Map::new();
        for _ in 0..=rng.below(4) {
            let (key, value) = random_custom_field(rng);
            custom.insert(key, value);
        }
        user.insert("custom".into(), Value::Object(custom));
    }
    if rng.chance(50) {
        let mut ids = Map::new();
        for _ in 0..=rng.below(3) {
            let (key, value) = random_custom_id(rng, index);
            ids.insert(key, value);
        }
        user.insert("customIDs".into(), Value::Object(ids));
    }
    if rng.chance(15) {
        let mut private = Map::new();
        match rng.below(4) {
            0 => private.insert("email".into(), json!("private@statsig.com")),
            1 => private.insert("level".into(), json!(10)),
            2 => private.insert("secret".into(), json!("x")),
            _ => private.insert("os_version".into(), json!("Android 15")),
        };
        user.insert("privateAttributes".into(), Value::Object(private));
    }
    if rng.chance(15) {
        let env = if rng.chance(85) {
            json!({"tier": rng.pick(TIERS)})
        } else {
            json!({"TIER": "staging", "region": "eu"})
        };
        user.insert("statsigEnvironment".into(), env);
    }

    if !harvest.is_empty() && rng.chance(65) {
        for _ in 0..=rng.below(3) {
            plant(rng, &mut user, harvest);
        }
    }
    Value::Object(user)
}

fn random_user_id(rng: &mut Rng, index: usize) -> Value {
    match rng.below(100) {
        0..=54 => json!(format!("user_{index}_{:x}", rng.next_u64() % 0x10_0000)),
        55..=69 => json!(rng.pick(SPECIAL_USER_IDS)),
        70..=79 => json!(format!("{}-{index}", rng.pick(UNICODE_USER_IDS))),
        80..=83 => json!(rng.pick(UNICODE_USER_IDS)),
        84..=93 => match rng.below(9) {
            0 => json!(123),
            1 => json!(9),
            2 => json!(0),
            3 => json!(-7),
            4 => json!(1.5),
            5 => json!(3.0),
            6 => json!(1e21),
            7 => json!(12_345_678_901_234_567_890_u64),
            _ => json!(index),
        },
        94..=96 => json!(""),
        _ => Value::Null,
    }
}

fn random_ip(rng: &mut Rng) -> Value {
    match rng.below(100) {
        0..=69 => json!(rng.pick(IPV4_ADDRESSES)),
        70..=79 => {
            // A random (always valid) IPv4 address.
            let n = rng.next_u64();
            json!(format!(
                "{}.{}.{}.{}",
                (n >> 24) & 0xff,
                (n >> 16) & 0xff,
                (n >> 8) & 0xff,
                n & 0xff
            ))
        }
        80..=86 => json!(rng.pick(IPV6_ADDRESSES)),
        87..=97 => json!(rng.pick(SAFE_MALFORMED_IPS)),
        _ => json!(12345),
    }
}

fn random_custom_field(rng: &mut Rng) -> (String, Value) {
    let (key, value) = match rng.below(24) {
        0 => ("level", json!(9)),
        1 => ("level", json!("9")),
        2 => ("level", json!(9.0)),
        3 => ("level", json!(rng.below(20))),
        4 => ("os_version", json!("Android 15")),
        5 => ("os_version", json!(rng.pick(&["10.3.1", "17.5", "0"]))),
        6 => (
            "flavor",
            json!(rng.pick(&["chocolate", "vanilla", "Chocolate"])),
        ),
        7 => ("region", json!(rng.pick(&["somewhere", "us-east", "eu"]))),
        8 => ("service", json!(rng.pick(&["some-service", "other"]))),
        9 => ("newUser", json!(rng.chance(50))),
        10 => ("newUser", json!("true")),
        11 => ("plays_league", json!(rng.pick(&["yes", "no", "true"]))),
        12 => ("tags", json!(["a", "b", 1, true])),
        13 => ("tags", json!([])),
        14 => ("nested", json!({"a": 1, "b": [1, 2]})),
        15 => ("list_of_objects", json!([{"a": 1, "z": "y"}, null, 2.5])),
        16 => ("nothing", Value::Null),
        17 => {
            let big = [
                json!(9_007_199_254_740_993_u64),
                json!("123456789012345678901234567890"),
                json!(1e60),
            ];
            ("bigInt", rng.pick(&big).clone())
        }
        18 => ("created_at", json!(rng.pick(TIMESTAMPS))),
        19 => ("created_at", json!(1_672_531_200_000_u64)),
        20 => (
            "device_model",
            json!(rng.pick(&["iPhone14,2", "Pixel 8", "SM-S908U"])),
        ),
        21 => ("Foo", json!(rng.pick(&["bar", "BAR", ""]))),
        22 => ("country", json!(rng.pick(COUNTRIES))),
        _ => (
            "browser_name",
            json!(rng.pick(&["Chrome", "Safari", "chrome"])),
        ),
    };
    (key.to_string(), value)
}

fn random_custom_id(rng: &mut Rng, index: usize) -> (String, Value) {
    let key = *rng.pick(&[
        "companyID",
        "companyID",
        "companyid",
        "stableID",
        "stableID",
        "hubID",
        "random_id",
        "podId",
    ]);
    let value = match rng.below(10) {
        0 => json!(123),
        1 => json!("123"),
        2 => json!(""),
        3 => json!("marcos_1"),
        4 => json!("some-service-123"),
        5 => json!("statsig"),
        _ => json!(format!(
            "{}-{index}-{:x}",
            key.to_lowercase(),
            rng.next_u64() % 0x1_0000
        )),
    };
    (key.to_string(), value)
}

/// Puts one harvested target value where the matching condition will look for it.
fn plant(rng: &mut Rng, user: &mut Map<String, Value>, harvest: &Harvest) {
    let mut groups: Vec<(&str, &BTreeMap<String, Vec<Value>>)> = Vec::new();
    for (name, map) in [
        ("field", &harvest.fields),
        ("field", &harvest.fields),
        ("unit", &harvest.unit_ids),
        ("env", &harvest.environment),
    ] {
        if !map.is_empty() {
            groups.push((name, map));
        }
    }
    if groups.is_empty() {
        return;
    }
    let (group, map) = *rng.pick(&groups);
    let entries: Vec<(&String, &Vec<Value>)> = map.iter().collect();
    let (target, values) = *rng.pick(&entries);
    let picked = rng.pick(values).clone();
    let value = vary(rng, picked);

    match group {
        "unit" => {
            if target.eq_ignore_ascii_case("userid") {
                user.insert("userID".into(), value);
            } else {
                let key = if rng.chance(15) {
                    target.to_lowercase()
                } else {
                    target.clone()
                };
                map_entry(user, "customIDs").insert(key, value);
            }
        }
        "env" => {
            map_entry(user, "statsigEnvironment").insert(target.clone(), value);
        }
        _ => {
            let top_level = match target.to_lowercase().as_str() {
                "userid" => Some("userID"),
                "email" => Some("email"),
                "ip" => Some("ip"),
                "country" => Some("country"),
                "locale" => Some("locale"),
                "appversion" => Some("appVersion"),
                "useragent" => Some("userAgent"),
                _ => None,
            };
            // `ip` is also looked up in `custom` / `privateAttributes` for country lookups.
            let unsafe_ip = value.as_str().is_some_and(|ip| !ip_is_reference_safe(ip));
            if target.eq_ignore_ascii_case("ip") && unsafe_ip {
                return;
            }
            if let Some(key) = top_level {
                if rng.chance(85) {
                    user.insert(key.into(), value);
                    return;
                }
            }
            let (section, key) = match rng.below(20) {
                0..=2 => ("privateAttributes", target.clone()),
                3 => ("custom", target.to_lowercase()),
                _ => ("custom", target.clone()),
            };
            map_entry(user, section).insert(key, value);
        }
    }
}

/// Mostly the value itself; sometimes a case / type / affix variation of it.
fn vary(rng: &mut Rng, value: Value) -> Value {
    match (rng.below(10), &value) {
        (0, Value::String(s)) => json!(s.to_uppercase()),
        (1, Value::String(s)) => json!(format!("x{s}y")),
        (2, Value::String(s)) => match s.parse::<f64>() {
            Ok(f) if f.is_finite() => json!(f),
            _ => value,
        },
        (2, Value::Number(n)) => json!(n.to_string()),
        _ => value,
    }
}

/// The object at `user[key]`, created (or replaced, if not an object) on demand.
pub(crate) fn map_entry<'a>(
    user: &'a mut Map<String, Value>,
    key: &str,
) -> &'a mut Map<String, Value> {
    let slot = user
        .entry(key.to_string())
        .or_insert_with(|| Value::Object(Map::new()));
    if !slot.is_object() {
        *slot = Value::Object(Map::new());
    }
    match slot {
        Value::Object(map) => map,
        // Just made an object above.
        _ => unreachable!("slot is an object"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_is_stable() {
        let mut rng = Rng::new(0);
        assert_eq!(rng.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(rng.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn generation_is_deterministic() {
        assert_eq!(generate_users(7, 50), generate_users(7, 50));
        assert_ne!(generate_users(7, 50), generate_users(8, 50));
    }

    #[test]
    fn generated_ips_are_reference_safe() {
        let users = generate_users(1, 5000);
        for user in &users {
            if let Some(ip) = user.get("ip").and_then(Value::as_str) {
                assert!(ip_is_reference_safe(ip), "unsafe ip {ip}");
            }
        }
        for ip in PANICKING_IPS {
            assert!(!ip_is_reference_safe(ip), "{ip} should be flagged");
        }
        for ip in IPV4_ADDRESSES.iter().chain(SAFE_MALFORMED_IPS) {
            assert!(ip_is_reference_safe(ip), "{ip} should be safe");
        }
    }

    #[test]
    fn users_are_varied() {
        let users = generate_users(3, 1000);
        let count = |f: &dyn Fn(&Value) -> bool| users.iter().filter(|u| f(u)).count();
        assert!(count(&|u| u.get("userID").is_none()) > 10);
        assert!(count(&|u| u.get("userID").is_some_and(Value::is_number)) > 20);
        assert!(count(&|u| u.get("userID") == Some(&json!(""))) > 5);
        assert!(count(&|u| u.get("customIDs").is_some()) > 300);
        assert!(count(&|u| u.get("statsigEnvironment").is_some()) > 50);
    }

    #[test]
    fn harvest_plants_targets() {
        let specs = json!({"condition_map": {
            "1": {"type": "user_field", "field": "email", "operator": "str_contains_any",
                  "targetValue": ["@harvested.com"], "idType": "userID"},
            "2": {"type": "unit_id", "operator": "any", "targetValue": ["planted-company"],
                  "idType": "companyID"},
            "3": {"type": "environment_field", "field": "tier", "operator": "any",
                  "targetValue": ["staging"], "idType": "userID"},
            "4": {"type": "user_bucket", "operator": "lt", "targetValue": 50, "idType": "userID"}
        }});
        let harvest = harvest_targets(&specs);
        assert_eq!(harvest.fields["email"], vec![json!("@harvested.com")]);
        assert_eq!(
            harvest.unit_ids["companyID"],
            vec![json!("planted-company")]
        );
        let users = generate_users_for_specs(&specs.to_string(), 5, 500);
        let text: Vec<String> = users.iter().map(Value::to_string).collect();
        assert!(text.iter().filter(|t| t.contains("harvested.com")).count() > 30);
        assert!(
            text.iter()
                .filter(|t| t.contains("planted-company"))
                .count()
                > 30
        );
    }
}
