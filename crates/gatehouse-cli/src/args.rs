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
            let (name, inline) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v)),
                None => (body, None),
            };
            // An unknown flag is named as such, even as the last argument.
            if !known.contains(&name) {
                return Err(CliError::Usage(format!("unknown flag `--{name}`")));
            }
            let value = match inline {
                Some(v) => v.to_owned(),
                None => it
                    .next()
                    .ok_or_else(|| CliError::Usage(format!("`--{name}` needs a value")))?
                    .clone(),
            };
            pairs.push((name.to_owned(), value));
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

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Flags, String> {
        let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        Flags::parse_with_switches(&args, &["specs", "only"], &["log-exposures"]).map_err(|e| {
            match e {
                CliError::Usage(m) => m,
                other => panic!("not a usage error: {other:?}"),
            }
        })
    }

    #[test]
    fn unknown_flags_are_named_wherever_they_stand() {
        for args in [
            &["--verbose"][..],
            &["--verbose", "x"],
            &["--verbose=x"],
            &["--specs", "a", "--verbose"],
        ] {
            assert_eq!(
                parse(args).err().as_deref(),
                Some("unknown flag `--verbose`"),
                "{args:?}"
            );
        }
    }

    #[test]
    fn a_known_flag_without_its_value_says_so() {
        assert_eq!(
            parse(&["--specs"]).err().as_deref(),
            Some("`--specs` needs a value")
        );
        let flags = parse(&["--specs=a.json", "--log-exposures", "--only", "gate"]).expect("parse");
        assert_eq!(flags.one("specs").expect("once"), Some("a.json"));
        assert_eq!(flags.one("only").expect("once"), Some("gate"));
        assert!(flags.switch("log-exposures"));
    }
}
