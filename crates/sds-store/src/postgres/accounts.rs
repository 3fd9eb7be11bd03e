//! Accounts and their keys.

use chrono::Utc;
use postgres::{Row, Transaction};
use sds_core::{AccountId, KeyId};

use super::codec::{get, instant_at, nanos, optional_instant_at};
use super::error::is_unique_violation;
use crate::codec::{check_optional_text, check_text};
use crate::{AccountRecord, KeyHash, KeyRecord, Revocation, StoreError, StoreResult};

const KEY_COLUMNS: &str = "k.id, k.account_id, a.name AS account_name, k.hash, k.hint, k.created, k.revoked, k.label
     FROM keys k JOIN accounts a ON a.id = k.account_id";

pub(super) fn ensure_account(tx: &mut Transaction<'_>, name: &str) -> StoreResult<AccountId> {
    check_text("account name", name)?;
    let key = AccountId::name_key(name);
    tx.execute(
        "INSERT INTO accounts (name, name_key, created) VALUES ($1, $2, $3) ON CONFLICT (name_key) DO NOTHING",
        &[&name, &key, &nanos(Utc::now())?],
    )?;
    let row = tx.query_one("SELECT id FROM accounts WHERE name_key = $1", &[&key])?;
    Ok(AccountId(row.get(0)))
}

/// See [`crate::Store::create_first_account`]. Runs under the store's write
/// lock (`PostgresStore::write`), so two servers cannot both find the table
/// empty: the second waits and then sees the first's row.
pub(super) fn create_first_account(
    tx: &mut Transaction<'_>,
    name: &str,
    keys: &[(KeyHash, String)],
) -> StoreResult<Option<AccountId>> {
    if tx.query_opt("SELECT 1 FROM accounts LIMIT 1", &[])?.is_some() {
        return Ok(None);
    }
    let account = ensure_account(tx, name)?;
    for (hash, hint) in keys {
        add_key(tx, account, hash, hint, None)?;
    }
    Ok(Some(account))
}

/// Adds a key with its label in one statement; a taken hash is a conflict
/// that names no account.
pub(super) fn add_key(
    tx: &mut Transaction<'_>,
    account: AccountId,
    hash: &KeyHash,
    hint: &str,
    label: Option<&str>,
) -> StoreResult<KeyId> {
    check_text("key hint", hint)?;
    check_optional_text("key label", label)?;
    if tx.query_opt("SELECT 1 FROM accounts WHERE id = $1", &[&account.0])?.is_none() {
        return Err(StoreError::NotFound(format!("account {account}")));
    }
    // A savepoint, so that a unique violation leaves the transaction usable
    // (PostgreSQL aborts a transaction on any error).
    let mut savepoint = tx.savepoint("add_key")?;
    let inserted = savepoint.query_one(
        "INSERT INTO keys (account_id, hash, hint, created, label) VALUES ($1, $2, $3, $4, $5) RETURNING id",
        &[&account.0, &&hash[..], &hint, &nanos(Utc::now())?, &label],
    );
    match inserted {
        Ok(row) => {
            savepoint.commit()?;
            super::cluster::bump_changes(tx)?;
            Ok(KeyId(row.get(0)))
        }
        Err(error) if is_unique_violation(&error) => Err(StoreError::Conflict("this key is already registered".into())),
        Err(error) => Err(error.into()),
    }
}

pub(super) fn key_by_hash(tx: &mut Transaction<'_>, hash: &KeyHash) -> StoreResult<Option<KeyRecord>> {
    let row = tx.query_opt(&format!("SELECT {KEY_COLUMNS} WHERE k.hash = $1"), &[&&hash[..]])?;
    // As in the SQLite store: the index lookup's timing depends only on
    // stored hashes of random keys; the final decision has no early exit.
    Ok(row.map(|row| key_record(&row)).transpose()?.filter(|record| constant_time_eq(&record.hash, hash)))
}

