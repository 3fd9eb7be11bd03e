//! `sds serve --config FILE`: settings from a TOML file.
//!
//! The file's keys are the long flag names of `sds serve` (`data-dir`,
//! `listen`, `job-workers`…), read from clap's own argument list, so every
//! flag `sds serve --help` shows can be set here, including ones added
//! later, without a second list to keep in step. Each value becomes the
//! flag's default before the command line is parsed, which gives clap's own
//! precedence: a flag beats its `SDS_*` variable, which beats the file, which
//! beats the built-in default (README, "Configuration file").
//!
//! Values: a string, integer, float or boolean as the flag would take it;
//! an array for a flag that takes several values (`data-location-hosts`).
//! Clap validates each value as it does a flag's, naming the flag.

use std::ffi::OsString;
use std::path::{Path, PathBuf};

use clap::{Arg, Command};

/// The id of the `--config` argument of `sds serve` ([`crate::ServeConfig::config`]).
pub const CONFIG_ARG: &str = "config";

/// Why a configuration file was refused; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum ConfigFileError {
    #[error("cannot read the config file {}", path.display())]
    Read { path: PathBuf, source: std::io::Error },
    #[error("the config file {} is not valid TOML: {message}", path.display())]
    Syntax { path: PathBuf, message: String },
    #[error("the config file {} has unknown key(s): {}", path.display(), describe_unknown(.keys))]
    UnknownKeys {
        path: PathBuf,
        /// Each unknown key with the closest known one, if any is close.
        keys: Vec<(String, Option<String>)>,
    },
    #[error("the config file {}: key `{key}` must be {expected}", path.display())]
    BadValue { path: PathBuf, key: String, expected: &'static str },
    #[error("the config file {}: key `{key}`: {message}", path.display())]
    InvalidValue { path: PathBuf, key: String, message: String },
}

fn describe_unknown(keys: &[(String, Option<String>)]) -> String {
    let described: Vec<String> = keys
        .iter()
        .map(|(key, suggestion)| match suggestion {
            Some(suggestion) => format!("`{key}` (did you mean `{suggestion}`?)"),
            None => format!("`{key}`"),
        })
        .collect();
    described.join(", ")
}

/// The arguments of a `serve` command that a config file may set: those
/// with a long flag, except `--help`, `--version` and `--config` itself.
pub fn settable_args(serve: &Command) -> impl Iterator<Item = &Arg> {
    serve
        .get_arguments()
        .filter(|arg| arg.get_long().is_some() && !matches!(arg.get_id().as_str(), "help" | "version" | CONFIG_ARG))
}

/// Parses `args` as `P`; when the subcommand `subcommand` has `--config
/// FILE` (or its variable), parses again with the file's values as the
/// defaults of that subcommand's flags.
///
/// Errors: the file's, as [`ConfigFileError`]. Command-line errors and
/// `--help` exit the process as clap always does.
pub fn parse<P: clap::Parser>(args: Vec<OsString>, subcommand: &str) -> Result<P, ConfigFileError> {
    let matches = P::command().get_matches_from(args.clone());
    let path = matches
        .subcommand()
        .filter(|(name, _)| *name == subcommand)
        .and_then(|(_, sub)| sub.get_one::<PathBuf>(CONFIG_ARG).cloned());
    let Some(path) = path else {
        return Ok(P::from_arg_matches(&matches).unwrap_or_else(|error| error.exit()));
    };
    let table = read(&path)?;
    let mut command = P::command();
    let target = command.find_subcommand(subcommand).expect("the subcommand exists");
    let defaults = defaults_from(target, &table, &path)?;
    command = command.mut_subcommand(subcommand, |mut sub| {
        for (id, values) in defaults {
            sub = sub.mut_arg(id, |arg| arg.default_values(values));
        }
        sub
    });
    let matches = command.get_matches_from(args);
    Ok(P::from_arg_matches(&matches).unwrap_or_else(|error| error.exit()))
}

fn read(path: &Path) -> Result<toml::Table, ConfigFileError> {
    let text =
        std::fs::read_to_string(path).map_err(|source| ConfigFileError::Read { path: path.to_owned(), source })?;
    text.parse::<toml::Table>().map_err(|error| ConfigFileError::Syntax {
        path: path.to_owned(),
        // toml's message spans lines (it quotes the line); one line is enough.
        message: error.message().to_owned()
            + &error.span().map(|span| format!(" (at byte {})", span.start)).unwrap_or_default(),
    })
}

