//! The tokenizer of the first-party UA parser: token rules (dcs-semantics
//! §7.2 "Tokenize" and the token rules table).
//!
//! [`Scan::run`] slides a four-token [`Window`] over the UA and applies the
//! first matching rule of [`Scan::step`] (or [`Scan::product`], the fallback
//! for `name/version` tokens) to the current token. Rules record tags,
//! propose an OS or a browser and set hints; the parent module turns the
//! resulting [`Scan`] into answers.

/// The characters trimmed from both ends of every token.
fn is_trimmed(c: char) -> bool {
    matches!(c, '(' | ')' | ';' | ',' | '+' | '_' | '"')
}

/// Trim `( ) ; , + _ "` from both ends; an empty result is no token.
fn trim(token: Option<&str>) -> Option<&str> {
    token
        .map(|t| t.trim_matches(is_trimmed))
        .filter(|t| !t.is_empty())
}

fn starts_with_digit(token: &str) -> bool {
    token.as_bytes().first().is_some_and(u8::is_ascii_digit)
}

/// A window of four raw tokens over the UA, filled from the front.
struct Window<'a> {
    rest: std::str::Split<'a, [char; 2]>,
    slots: [Option<&'a str>; 4],
}

impl<'a> Window<'a> {
    fn new(ua: &'a str) -> Self {
        let mut rest = ua.split([';', ' ']);
        let slots = [rest.next(), rest.next(), rest.next(), rest.next()];
        Window { rest, slots }
    }

    fn is_empty(&self) -> bool {
        self.slots[0].is_none()
    }

    /// The four trimmed tokens.
    fn get(&self) -> [Option<&'a str>; 4] {
        self.slots.map(trim)
    }

    fn advance(&mut self, n: usize) {
        for _ in 0..n {
            self.slots.rotate_left(1);
            self.slots[3] = self.rest.next();
        }
    }

    /// If `token` (one of the visible tokens) starts with an ASCII digit,
    /// consume it as a version: advance by one and return it.
    fn consume(&mut self, token: Option<&'a str>) -> Option<&'a str> {
        let version = token.filter(|t| starts_with_digit(t))?;
        self.advance(1);
        Some(version)
    }
}

/// A recognized product or platform name with its optional raw version.
#[derive(Clone, Copy, Debug)]
pub(super) struct Tag<'a> {
    pub(super) name: &'a str,
    pub(super) version: Option<&'a str>,
}

impl<'a> Tag<'a> {
    pub(super) fn new(name: &'a str, version: Option<&'a str>) -> Self {
        Tag { name, version }
    }
}

/// Hints gathered while tokenizing.
#[derive(Default, Debug)]
pub(super) struct Hints {
    pub(super) linux: bool,
    pub(super) ios: bool,
    pub(super) macos: bool,
    pub(super) windows: bool,
    pub(super) mobile: bool,
    pub(super) safari: bool,
    pub(super) playstation: bool,
    pub(super) huawei: bool,
    pub(super) cfnetwork: bool,
    pub(super) crawler: bool,
    pub(super) bot: bool,
}

/// The result of tokenizing one UA.
#[derive(Default, Debug)]
pub(super) struct Scan<'a> {
    pub(super) tags: Vec<Tag<'a>>,
    /// The first OS proposal that had a version (some rules override it).
    pub(super) possible_os: Option<Tag<'a>>,
    /// The last browser proposal that had a version, or the first bot.
    pub(super) possible_browser: Option<Tag<'a>>,
    pub(super) hints: Hints,
}

impl<'a> Scan<'a> {
    pub(super) fn run(ua: &'a str) -> Self {
        let mut scan = Scan::default();
        let mut win = Window::new(ua);
        while !win.is_empty() {
            let [curr, n1, n2, n3] = win.get();
            if let Some(curr) = curr {
                scan.step(&mut win, curr, n1, n2, n3);
            }
            win.advance(1);
        }
        scan
    }

    fn tag(&mut self, name: &'a str, version: Option<&'a str>) {
        self.tags.push(Tag::new(name, version));
    }

