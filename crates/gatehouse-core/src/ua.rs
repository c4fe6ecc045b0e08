//! First-party user-agent parser (dcs-semantics §7.2).
//!
//! A re-implementation of the reference's default parser (`statsig_uaparser`),
//! which is a hand-written tokenizer, not a regex list. It answers the four
//! fields `ua_based` conditions read, bit for bit as the reference does,
//! quirks included (see the notes on [`parse_user_agent`]).
//!
//! # Design
//!
//! One pass over the UA, no regex, no allocation besides the tag list and the
//! four output strings:
//!
//! 1. `tokenizer::Window` splits the UA on `;` and space (empty tokens kept)
//!    and shows four tokens at a time (`curr`, `n1`, `n2`, `n3`), each
//!    trimmed of `( ) ; , + _ "` (an empty result counts as no token).
//! 2. `tokenizer::Scan::step` applies the first matching token rule to
//!    `curr`: it may record a *tag* (a name with an optional version),
//!    propose an OS or a browser, set *hints* (`ios`, `mobile`, …) and
//!    consume following tokens. The window then advances by one.
//! 3. `Scan::pick_os` and `Scan::pick_browser` (in this file) pick the
//!    answers from the proposals, the tags and the hints.
//! 4. `version_string` formats a tag's version (`10_15_7` → `10.15.7`).
//!
//! Everything works on `&str` sub-slices produced by `split`/`trim_matches`/
//! `strip_prefix`, so any Unicode input is safe; no index arithmetic is done.
//!
//! # Length limit (caller's job)
//!
//! The reference treats a user agent longer than [`MAX_USER_AGENT_LEN`]
//! bytes (UTF-8 length, `str::len`; the note says "chars") as absent: the
//! `ua_based` condition then sees no value at all, not a parse of it. This
//! function does not apply the limit; the evaluator must check it first.
//! Parsing is cheap (linear in the UA), and the caller is expected to parse a
//! user's UA once and cache the [`UserAgentInfo`].

mod tokenizer;

use tokenizer::{Scan, Tag};

/// User agents longer than this many bytes are treated as absent by
/// `ua_based` conditions (dcs-semantics §5.1); checked by the caller.
pub const MAX_USER_AGENT_LEN: usize = 1000;

/// The four fields `ua_based` conditions read. Missing versions are `"0.0.0"`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UserAgentInfo {
    pub os_name: String,
    pub os_version: String,
    pub browser_name: String,
    pub browser_version: String,
}

/// Parse a user-agent string. Total: every input gives an answer.
///
/// Unknown OS / browser give `"Other"`; an unknown version gives `"0.0.0"`.
/// Reference quirks kept on purpose, for example: `Windows XP` has version
/// `0.0.0` (only NT numbers map to names), `Opera`/`YaBrowser`/`NetFront NX`
/// versions have at most three parts, and a browser found through a `Version/`
/// tag (`Safari`) takes that tag's version.
pub fn parse_user_agent(ua: &str) -> UserAgentInfo {
    let scan = Scan::run(ua);
    let (os_name, os_version) = scan.pick_os();
    let (browser_name, browser_version) = scan.pick_browser();
    UserAgentInfo {
        os_name: os_name.to_owned(),
        os_version,
        browser_name: browser_name.to_owned(),
        browser_version,
    }
}

impl<'a> Tag<'a> {
    fn version_string(&self) -> String {
        version_string(self.name, self.version)
    }
}

/// Answer selection (dcs-semantics §7.2 "OS" and "Browser").
impl<'a> Scan<'a> {
    /// `(os_name, os_version)`.
    fn pick_os(&self) -> (&'a str, String) {
        if let Some(os) = self.possible_os {
            return (os.name, os.version_string());
        }
        let h = &self.hints;
        // The first decisive tag wins. (`iPhone OS` is never recorded by the
        // tokenizer, nor is `CFNetwork`, which the reference also tests here.)
        for t in &self.tags {
            match t.name {
                "ATV OS X" => return ("ATV OS X", zero()),
                "iPhone OS" | "iOS" => return ("iOS", t.version_string()),
                "CPU OS" if h.ios => return ("iOS", t.version_string()),
                "Version" if h.ios && h.macos => return ("iOS", t.version_string()),
                "Android" => return ("Android", t.version_string()),
                n if n.starts_with("Android") => return ("Android", zero()),
                "Chromecast" | "Red Hat" => return (t.name, zero()),
                "Kindle" | "Ubuntu" => return (t.name, t.version_string()),
                _ => {}
            }
        }
        let name = if h.ios {
            "iOS"
        } else if h.macos {
            "Mac OS X"
        } else if h.windows {
            "Windows"
        } else if h.linux {
            "Linux"
        } else {
            "Other"
        };
        (name, zero())
    }

