//! What the `sds keys` commands print and do on a store: listing keys with
//! the data sources they hold, and importing an existing key value.

use std::fmt::Write;

use anyhow::Context;
use sds_core::KeyId;
use sds_store::{Store, StoreError};

use crate::keys::SecretKey;

/// Registers an existing key value for `account` (created if new), e.g. a
/// Bing Maps key, so that application URLs holding it keep working. The
/// store keeps only its hash and hint, as for generated keys.
///
/// Errors: a value that is not 16–128 characters of `[A-Za-z0-9_-]`, or
/// one that some key (of any account) already has; that message names no
/// account, so import cannot be used to find out who holds a key.
pub fn import_key(store: &dyn Store, account: &str, value: &str, label: Option<&str>) -> anyhow::Result<KeyId> {
    check_label(label)?;
    let key = SecretKey::import(value).context("the key cannot be imported")?;
    // Checked before the account is created, so a refused import stores
    // nothing; the unique hash still guards against a concurrent import.
    if store.key_by_hash(&key.hash())?.is_some() {
        anyhow::bail!("the key cannot be imported: this key value is already registered");
    }
    let account_id = store.ensure_account(account)?;
    match store.add_labelled_key(account_id, &key.hash(), &key.hint(), label) {
        Ok(id) => Ok(id),
        Err(StoreError::Conflict(_)) => {
            anyhow::bail!("the key cannot be imported: this key value is already registered")
        }
        Err(error) => Err(error.into()),
    }
}

/// The longest key label, in characters: a note, not a document.
pub const MAX_LABEL_CHARS: usize = 200;

/// A label is at most [`MAX_LABEL_CHARS`] characters on one line.
fn check_label(label: Option<&str>) -> anyhow::Result<()> {
    let Some(label) = label else { return Ok(()) };
    let chars = label.chars().count();
    if chars > MAX_LABEL_CHARS {
        anyhow::bail!("the label is {chars} characters long; at most {MAX_LABEL_CHARS} are kept");
    }
    if label.chars().any(char::is_control) {
        anyhow::bail!("the label holds a control character (a line break?); give it on one line");
    }
    Ok(())
}

/// `sds keys create`: a new random key for `account` (created if new),
/// with an optional label; returns the key's id and value (shown once).
///
/// Errors: a label over [`MAX_LABEL_CHARS`] characters or with a control
/// character; the store's.
pub fn create_key(store: &dyn Store, account: &str, label: Option<&str>) -> anyhow::Result<(KeyId, SecretKey)> {
    check_label(label)?;
    let account_id = store.ensure_account(account)?;
    let key = SecretKey::generate();
    let id = store.add_labelled_key(account_id, &key.hash(), &key.hint(), label)?;
    Ok((id, key))
}

/// The `sds keys list` text: each account, its keys (hint, id, creation,
/// revocation, label) and, under each key, the data sources it is the
/// master or query key of — how a lost or leaked key is found before it is
/// revoked with `--transfer-to`.
pub fn list_keys(store: &dyn Store) -> anyhow::Result<String> {
    let mut out = String::new();
    for account in store.accounts()? {
        writeln!(out, "account {} (created {})", account.name, account.created.to_rfc3339())?;
        let sources = store.data_sources_of(account.id)?;
        for key in account.keys {
            let revoked = key.revoked.map(|when| format!(", revoked {}", when.to_rfc3339())).unwrap_or_default();
            let label = key.label.as_deref().map(|label| format!(", label {label:?}")).unwrap_or_default();
            writeln!(out, "  key {}… (id {}, created {}{revoked}{label})", key.hint, key.id, key.created.to_rfc3339())?;
            for (role, holds) in [
                (
                    "master key of",
                    &(|source: &sds_core::DataSource| source.master_key == key.id) as &dyn Fn(&_) -> bool,
                ),
                ("query key of", &|source: &sds_core::DataSource| source.query_key == Some(key.id)),
            ] {
                let held: Vec<String> = sources
                    .iter()
                    .filter(|source| holds(source))
                    .map(|source| format!("{} ({})", source.name, source.access_id))
                    .collect();
                if !held.is_empty() {
                    writeln!(out, "    {role}: {}", held.join(", "))?;
                }
            }
        }
    }
    Ok(out)
}
