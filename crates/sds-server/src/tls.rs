//! HTTPS without a proxy: `--tls-cert` and `--tls-key` (PEM) served with
//! rustls, HTTP/2 or HTTP/1.1 by ALPN (RFC 7301), the pair read again on
//! SIGHUP so that a renewed certificate (certbot, an internal CA) takes
//! effect without a restart. Connections already open keep the certificate
//! they were opened with; a failed reload keeps the previous pair.
//!
//! Why it matters for SDS: Microsoft's toolkit and many applications
//! hard-code `https://spatial.virtualearth.net`; a DNS entry and a
//! certificate their organisation trusts bring them to `sds` unchanged.

use std::path::{Path, PathBuf};
use std::sync::{Arc, RwLock};

use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::rustls::crypto::CryptoProvider;
use tokio_rustls::rustls::server::{ClientHello, ResolvesServerCert};
use tokio_rustls::rustls::sign::CertifiedKey;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::TlsAcceptor;

/// Why a certificate or key could not be used; each names the file.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the TLS certificate {path}: {detail}")]
    Certificate { path: PathBuf, detail: String },
    #[error("the TLS certificate file {path} holds no PEM certificate")]
    NoCertificate { path: PathBuf },
    #[error("cannot read the TLS private key {path} (PEM: PKCS#8, PKCS#1 or SEC1): {detail}")]
    Key { path: PathBuf, detail: String },
    #[error("the TLS private key {key} does not belong to the certificate {cert}")]
    Mismatch { cert: PathBuf, key: PathBuf },
    #[error("TLS set-up failed: {0}")]
    Rustls(#[from] tokio_rustls::rustls::Error),
}

/// The certificate every handshake gets, replaced on reload.
#[derive(Debug)]
pub struct ReloadableCert {
    cert_path: PathBuf,
    key_path: PathBuf,
    provider: Arc<CryptoProvider>,
    current: RwLock<Arc<CertifiedKey>>,
}

impl ReloadableCert {
    /// Reads the pair again; on an error the previous pair stays in use.
    pub fn reload(&self) -> Result<(), TlsError> {
        let fresh = load(&self.cert_path, &self.key_path, &self.provider)?;
        *self.current.write().expect("the certificate lock is never poisoned") = Arc::new(fresh);
        Ok(())
    }
}

impl ResolvesServerCert for ReloadableCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(Arc::clone(&self.current.read().expect("the certificate lock is never poisoned")))
    }
}

/// The acceptor for `--tls-cert`/`--tls-key` and the handle that reloads
/// them. Errors name the file at fault (unreadable, no certificate, no or
/// unsupported key, a key of another certificate).
pub fn acceptor(cert_path: &Path, key_path: &Path) -> Result<(TlsAcceptor, Arc<ReloadableCert>), TlsError> {
    let provider = Arc::new(tokio_rustls::rustls::crypto::aws_lc_rs::default_provider());
    let first = load(cert_path, key_path, &provider)?;
    let resolver = Arc::new(ReloadableCert {
        cert_path: cert_path.to_owned(),
        key_path: key_path.to_owned(),
        provider: Arc::clone(&provider),
        current: RwLock::new(Arc::new(first)),
    });
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()?
        .with_no_client_auth()
        .with_cert_resolver(Arc::clone(&resolver) as Arc<dyn ResolvesServerCert>);
    // HTTP/2 first: clients that offer both get it.
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok((TlsAcceptor::from(Arc::new(config)), resolver))
}

fn load(cert_path: &Path, key_path: &Path, provider: &CryptoProvider) -> Result<CertifiedKey, TlsError> {
    let certificate_error = |detail: String| TlsError::Certificate { path: cert_path.to_owned(), detail };
    let chain = CertificateDer::pem_file_iter(cert_path)
        .map_err(|error| certificate_error(error.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|error| certificate_error(error.to_string()))?;
    if chain.is_empty() {
        return Err(TlsError::NoCertificate { path: cert_path.to_owned() });
    }
    let key_error = |detail: String| TlsError::Key { path: key_path.to_owned(), detail };
    let key = PrivateKeyDer::from_pem_file(key_path).map_err(|error| key_error(error.to_string()))?;
    let signing_key = provider.key_provider.load_private_key(key).map_err(|error| key_error(error.to_string()))?;
    let certified = CertifiedKey::new(chain, signing_key);
    certified.keys_match().map_err(|_| TlsError::Mismatch { cert: cert_path.to_owned(), key: key_path.to_owned() })?;
    Ok(certified)
}