    /// Propose an OS (kept only if none yet and `version` is present); tag it.
    fn propose_os(&mut self, name: &'a str, version: Option<&'a str>) {
        if self.possible_os.is_none() && version.is_some() {
            self.possible_os = Some(Tag::new(name, version));
        }
        self.tag(name, version);
    }

    /// Propose a browser (replacing any earlier one if `version` is present); tag it.
    fn propose_browser(&mut self, name: &'a str, version: Option<&'a str>) {
        if version.is_some() {
            self.possible_browser = Some(Tag::new(name, version));
        }
        self.tag(name, version);
    }

    /// The first bot seen becomes the browser, version or not; no tag.
    fn bot(&mut self, name: &'a str, version: Option<&'a str>) {
        if !self.hints.bot {
            self.hints.bot = true;
            self.possible_browser = Some(Tag::new(name, version));
        }
    }

    /// iOS browsers on iPads claim `Mac OS X`: correct the proposal to iOS.
    fn mac_to_ios(&mut self) {
        if self.possible_os.is_some_and(|os| os.name == "Mac OS X") {
            self.possible_os = Some(Tag::new("iOS", None));
        }
    }

    /// Apply the first matching token rule to `curr` (the window advances by
    /// one more afterwards).
    fn step(
        &mut self,
        win: &mut Window<'a>,
        curr: &'a str,
        n1: Option<&'a str>,
        n2: Option<&'a str>,
        n3: Option<&'a str>,
    ) {
        let h = &mut self.hints;
        match curr {
            c if c.starts_with("AppleTV") => {
                self.tag("ATV OS X", None);
                win.advance(1);
            }
            "like" if n1 == Some("Mac") && n2 == Some("OS") => win.advance(3),
            "Mac" if n1 == Some("OS") && n2 == Some("X") => {
                h.macos = true;
                let v = win.consume(n3);
                self.propose_os("Mac OS X", v);
                win.advance(2);
            }
            "Mac" if n1 == Some("OS") => {
                h.macos = true;
                let v = win.consume(n2);
                self.propose_os("Mac OS X", v);
                win.advance(2);
            }
            "iOS" | "iPadOS" => {
                let v = win.consume(n1);
                self.propose_os("iOS", v);
                self.hints.ios = true;
                win.advance(1);
            }
            "iPhone" if n1 == Some("OS") => {
                let v = win.consume(n2);
                self.propose_os("iOS", v);
                win.advance(1);
            }
            c if c.starts_with("iPad") || c.starts_with("iPhone") => {
                h.ios = true;
                let (name, rest) = match c.strip_prefix("iPad") {
                    Some(rest) => ("iPad", rest),
                    None => ("iPhone", c.strip_prefix("iPhone").unwrap_or_default()),
                };
                // The reference splits on the name and keeps the second piece:
                // the remainder up to a repeated occurrence of the name.
                self.tag(name, trim(rest.split(name).next()));
            }
            c if c.starts_with("Apple-iPhone7C2") => {
                h.ios = true;
                self.tag("iPhone", None);
            }
            "CPU" if n1 == Some("OS") => {
                let v = win.consume(n2);
                self.tag("CPU OS", v);
                win.advance(1);
            }
            "CrOS" => {
                let mut v = win.consume(n1);
                if v.is_none() {
                    win.advance(1);
                    v = win.consume(n2);
                }
                self.propose_os("Chrome OS", v);
            }
            "CrKey" => self.propose_os("Chromecast", None),
            "PlayStation" => {
                h.playstation = true;
                self.tag("PlayStation", None);
            }
            "Android" => {
                let v = win.consume(n1);
                self.propose_os("Android", v);
            }
            "Windows" if n1 == Some("Phone") => {
                let v = win.consume(n2);
                self.propose_os("Windows Phone", v);
                win.advance(1);
            }
            c if c.starts_with("Windows") => {
                h.windows = true;
                let v = if n1 == Some("NT") {
                    let v = win.consume(n2);
                    if v.is_some() {
                        win.advance(1); // skip the `NT` too
                    }
                    v
                } else if n1.is_some_and(|t| t.starts_with("XP")) {
                    win.advance(1);
                    Some("XP")
                } else {
                    win.consume(n1)
                };
                self.propose_os("Windows", v);
            }
            "MSIE" => {
                let v = win.consume(n1);
                self.propose_browser("IE", v);
            }
            "Yahoo!" if n1 == Some("Slurp") => {
                self.tag("Yahoo! Slurp", None);
                win.advance(1);
            }
            "Red" if n1 == Some("Hat") => {
                self.propose_os("Red Hat", None);
                win.advance(1);
            }
            "Ubuntu" => {
                let v = win.consume(n1);
                self.propose_os("Ubuntu", v);
            }
            "Mobile" => {
                h.mobile = true;
                self.tag("Mobile", None);
            }
            "Linux" | "linux" => {
                h.linux = true;
                self.tag("Linux", None);
            }
            "Nintendo" if n1 == Some("3DS") => {
                self.tag("NetFront NX", None);
                win.advance(1);
            }
            c if c == "like" || c.len() <= 2 => {}
            "Better" if n1 == Some("Uptime") && n2 == Some("Bot") => {
                self.bot("Better Uptime Bot", None);
            }
            "Radius" if n1 == Some("Compilance") && n2 == Some("Bot") => {
                self.bot("Radius Compilance Bot", None);
            }
            "AdsBot-Google-Mobile" => self.bot("AdsBot-Google", None),
            "Uptime" if n1 == Some("Monitoring") && n2 == Some("Bot") => {
                self.bot("Uptime Monitoring Bot", None);
            }
            _ => self.product(curr),
        }
    }

