//! Dotted-version comparison (dcs-semantics §5.2 `version_*`).
//!
//! A version is the text before the first `-`, split on `.`, each part
//! trimmed and parsed as i128 (a leading `+` is accepted); missing trailing
//! parts count as 0. Parts are compared left to right and parsed *lazily*, as
//! in the reference: an unparsable part (`""`, `v1`, the empty part of `1..2`
//! or of a trailing `.`) makes the whole comparison fail (every `version_*`
//! operator, including `version_neq`, is then false) — but only if the
//! comparison gets that far; `"2.x"` is still greater than `"1.0"` because the
//! first part already decides.

use std::cmp::Ordering;

/// A pre-parsed target version: one entry per dotted part, `None` for a part
/// that does not parse.
#[derive(Clone, Debug)]
pub(super) struct Version {
    parts: Box<[Option<i128>]>,
}

impl Version {
    pub(super) fn parse(s: &str) -> Version {
        Version {
            parts: core(s).split('.').map(parse_part).collect(),
        }
    }
}

/// The text before the first `-` (`"1.2.3-beta.1"` → `"1.2.3"`).
fn core(s: &str) -> &str {
    match s.find('-') {
        Some(i) => s.get(..i).unwrap_or(""),
        None => s,
    }
}

fn parse_part(p: &str) -> Option<i128> {
    p.trim().parse::<i128>().ok()
}

/// Compare the user's version string with a pre-parsed target; `None` when
/// an unparsable part is reached on either side. Allocation-free.
pub(super) fn compare(left: &str, right: &Version) -> Option<Ordering> {
    let mut left_parts = core(left).split('.');
    let mut right_parts = right.parts.iter();
    loop {
        let l = match left_parts.next() {
            Some(p) => Some(parse_part(p)?),
            None => None,
        };
        let r = match right_parts.next() {
            Some(p) => Some((*p)?),
            None => None,
        };
        if l.is_none() && r.is_none() {
            return Some(Ordering::Equal);
        }
        match l.unwrap_or(0).cmp(&r.unwrap_or(0)) {
            Ordering::Equal => {}
            decided => return Some(decided),
        }
    }
}
