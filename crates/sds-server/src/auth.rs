//! Who is calling: the `key` parameter, checked against the stored hashes.

use sds_store::KeyRecord;

use crate::error::{ApiError, ErrorKind};
use crate::keys::{hash_key, hashes_equal};
use crate::routes::params::Params;
use crate::state::AppState;

/// Resolves the `key` parameter to its key, or answers 401 with the
/// `authenticationResultCode` SDS gives (no key, unknown key).
pub async fn authenticate(state: &AppState, params: &Params) -> Result<KeyRecord, ApiError> {
    let Some(key) = params.get("key").filter(|key| !key.is_empty()) else {
        return Err(ApiError::new(ErrorKind::NoCredentials, "the 'key' parameter is required"));
    };
    lookup_key(state, key).await?.ok_or_else(|| ApiError::new(ErrorKind::InvalidCredentials, "the key is not valid"))
}

/// Finds a key by its text. The store looks the hash up by index; the
/// final comparison runs in constant time, so response timing does not
/// reveal how much of a guessed key was right. A revoked key is a 401
/// `CredentialsExpired`.
pub async fn lookup_key(state: &AppState, key: &str) -> Result<Option<KeyRecord>, ApiError> {
    let hash = hash_key(key);
    let record = state.store_call(move |store| store.key_by_hash(&hash)).await?;
    match record.filter(|record| hashes_equal(&record.hash, &hash)) {
        Some(record) if record.revoked.is_some() => {
            Err(ApiError::new(ErrorKind::CredentialsExpired, "the key was revoked"))
        }
        found => Ok(found),
    }
}