    /// The fallback rule: `name/version` (or `name;…`, `name:…`) products.
    fn product(&mut self, curr: &'a str) {
        let (name, version) = match curr.split_once(['/', ';', ':']) {
            Some((name, version)) => (trim(Some(name)).unwrap_or(curr), trim(Some(version))),
            None => (curr, None),
        };
        match name {
            "Kindle" => {
                if self.possible_os.is_none() && version.is_some() {
                    self.possible_os = Some(Tag::new(name, version));
                }
                self.propose_browser(name, version);
            }
            "FxiOS" => self.propose_browser("Firefox iOS", version),
            "EdgiOS" => {
                self.mac_to_ios();
                self.propose_browser("Edge Mobile", version);
            }
            "CriOS" => {
                self.hints.ios = true;
                self.mac_to_ios();
                self.propose_browser("Chrome Mobile iOS", version);
            }
            "GSA" => self.propose_browser("Google", version),
            "YisouSpider" => self.propose_browser("YisouSpider", version),
            "Edg" | "Edge" => self.tag("Edge", version),
            "OPR" => self.tag("Opera", version),
            "SamsungBrowser" => self.propose_browser("Samsung Internet", version),
            "HuaweiBrowser" => {
                self.hints.huawei = true;
                self.tag(name, version);
            }
            "ChatGPT-User" | "OAI-SearchBot" | "Electron" => self.propose_browser(name, version),
            "NX" => self.propose_browser("NetFront NX", version),
            "IEMobile" => self.propose_browser("IE Mobile", version),
            n if ["Bot", "bot", "crawler", "Crawler"]
                .iter()
                .any(|b| n.contains(b)) =>
            {
                self.bot(name, version);
            }
            "Mobile" => {
                self.hints.mobile = true;
                self.tag(name, version);
            }
            "Safari" => {
                self.hints.safari = true;
                self.tag(name, version);
            }
            "CFNetwork" => {
                self.hints.cfnetwork = true;
                self.hints.ios = true;
            }
            _ if version.is_some_and(|v| v.contains("crawler")) => self.hints.crawler = true,
            // Oculus Browser claims Linux; the device runs Android.
            "OculusBrowser" => self.possible_os = Some(Tag::new("Android", None)),
            _ => self.tag(name, version),
        }
    }
}
