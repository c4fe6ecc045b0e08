//! A small flag parser: `--name value` and `--name=value`.

use crate::CliError;

/// Parsed flags in order, as (name, value) pairs.
pub struct Flags {
    pairs: Vec<(String, String)>,
}

impl Flags {
    /// Parse `args`, accepting only the names in `known` (all take a value).
    pub fn parse(args: &[String], known: &[&str]) -> Result<Flags, CliError> {
        Flags::parse_with_switches(args, known, &[])
    }

    /// Like [`Flags::parse`], plus `switches`: flags without a value
    /// (recorded with the value `true`).
    pub fn parse_with_switches(
        args: &[String],
        known: &[&str],
        switches: &[&str],
    ) -> Result<Flags, CliError> {
        let mut pairs = Vec::new();
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            let Some(body) = arg.strip_prefix("--") else {
                return Err(CliError::Usage(format!("unexpected argument `{arg}`")));
            };
            if switches.contains(&body) {
                pairs.push((body.to_owned(), "true".to_owned()));
                continue;
            }
            let (name, value) = match body.split_once('=') {
                Some((n, v)) => (n.to_owned(), v.to_owned()),
                None => {
                    let v = it
                        .next()
                        .ok_or_else(|| CliError::Usage(format!("`--{body}` needs a value")))?;
                    (body.to_owned(), v.clone())
                }
            };
            if !known.contains(&name.as_str()) {
                return Err(CliError::Usage(format!("unknown flag `--{name}`")));
            }
            pairs.push((name, value));
        }
        Ok(Flags { pairs })
    }

    /// The value of a flag given at most once.
    pub fn one(&self, name: &str) -> Result<Option<&str>, CliError> {
        let mut found = self.pairs.iter().filter(|(n, _)| n == name);
        let first = found.next();
        if found.next().is_some() {
            return Err(CliError::Usage(format!("`--{name}` given more than once")));
        }
        Ok(first.map(|(_, v)| v.as_str()))
    }

    /// Whether a switch was given.
    pub fn switch(&self, name: &str) -> bool {
        self.pairs.iter().any(|(n, _)| n == name)
    }

    /// Every value of a repeatable flag.
    pub fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }
}
