//! `--database-url` / `SDS_DATABASE_URL`: which store a command opens
//! (README, "Running on PostgreSQL").
//!
//! Without it, a command opens the SQLite store in its data dir
//! (`sds.db`); with a `postgres://` (or `postgresql://`) URL, the
//! PostgreSQL store behind it, and the data dir keeps only what is local
//! to one server: the query tables' snapshots, spooled and downloaded files
//! until they are stored centrally, the lock file.
//!
//! The URL usually carries a password, so it is shown only redacted
//! ([`DatabaseUrl`]'s `Display` and `Debug`), and the text of an error
//! from the database client goes through [`DatabaseUrl::redact`] before it
//! is logged or printed.

use std::fmt;
use std::str::FromStr;

/// A PostgreSQL connection URL, `postgres://USER[:PASSWORD]@HOST[:PORT]/DATABASE[?PARAMS]`
/// (libpq's URI form, as `tokio-postgres`' `Config` parses it; the
/// key/value form is refused so that there is one thing to redact).
///
/// `Display` and `Debug` show it with the password (and a `password`
/// query parameter) replaced by `***`; [`DatabaseUrl::expose`] gives the
/// URL itself, for the database client only.
#[derive(Clone, PartialEq, Eq)]
pub struct DatabaseUrl {
    url: String,
    /// The secrets the URL holds (its password, percent-encoded and
    /// decoded, and a `password` parameter), for [`DatabaseUrl::redact`].
    secrets: Vec<String>,
    redacted: String,
}

/// What a redacted secret becomes.
const HIDDEN: &str = "***";

impl DatabaseUrl {
    /// The URL with its password, for the database client; never log it.
    pub fn expose(&self) -> &str {
        &self.url
    }

    /// `text` (an error message, say) with every occurrence of the URL's
    /// password replaced by `***`, should the client have quoted it.
    pub fn redact(&self, text: &str) -> String {
        let mut text = text.replace(&self.url, &self.redacted);
        for secret in &self.secrets {
            text = text.replace(secret.as_str(), HIDDEN);
        }
        text
    }
}

impl FromStr for DatabaseUrl {
    type Err = String;

    fn from_str(value: &str) -> Result<DatabaseUrl, String> {
        let value = value.trim();
        // Never echo the value itself: it may hold the password.
        let mut url = url::Url::parse(value).map_err(|error| format!("not a postgres:// URL ({error})"))?;
        if !matches!(url.scheme(), "postgres" | "postgresql") {
            return Err(format!(
                "'{}:' is not a PostgreSQL URL: give postgres://USER@HOST:PORT/DATABASE",
                url.scheme()
            ));
        }
        let mut secrets = Vec::new();
        if let Some(password) = url.password().filter(|password| !password.is_empty()) {
            secrets.push(password.to_owned());
            if let Ok(decoded) = percent_encoding::percent_decode_str(password).decode_utf8() {
                secrets.push(decoded.into_owned());
            }
            // Cannot fail: the URL has a host, since it has a password.
            let _ = url.set_password(Some(HIDDEN));
        }
        let params: Vec<(String, String)> = url.query_pairs().into_owned().collect();
        if params.iter().any(|(name, _)| name == "password") {
            let mut query = url.query_pairs_mut();
            query.clear();
            for (name, value) in &params {
                if name == "password" {
                    secrets.push(value.clone());
                    query.append_pair(name, HIDDEN);
                } else {
                    query.append_pair(name, value);
                }
            }
        }
        // Longest first: a secret that contains another is replaced whole.
        secrets.retain(|secret| !secret.is_empty());
        secrets.sort_by_key(|secret| std::cmp::Reverse(secret.len()));
        Ok(DatabaseUrl { url: value.to_owned(), secrets, redacted: url.to_string() })
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.redacted)
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(formatter, "DatabaseUrl({})", self.redacted)
    }
}

/// Clap's parser for `--database-url`: its error names the problem but,
/// unlike clap's default message, never repeats the value (which may hold
/// the password).
#[derive(Clone, Copy, Debug)]
pub struct DatabaseUrlParser;

impl clap::builder::TypedValueParser for DatabaseUrlParser {
    type Value = DatabaseUrl;

    fn parse_ref(
        &self,
        command: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<DatabaseUrl, clap::Error> {
        let name = arg.and_then(clap::Arg::get_long).unwrap_or("database-url");
        let refuse = |message: String| {
            clap::Error::raw(
                clap::error::ErrorKind::ValueValidation,
                format!("invalid value for --{name}: {message}\n"),
            )
            .with_cmd(command)
        };
        let text = value.to_str().ok_or_else(|| refuse("not UTF-8".to_owned()))?;
        text.parse().map_err(refuse)
    }
}

#[cfg(test)]
mod tests {
    use super::DatabaseUrl;

    #[test]
    fn the_password_is_never_shown() {
        let url: DatabaseUrl = "postgres://sds:s%40cret@db.example:5432/sds?sslmode=require".parse().unwrap();
        assert_eq!(url.expose(), "postgres://sds:s%40cret@db.example:5432/sds?sslmode=require");
        assert_eq!(url.to_string(), "postgres://sds:***@db.example:5432/sds?sslmode=require");
        assert!(!format!("{url:?}").contains("cret"));
        let message = format!("connecting to {} failed: password s@cret rejected", url.expose());
        assert_eq!(
            url.redact(&message),
            "connecting to postgres://sds:***@db.example:5432/sds?sslmode=require failed: password *** rejected"
        );
    }

    #[test]
    fn a_password_parameter_is_hidden_too() {
        let url: DatabaseUrl = "postgresql://sds@localhost/sds?password=hunter22&application_name=a".parse().unwrap();
        assert_eq!(url.to_string(), "postgresql://sds@localhost/sds?password=***&application_name=a");
        assert_eq!(url.redact("bad hunter22"), "bad ***");
    }

    #[test]
    fn a_url_without_password_is_shown_as_is() {
        let url: DatabaseUrl = "postgres://postgres@127.0.0.1:55433/sds".parse().unwrap();
        assert_eq!(url.to_string(), "postgres://postgres@127.0.0.1:55433/sds");
        assert_eq!(url.redact("nothing to hide"), "nothing to hide");
    }

    #[test]
    fn other_schemes_and_key_value_strings_are_refused_without_echoing_them() {
        for wrong in ["sqlite:///tmp/sds.db", "mysql://u:topsecret@h/db", "host=h password=topsecret", ""] {
            let error = wrong.parse::<DatabaseUrl>().unwrap_err();
            assert!(!error.contains("topsecret"), "{error}");
        }
        assert!("sqlite:///tmp/sds.db".parse::<DatabaseUrl>().unwrap_err().contains("not a PostgreSQL URL"));
    }
}