/// Each key's argument id and its values as flag text; every unknown key is
/// reported at once.
fn defaults_from(
    serve: &Command,
    table: &toml::Table,
    path: &Path,
) -> Result<Vec<(String, Vec<String>)>, ConfigFileError> {
    let known: Vec<&Arg> = settable_args(serve).collect();
    let mut unknown = Vec::new();
    let mut defaults = Vec::new();
    for (key, value) in table {
        let Some(arg) = known.iter().find(|arg| long_of(arg) == key) else {
            let closest = known
                .iter()
                .map(|arg| (strsim::jaro(key, long_of(arg)), long_of(arg)))
                .filter(|(similarity, _)| *similarity > 0.8)
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, long)| long.to_owned());
            unknown.push((key.clone(), closest));
            continue;
        };
        let bad = |expected| ConfigFileError::BadValue { path: path.to_owned(), key: key.clone(), expected };
        let values = match value {
            toml::Value::Array(items) => {
                if arg.get_num_args().is_none_or(|range| range.max_values() <= 1) && arg.get_value_delimiter().is_none()
                {
                    return Err(bad("a single value, not an array"));
                }
                items.iter().map(scalar).collect::<Option<Vec<_>>>().ok_or_else(|| bad("an array of plain values"))?
            }
            other => vec![scalar(other).ok_or_else(|| bad("a string, number or boolean"))?],
        };
        // Checked here, as the flag's value would be, so that the error
        // names the file and the key rather than the flag.
        for value in &values {
            check_value(arg, value).map_err(|message| ConfigFileError::InvalidValue {
                path: path.to_owned(),
                key: key.clone(),
                message,
            })?;
        }
        defaults.push((arg.get_id().to_string(), values));
    }
    if unknown.is_empty() {
        Ok(defaults)
    } else {
        Err(ConfigFileError::UnknownKeys { path: path.to_owned(), keys: unknown })
    }
}

fn long_of<'a>(arg: &&'a Arg) -> &'a str {
    arg.get_long().expect("settable args have a long flag")
}

/// Parses `value` as `arg`'s value on a command holding only that argument.
fn check_value(arg: &Arg, value: &str) -> Result<(), String> {
    if !arg.get_action().takes_values() {
        return match value {
            "true" | "false" => Ok(()),
            _ => Err(format!("invalid value '{value}': use true or false")),
        };
    }
    let long = long_of(&arg);
    let probe = Command::new("sds").no_binary_name(true).arg(arg.clone());
    probe.try_get_matches_from([format!("--{long}={value}")]).map(drop).map_err(|error| first_line(&error.to_string()))
}

/// Clap's message without its `error: ` prefix and usage lines.
fn first_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or_default();
    line.strip_prefix("error: ").unwrap_or(line).to_owned()
}

/// A TOML scalar as the text a flag would be given.
fn scalar(value: &toml::Value) -> Option<String> {
    match value {
        toml::Value::String(text) => Some(text.clone()),
        toml::Value::Integer(number) => Some(number.to_string()),
        toml::Value::Float(number) => Some(number.to_string()),
        toml::Value::Boolean(flag) => Some(flag.to_string()),
        toml::Value::Datetime(_) | toml::Value::Array(_) | toml::Value::Table(_) => None,
    }
}

/// The example file README shows: every settable key with its default,
/// or commented out (with the flag's value name) when it has none.
pub fn example(serve: &Command) -> String {
    let mut text = String::new();
    for arg in settable_args(serve).filter(|arg| !arg.is_hide_set()) {
        let long = arg.get_long().expect("settable args have a long flag");
        let defaults: Vec<String> =
            arg.get_default_values().iter().map(|value| value.to_string_lossy().into_owned()).collect();
        match defaults.as_slice() {
            [] => text.push_str(&format!("# {long} = …\n")),
            [value] => text.push_str(&format!("{long} = {}\n", toml_literal(value))),
            values => {
                let items: Vec<String> = values.iter().map(|value| toml_literal(value)).collect();
                text.push_str(&format!("{long} = [{}]\n", items.join(", ")));
            }
        }
    }
    text
}