pub(super) fn key(tx: &mut Transaction<'_>, id: KeyId) -> StoreResult<Option<KeyRecord>> {
    let row = tx.query_opt(&format!("SELECT {KEY_COLUMNS} WHERE k.id = $1"), &[&id.0])?;
    row.map(|row| key_record(&row)).transpose()
}

pub(super) fn revoke_key(tx: &mut Transaction<'_>, id: KeyId, replacement: Option<KeyId>) -> StoreResult<Revocation> {
    let revoked = key(tx, id)?.ok_or_else(|| StoreError::NotFound(format!("key {id}")))?;
    super::cluster::bump_changes(tx)?;
    if revoked.revoked.is_none() {
        tx.execute("UPDATE keys SET revoked = $2 WHERE id = $1", &[&id.0, &nanos(Utc::now())?])?;
    }
    let mut outcome = Revocation::default();
    if let Some(replacement_id) = replacement {
        let replacement =
            key(tx, replacement_id)?.ok_or_else(|| StoreError::NotFound(format!("key {replacement_id}")))?;
        if replacement.id == revoked.id || replacement.account_id != revoked.account_id || replacement.revoked.is_some()
        {
            return Err(StoreError::Conflict(format!(
                "key {replacement_id} cannot replace key {id}: it must be another active key of account '{}'",
                revoked.account_name
            )));
        }
        let transferred: i64 = tx
            .query_one("SELECT COUNT(*) FROM data_sources WHERE master_key_id = $1 OR query_key_id = $1", &[&id.0])?
            .get(0);
        outcome.transferred = transferred as u64;
        tx.execute("UPDATE data_sources SET master_key_id = $2 WHERE master_key_id = $1", &[&id.0, &replacement_id.0])?;
        // Even where the replacement is also the master key: clearing the
        // query key instead would open the data source to every key of the account.
        tx.execute("UPDATE data_sources SET query_key_id = $2 WHERE query_key_id = $1", &[&id.0, &replacement_id.0])?;
    }
    let without_master: i64 =
        tx.query_one("SELECT COUNT(*) FROM data_sources WHERE master_key_id = $1", &[&id.0])?.get(0);
    outcome.without_master = without_master as u64;
    Ok(outcome)
}

/// Every account with its keys, by name as SQLite's `NOCASE` orders it
/// (the folded name, then the id).
pub(super) fn accounts(tx: &mut Transaction<'_>) -> StoreResult<Vec<AccountRecord>> {
    let mut accounts = Vec::new();
    for row in tx.query("SELECT id, name, created FROM accounts ORDER BY name_key, id", &[])? {
        accounts.push(AccountRecord {
            id: AccountId(get(&row, "id")?),
            name: get(&row, "name")?,
            created: instant_at(&row, "created")?,
            keys: Vec::new(),
        });
    }
    for row in tx.query(&format!("SELECT {KEY_COLUMNS} ORDER BY k.id"), &[])? {
        let key = key_record(&row)?;
        if let Some(account) = accounts.iter_mut().find(|account| account.id == key.account_id) {
            account.keys.push(key);
        }
    }
    Ok(accounts)
}

fn key_record(row: &Row) -> StoreResult<KeyRecord> {
    let hash: &[u8] = get(row, "hash")?;
    Ok(KeyRecord {
        id: KeyId(get(row, "id")?),
        account_id: AccountId(get(row, "account_id")?),
        account_name: get(row, "account_name")?,
        hash: hash
            .try_into()
            .map_err(|_| StoreError::Corrupt(format!("a key hash has {} bytes, not 32", hash.len())))?,
        hint: get(row, "hint")?,
        created: instant_at(row, "created")?,
        revoked: optional_instant_at(row, "revoked")?,
        label: get(row, "label")?,
    })
}

fn constant_time_eq(left: &[u8; 32], right: &[u8; 32]) -> bool {
    let difference = left.iter().zip(right).fold(0u8, |difference, (a, b)| difference | (a ^ b));
    std::hint::black_box(difference) == 0
}