    /// `(browser_name, browser_version)`.
    fn pick_browser(&self) -> (&'a str, String) {
        if let Some(b) = self.possible_browser {
            return (b.name, b.version_string());
        }
        let h = &self.hints;
        // The first decisive tag wins; `Android`, `Version` and `Chrome` tags
        // are only remembered (the last of each) for the decision after the scan.
        let (mut android, mut chrome, mut version) = (None, None, None);
        for t in &self.tags {
            let name = match t.name {
                "Android" => {
                    android = Some(t);
                    continue;
                }
                "Version" => {
                    version = Some(t);
                    continue;
                }
                "Chrome" => {
                    chrome = Some(t);
                    continue;
                }
                "Yahoo! Slurp" => return ("Yahoo! Slurp", zero()),
                "Silk" if h.playstation => return ("NetFront NX", zero()),
                "Silk" => "Amazon Silk",
                "Firefox" if h.mobile => "Firefox Mobile",
                "Edge" if h.mobile => "Edge Mobile",
                "Opera" if h.mobile => "Opera Mobile",
                "YaBrowser" => "Yandex Browser",
                "Firefox" | "Edge" | "Opera" | "NetFront NX" | "axios" | "HeadlessChrome" => t.name,
                _ => continue,
            };
            return (name, t.version_string());
        }
        if let Some(chrome) = chrome {
            if version.is_some() {
                return ("Chrome Mobile WebView", chrome.version_string());
            }
            if h.mobile && chrome.version.is_some() && !h.huawei {
                return ("Chrome Mobile", chrome.version_string());
            }
            if let (None, Some(android)) = (chrome.version, android) {
                return ("Android", android.version_string());
            }
            return ("Chrome", chrome.version_string());
        }
        if let Some(android) = android {
            return ("Android", android.version_string());
        }
        if h.cfnetwork {
            if let Some(first) = self.tags.first() {
                if first.name == "NetworkingExtension" {
                    let v = self.tags.get(1).map_or_else(zero, Tag::version_string);
                    return ("CFNetwork", v);
                }
                return (first.name, first.version_string());
            }
        }
        if h.safari {
            let v = version.map_or_else(zero, Tag::version_string);
            let name = if h.mobile && !h.macos {
                "Mobile Safari"
            } else {
                "Safari"
            };
            return (name, v);
        }
        if h.ios {
            ("Mobile Safari UI/WKWebView", zero())
        } else if h.crawler {
            ("crawler", zero())
        } else {
            ("Other", zero())
        }
    }
}

fn zero() -> String {
    "0.0.0".to_owned()
}

