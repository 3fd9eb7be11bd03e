//! The server URL and key of a client command: `--url`/`--key`, else
//! `SDS_URL`/`SDS_KEY` (clap reads both), else the config file
//! `$XDG_CONFIG_HOME/sds/client.toml` (`~/.config/sds/client.toml` when
//! `XDG_CONFIG_HOME` is unset, as the XDG Base Directory spec says):
//!
//! ```toml
//! url = "http://127.0.0.1:8080"
//! key = "the master key"
//! ```
//!
//! Without any URL the client uses `http://127.0.0.1:8080`, where `sds
//! serve` listens by default.

use std::path::PathBuf;

use serde::Deserialize;

use super::endpoint::Endpoint;
use super::{ClientError, Connection};

/// Where `sds serve` listens by default.
const DEFAULT_URL: &str = "http://127.0.0.1:8080";

/// The resolved server URL and key.
pub struct Settings {
    pub url: String,
    pub key: String,
}

/// The config file's content; other keys are an error that names them.
#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    url: Option<String>,
    key: Option<String>,
}

/// The config file's path: `$XDG_CONFIG_HOME/sds/client.toml`, else
/// `$HOME/.config/sds/client.toml`; `None` without either variable.
pub fn config_path() -> Option<PathBuf> {
    let absolute = |name: &str| std::env::var_os(name).map(PathBuf::from).filter(|path| path.is_absolute());
    let config_home = absolute("XDG_CONFIG_HOME").or_else(|| absolute("HOME").map(|home| home.join(".config")))?;
    Some(config_home.join("sds").join("client.toml"))
}

/// The endpoint the resolved URL and key name.
pub fn connect(connection: &Connection) -> Result<Endpoint, ClientError> {
    let settings = resolve(connection)?;
    Endpoint::new(&settings.url, &settings.key)
}

/// Resolves the URL and key. Errors: an unreadable or invalid config file
/// (naming it and the problem, never the key), or no key anywhere.
pub fn resolve(connection: &Connection) -> Result<Settings, ClientError> {
    let path = config_path();
    let file = match &path {
        Some(path) if path.exists() => read(path)?,
        _ => ConfigFile::default(),
    };
    let url = connection.url.clone().filter(|url| !url.is_empty()).or(file.url).unwrap_or_else(|| DEFAULT_URL.into());
    let key = connection.key.clone().filter(|key| !key.is_empty()).or(file.key).ok_or_else(|| {
        let file = path.map_or_else(|| "~/.config/sds/client.toml".to_owned(), |path| path.display().to_string());
        ClientError::Usage(format!("no key: give --key, set SDS_KEY, or put key = \"…\" in {file}"))
    })?;
    Ok(Settings { url, key })
}

fn read(path: &std::path::Path) -> Result<ConfigFile, ClientError> {
    let text = std::fs::read_to_string(path).map_err(|error| ClientError::io(path.display().to_string(), error))?;
    // toml's full message quotes the offending line, which may hold the
    // key: only the problem itself is shown.
    toml::from_str(&text).map_err(|error| ClientError::Usage(format!("{}: {}", path.display(), error.message())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_config_keys_are_named() {
        let error = toml::from_str::<ConfigFile>("url = \"x\"\nkye = \"secret\"\n").err().unwrap();
        assert!(error.message().contains("kye"), "{}", error.message());
    }
}
