//! Accounts and their keys.

use chrono::Utc;
use rusqlite::{params, Connection, OptionalExtension, Row};
use sds_core::{AccountId, KeyId};

use super::codec::{instant_at, nanos};
use crate::codec::{check_optional_text, check_text};
use crate::{AccountRecord, KeyHash, KeyRecord, Revocation, StoreError, StoreResult};

const KEY_COLUMNS: &str = "k.id, k.account_id, a.name AS account_name, k.hash, k.hint, k.created, k.revoked, k.label
     FROM keys k JOIN accounts a ON a.id = k.account_id";

pub(super) fn ensure_account(connection: &Connection, name: &str) -> StoreResult<AccountId> {
    check_text("account name", name)?;
    // The name column is NOCASE, so this finds "Contoso" when asked for "contoso".
    connection
        .prepare_cached("INSERT INTO accounts (name, created) VALUES (?1, ?2) ON CONFLICT (name) DO NOTHING")?
        .execute(params![name, nanos(Utc::now())?])?;
    let id =
        connection.prepare_cached("SELECT id FROM accounts WHERE name = ?1")?.query_row([name], |row| row.get(0))?;
    Ok(AccountId(id))
}

pub(super) fn add_key(connection: &Connection, account: AccountId, hash: &KeyHash, hint: &str) -> StoreResult<KeyId> {
    check_text("key hint", hint)?;
    let exists = connection.prepare_cached("SELECT 1 FROM accounts WHERE id = ?1")?.exists([account.0])?;
    if !exists {
        return Err(StoreError::NotFound(format!("account {account}")));
    }
    let inserted = connection
        .prepare_cached("INSERT INTO keys (account_id, hash, hint, created) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![account.0, &hash[..], hint, nanos(Utc::now())?]);
    match inserted {
        Ok(_) => {
            let id = KeyId(connection.last_insert_rowid());
            super::cluster::bump_changes(connection)?;
            Ok(id)
        }
        Err(error) if is_unique_violation(&error) => Err(StoreError::Conflict("this key is already registered".into())),
        Err(error) => Err(error.into()),
    }
}

pub(super) fn set_label(connection: &Connection, id: KeyId, label: Option<&str>) -> StoreResult<()> {
    check_optional_text("key label", label)?;
    connection.prepare_cached("UPDATE keys SET label = ?2 WHERE id = ?1")?.execute(params![id.0, label])?;
    Ok(())
}

pub(super) fn key_by_hash(connection: &Connection, hash: &KeyHash) -> StoreResult<Option<KeyRecord>> {
    let found = connection
        .prepare_cached(&format!("SELECT {KEY_COLUMNS} WHERE k.hash = ?1"))?
        .query_row([&hash[..]], key_record)
        .optional()?;
    // The index lookup above takes time that depends on the stored hashes,
    // which is harmless: they are SHA-256 of random keys. The final equality
    // decision is made without an early exit, so that its timing does not
    // depend on how much of a presented hash matches, even if the lookup
    // path ever changes to something like a prefix match.
    Ok(found.filter(|record| constant_time_eq(&record.hash, hash)))
}

pub(super) fn revoke_key(connection: &Connection, id: KeyId, replacement: Option<KeyId>) -> StoreResult<Revocation> {
    let revoked = key(connection, id)?.ok_or_else(|| StoreError::NotFound(format!("key {id}")))?;
    super::cluster::bump_changes(connection)?;
    if revoked.revoked.is_none() {
        connection
            .prepare_cached("UPDATE keys SET revoked = ?2 WHERE id = ?1")?
            .execute(params![id.0, nanos(Utc::now())?])?;
    }
    let mut outcome = Revocation::default();
    if let Some(replacement_id) = replacement {
        let replacement =
            key(connection, replacement_id)?.ok_or_else(|| StoreError::NotFound(format!("key {replacement_id}")))?;
        if replacement.id == revoked.id || replacement.account_id != revoked.account_id || replacement.revoked.is_some()
        {
            return Err(StoreError::Conflict(format!(
                "key {replacement_id} cannot replace key {id}: it must be another active key of account '{}'",
                revoked.account_name
            )));
        }
        outcome.transferred = connection
            .prepare_cached("SELECT COUNT(*) FROM data_sources WHERE master_key_id = ?1 OR query_key_id = ?1")?
            .query_row([id.0], |row| row.get::<_, i64>(0))? as u64;
        connection
            .prepare_cached("UPDATE data_sources SET master_key_id = ?2 WHERE master_key_id = ?1")?
            .execute(params![id.0, replacement_id.0])?;
        // Even where the replacement is also the master key: clearing the
        // query key instead would open the data source to every key of
        // the account.
        connection
            .prepare_cached("UPDATE data_sources SET query_key_id = ?2 WHERE query_key_id = ?1")?
            .execute(params![id.0, replacement_id.0])?;
    }
    outcome.without_master = connection
        .prepare_cached("SELECT COUNT(*) FROM data_sources WHERE master_key_id = ?1")?
        .query_row([id.0], |row| row.get::<_, i64>(0))? as u64;
    Ok(outcome)
}

pub(super) fn key(connection: &Connection, id: KeyId) -> StoreResult<Option<KeyRecord>> {
    let found = connection
        .prepare_cached(&format!("SELECT {KEY_COLUMNS} WHERE k.id = ?1"))?
        .query_row([id.0], key_record)
        .optional()?;
    Ok(found)
}

pub(super) fn accounts(connection: &Connection) -> StoreResult<Vec<AccountRecord>> {
    let mut accounts: Vec<AccountRecord> = connection
        .prepare_cached("SELECT id, name, created FROM accounts ORDER BY name, id")?
        .query_map([], |row| {
            Ok(AccountRecord {
                id: AccountId(row.get("id")?),
                name: row.get("name")?,
                created: instant_at(row, "created")?,
                keys: Vec::new(),
            })
        })?
        .collect::<Result<_, _>>()?;
    let mut statement = connection.prepare_cached(&format!("SELECT {KEY_COLUMNS} ORDER BY k.id"))?;
    for key in statement.query_map([], key_record)? {
        let key = key?;
        if let Some(account) = accounts.iter_mut().find(|account| account.id == key.account_id) {
            account.keys.push(key);
        }
    }
    Ok(accounts)
}

fn key_record(row: &Row<'_>) -> rusqlite::Result<KeyRecord> {
    Ok(KeyRecord {
        id: KeyId(row.get("id")?),
        account_id: AccountId(row.get("account_id")?),
        account_name: row.get("account_name")?,
        hash: row.get("hash")?,
        hint: row.get("hint")?,
        created: instant_at(row, "created")?,
        revoked: match row.get::<_, Option<i64>>("revoked")? {
            Some(_) => Some(instant_at(row, "revoked")?),
            None => None,
        },
        label: row.get("label")?,
    })
}

fn constant_time_eq(left: &[u8; 32], right: &[u8; 32]) -> bool {
    let difference = left.iter().zip(right).fold(0u8, |difference, (a, b)| difference | (a ^ b));
    std::hint::black_box(difference) == 0
}

pub(super) fn is_unique_violation(error: &rusqlite::Error) -> bool {
    matches!(
        error,
        rusqlite::Error::SqliteFailure(failure, _)
            if failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_UNIQUE
                || failure.extended_code == rusqlite::ffi::SQLITE_CONSTRAINT_PRIMARYKEY
    )
}

#[cfg(test)]
mod tests {
    use super::constant_time_eq;

    #[test]
    fn constant_time_eq_compares_every_byte() {
        let a = [7u8; 32];
        let mut b = a;
        assert!(constant_time_eq(&a, &b));
        b[31] = 8;
        assert!(!constant_time_eq(&a, &b));
    }
}