/// A default as TOML: numbers and booleans bare, everything else quoted.
fn toml_literal(value: &str) -> String {
    if value == "true" || value == "false" || value.parse::<i64>().is_ok() {
        value.to_owned()
    } else {
        toml::Value::String(value.to_owned()).to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Args, Parser, Subcommand};

    #[derive(Parser, Debug)]
    struct Cli {
        #[command(subcommand)]
        command: Sub,
    }

    #[derive(Subcommand, Debug)]
    #[allow(clippy::large_enum_variant)]
    enum Sub {
        Serve(crate::ServeConfig),
    }

    fn serve() -> Command {
        crate::ServeConfig::augment_args(Command::new("serve"))
    }

    fn parse_with(file: &str, extra: &[&str]) -> Result<crate::ServeConfig, ConfigFileError> {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sds.toml");
        std::fs::write(&path, file).unwrap();
        let mut args: Vec<OsString> = vec!["sds".into(), "serve".into(), "--config".into(), path.into()];
        args.extend(extra.iter().map(OsString::from));
        parse::<Cli>(args, "serve").map(|cli| match cli.command {
            Sub::Serve(config) => config,
        })
    }

    #[test]
    fn file_values_become_settings_and_flags_win() {
        let config = parse_with(
            "job-workers = 5\nsds-quotas = true\ncopyright = \"(c) file\"\ndata-location-hosts = [\"a.example\", \".b.example\"]\nkeyless-job-status = false\n",
            &["--job-workers", "7"],
        )
        .unwrap();
        assert_eq!(config.job_workers, 7, "a flag beats the file");
        assert!(config.sds_quotas);
        assert!(!config.keyless_job_status);
        assert_eq!(config.copyright, "(c) file");
        assert_eq!(config.data_location_hosts, ["a.example", ".b.example"]);
        assert_eq!(config.auth_cache_seconds, 10, "an unset key keeps its default");
    }

    #[test]
    fn unknown_keys_are_named_with_the_closest_known_one() {
        let error = parse_with("job-worker = 3\nlisten = \"127.0.0.1:9\"\nbanana = 1\n", &[]).unwrap_err();
        let message = error.to_string();
        assert!(message.contains("`job-worker` (did you mean `job-workers`?)"), "{message}");
        assert!(message.contains("`banana`") && !message.contains("`banana` (did"), "{message}");
        assert!(!message.contains("listen"), "{message}");
    }

    #[test]
    fn bad_shapes_and_syntax_are_refused_naming_the_key() {
        let message = parse_with("listen = [\"a\", \"b\"]\n", &[]).unwrap_err().to_string();
        assert!(message.contains("`listen` must be a single value"), "{message}");
        let message = parse_with("copyright = { a = 1 }\n", &[]).unwrap_err().to_string();
        assert!(message.contains("`copyright` must be"), "{message}");
        let message = parse_with("job-workers = \"many\"\n", &[]).unwrap_err().to_string();
        assert!(message.contains("key `job-workers`: invalid value 'many'") && !message.contains('\n'), "{message}");
        let message = parse_with("getstatus-type = \"other\"\n", &[]).unwrap_err().to_string();
        assert!(message.contains("key `getstatus-type`") && message.contains("other"), "{message}");
        let message = parse_with("listen = \n", &[]).unwrap_err().to_string();
        assert!(message.contains("not valid TOML") && !message.contains('\n'), "{message}");
    }

    #[test]
    fn the_example_lists_every_visible_setting() {
        let example = example(&serve());
        let table: toml::Table = example.parse().expect("the example is TOML");
        for arg in settable_args(&serve()).filter(|arg| !arg.is_hide_set()) {
            let long = arg.get_long().unwrap();
            let listed = table.contains_key(long) || example.contains(&format!("# {long} = "));
            assert!(listed, "{long} missing from\n{example}");
        }
        assert_eq!(table.get("job-workers").and_then(toml::Value::as_integer), Some(2));
        assert_eq!(table.get("keyless-job-status").and_then(toml::Value::as_bool), Some(true));
    }

    /// README's example file must hold every setting, each with its real
    /// default; the expected text is printed on failure, to paste.
    #[test]
    fn readme_shows_every_setting_with_its_default() {
        let readme = include_str!("../../../README.md");
        let start = readme.find("```toml\n# sds.toml").expect("README has the example file") + "```toml\n".len();
        let block = &readme[start..start + readme[start..].find("```").unwrap()];
        let expected = example(&serve());
        for line in expected.lines() {
            let key = line.trim_start_matches("# ").split(" = ").next().unwrap();
            let found = if line.starts_with('#') {
                block.lines().any(|shown| shown.trim_start_matches("# ").starts_with(&format!("{key} = ")))
            } else {
                block.lines().any(|shown| shown == line)
            };
            assert!(found, "README's example file lacks `{line}`; every setting is:\n{expected}");
        }
        // The example, uncommented, is a file the server accepts.
        let uncommented: String = block
            .lines()
            .filter(|line| !line.starts_with("# ") || line.contains(" = ") && !line.contains('…'))
            .map(|line| line.trim_start_matches("# ").to_owned() + "\n")
            .collect();
        parse_with(&uncommented, &[]).expect("README's example file is accepted");
    }
}
