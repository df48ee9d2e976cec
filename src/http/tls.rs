//! HTTPS and WSS: the certificate chain and private key named by `[http.tls]` (PEM files),
//! served through rustls by a resolver whose certificate is swapped while the server runs.
//! [`Tls::reload`] (on SIGHUP) reads the files again: new handshakes get the new certificate,
//! connections already open keep theirs. A reload that fails keeps the old certificate.

use crate::config::TlsConfig;
use arc_swap::ArcSwap;
use rustls::crypto::CryptoProvider;
use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    #[error("cannot read the TLS certificate {path}: {message}")]
    Certificate { path: PathBuf, message: String },
    #[error("cannot read the TLS private key {path}: {message}")]
    Key { path: PathBuf, message: String },
    #[error("the TLS key {key} does not belong to the certificate {cert}: {message}")]
    Mismatch {
        cert: PathBuf,
        key: PathBuf,
        message: String,
    },
    #[error("cannot set up TLS: {0}")]
    Setup(String),
}

impl TlsError {
    /// A stable name for the failure (logs, tests).
    pub fn code(&self) -> &'static str {
        match self {
            TlsError::Certificate { .. } => "tls_certificate",
            TlsError::Key { .. } => "tls_key",
            TlsError::Mismatch { .. } => "tls_key_mismatch",
            TlsError::Setup(_) => "tls_setup",
        }
    }
}

/// Hands every handshake the current certificate.
#[derive(Debug)]
struct SwappableCert(ArcSwap<CertifiedKey>);

impl ResolvesServerCert for SwappableCert {
    fn resolve(&self, _hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        Some(self.0.load_full())
    }
}

/// The server's TLS identity, loaded from `[http.tls]` and reloadable.
#[derive(Clone)]
pub struct Tls {
    files: TlsConfig,
    provider: Arc<CryptoProvider>,
    current: Arc<SwappableCert>,
}

impl Tls {
    /// Reads and checks the certificate chain and key.
    pub fn load(files: &TlsConfig) -> Result<Tls, TlsError> {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let key = certified_key(files, &provider)?;
        Ok(Tls {
            files: files.clone(),
            provider,
            current: Arc::new(SwappableCert(ArcSwap::from_pointee(key))),
        })
    }

    /// Reads the files again and serves them to new connections; on error the certificate in
    /// use stays.
    pub fn reload(&self) -> Result<(), TlsError> {
        let key = certified_key(&self.files, &self.provider)?;
        self.current.0.store(Arc::new(key));
        Ok(())
    }

    /// The rustls configuration for the listener (TLS 1.2 and 1.3, no client certificates).
    pub fn server_config(&self) -> Result<rustls::ServerConfig, TlsError> {
        let config = rustls::ServerConfig::builder_with_provider(self.provider.clone())
            .with_safe_default_protocol_versions()
            .map_err(|e| TlsError::Setup(e.to_string()))?
            .with_no_client_auth()
            .with_cert_resolver(self.current.clone());
        Ok(config)
    }
}

fn certified_key(files: &TlsConfig, provider: &CryptoProvider) -> Result<CertifiedKey, TlsError> {
    let chain = read_chain(&files.cert)?;
    let key = PrivateKeyDer::from_pem_file(&files.key).map_err(|e| TlsError::Key {
        path: files.key.clone(),
        message: e.to_string(),
    })?;
    CertifiedKey::from_der(chain, key, provider).map_err(|e| TlsError::Mismatch {
        cert: files.cert.clone(),
        key: files.key.clone(),
        message: e.to_string(),
    })
}

/// The certificates of a PEM file, leaf first; at least one.
fn read_chain(path: &Path) -> Result<Vec<CertificateDer<'static>>, TlsError> {
    let failed = |message: String| TlsError::Certificate {
        path: path.to_path_buf(),
        message,
    };
    let chain = CertificateDer::pem_file_iter(path)
        .map_err(|e| failed(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| failed(e.to_string()))?;
    if chain.is_empty() {
        return Err(failed("no PEM certificate in the file".into()));
    }
    Ok(chain)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write_pair(dir: &Path, name: &str) -> TlsConfig {
        let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
        let files = TlsConfig {
            cert: dir.join(format!("{name}.crt")),
            key: dir.join(format!("{name}.key")),
            redirect_listen: None,
        };
        std::fs::write(&files.cert, cert.cert.pem()).unwrap();
        std::fs::write(&files.key, cert.key_pair.serialize_pem()).unwrap();
        files
    }

    #[test]
    fn a_matching_pair_loads_and_reloads() {
        let dir = tempfile::tempdir().unwrap();
        let files = write_pair(dir.path(), "a");
        let tls = Tls::load(&files).unwrap();
        let before = tls.current.0.load_full();
        tls.server_config().unwrap();
        // New files in place: the reload serves them.
        write_pair(dir.path(), "a");
        tls.reload().unwrap();
        assert_ne!(before.cert, tls.current.0.load_full().cert);
    }

    #[test]
    fn bad_files_are_refused_and_a_failed_reload_keeps_the_certificate() {
        let dir = tempfile::tempdir().unwrap();
        let a = write_pair(dir.path(), "a");
        let b = write_pair(dir.path(), "b");
        let mismatched = TlsConfig {
            key: b.key.clone(),
            ..a.clone()
        };
        assert_eq!(
            Tls::load(&mismatched).err().unwrap().code(),
            "tls_key_mismatch"
        );
        let missing = TlsConfig {
            cert: dir.path().join("none.crt"),
            ..a.clone()
        };
        assert_eq!(Tls::load(&missing).err().unwrap().code(), "tls_certificate");
        std::fs::write(dir.path().join("empty.key"), "not pem").unwrap();
        let no_key = TlsConfig {
            key: dir.path().join("empty.key"),
            ..a.clone()
        };
        assert_eq!(Tls::load(&no_key).err().unwrap().code(), "tls_key");

        let tls = Tls::load(&a).unwrap();
        let before = tls.current.0.load_full();
        std::fs::write(&a.cert, "garbage").unwrap();
        assert_eq!(tls.reload().unwrap_err().code(), "tls_certificate");
        assert_eq!(before.cert, tls.current.0.load_full().cert);
    }
}