/// Format the raw version of a tag named `tag`.
///
/// * none → `0.0.0`;
/// * `Windows`: NT numbers map to release names (`6.1` → `7`), anything else
///   (including `XP` from `Windows XP`) → `0.0.0`;
/// * otherwise split on `_`, `,` and `.` (one trailing empty piece dropped)
///   into major, minor (its leading digits only), patch and patch-minor (not
///   for `YaBrowser`, `Opera`, `NetFront NX`), joined with `.`.
fn version_string(tag: &str, version: Option<&str>) -> String {
    let Some(version) = version else {
        return zero();
    };
    if tag == "Windows" {
        let name = match version {
            "5.1" | "5.2" => "XP",
            "6.0" => "Vista",
            "6.1" => "7",
            "6.3" => "8.1",
            "10.0" => "10",
            _ => "0.0.0",
        };
        return name.to_owned();
    }
    let max_parts = match tag {
        "YaBrowser" | "Opera" | "NetFront NX" => 3,
        _ => 4,
    };
    let mut out = String::with_capacity(version.len());
    for (i, part) in version
        .split_terminator(['_', ',', '.'])
        .take(max_parts)
        .enumerate()
    {
        if i > 0 {
            out.push('.');
        }
        if i == 1 {
            // `split` always yields at least one piece.
            out.push_str(
                part.split(|c: char| !c.is_ascii_digit())
                    .next()
                    .unwrap_or_default(),
            );
        } else {
            out.push_str(part);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(ua: &str, expected: [&str; 4]) {
        let info = parse_user_agent(ua);
        let got = [
            info.os_name.as_str(),
            info.os_version.as_str(),
            info.browser_name.as_str(),
            info.browser_version.as_str(),
        ];
        assert_eq!(got, expected, "UA: {ua}");
    }

    #[test]
    fn note_examples() {
        let chrome = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
                      (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36";
        check(chrome, ["Windows", "10", "Chrome", "140.0.0.0"]);
        check(
            &format!("{chrome} Edg/140.0.0.0"),
            ["Windows", "10", "Edge", "140.0.0.0"],
        );
        check(
            "ChatGPT/1.2025.245 (iOS 18.6.2; iPhone14,5; build 17507616669)",
            ["iOS", "18.6.2", "Mobile Safari UI/WKWebView", "0.0.0"],
        );
        check(
            "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 \
             (KHTML, like Gecko) Chrome/140.0.0.0 Safari/537.36",
            ["Mac OS X", "10.15.7", "Chrome", "140.0.0.0"],
        );
        check(
            "FortniteGame/++Fortnite+Release-37.20-CL-45679055 (http-eventloop) PS5/ (sceHttp2)",
            ["Other", "0.0.0", "Other", "0.0.0"],
        );
    }

    #[test]
    fn more_reference_cases() {
        check(
            "Mozilla/5.0 (iPhone; CPU iPhone OS 16_7_10 like Mac OS X) AppleWebKit/605.1.15 \
             (KHTML, like Gecko) Version/16.6 Mobile/15E148 Safari/604.",
            ["iOS", "16.7.10", "Mobile Safari", "16.6"],
        );
        check(
            "Dalvik/2.1.0 (Linux; U; Android 11; KFRASWI Build/RS8332.3115N)",
            ["Android", "11", "Android", "11"],
        );
        check("AppleTV11,1/11.1", ["ATV OS X", "0.0.0", "Other", "0.0.0"]);
        check(
            "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
            ["Other", "0.0.0", "Googlebot", "2.1"],
        );
        check(
            "Mozilla/4.0 (compatible; MSIE 6.0; Windows XP)",
            ["Windows", "0.0.0", "IE", "6.0"],
        );
    }

    #[test]
    fn versions() {
        assert_eq!(version_string("Chrome", Some("1.2.3.4.5")), "1.2.3.4");
        assert_eq!(version_string("Opera", Some("1.2.3.4")), "1.2.3");
        assert_eq!(version_string("X", Some("10_15_7")), "10.15.7");
        assert_eq!(version_string("X", Some("1.2b3.4")), "1.2.4");
        assert_eq!(version_string("X", Some("1.x.3")), "1..3");
        assert_eq!(version_string("X", Some("1.2.")), "1.2");
        assert_eq!(version_string("X", Some(".")), "");
        assert_eq!(version_string("Windows", Some("6.1")), "7");
        assert_eq!(version_string("Windows", Some("XP")), "0.0.0");
        assert_eq!(version_string("X", None), "0.0.0");
    }

    #[test]
    fn any_input_is_safe() {
        for ua in [
            "",
            " ",
            ";;;",
            "(",
            "iPad",
            "iPadiPadé",
            "Windows",
            "Mac OS",
            "CrOS",
            "é/ü",
            "ü:",
        ] {
            let _ = parse_user_agent(ua);
        }
        let mut s = String::new();
        for c in ['日', ' ', '/', 'é', ';', '1', '.', '_', '(']
            .iter()
            .cycle()
            .take(500)
        {
            s.push(*c);
            let _ = parse_user_agent(&s);
        }
    }
}
