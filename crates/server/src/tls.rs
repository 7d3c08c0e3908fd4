//! The server's local certificate authority, as Azurite's `--cert` does it:
//! created once in the data directory (`ca.pem`, and its key `ca-key.pem`;
//! both, like every file there, readable by the owner only) and kept, so a client that trusts `ca.pem` keeps trusting
//! every certificate the server issues afterwards, across restarts.
//!
//! A leaf: it imports nothing of this crate, so start-up and the data plane
//! (a node's TLS port) can both issue from it.

use std::io::{self, Write};
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use thiserror::Error;

/// The CA's certificate, for clients to trust (`REQUESTS_CA_BUNDLE`, `--cacert`).
pub const CA_CERT_FILE: &str = "ca.pem";
/// The CA's private key (0600).
const CA_KEY_FILE: &str = "ca-key.pem";
/// The subject every certificate names as its issuer.
const CA_NAME: &str = "georep-server local CA";
/// How long an issued certificate is valid: browsers and Apple's TLS stack
/// refuse server certificates valid for more than 398 days.
const LEAF_DAYS: i64 = 397;

/// Why the CA could not be loaded or a certificate issued.
#[derive(Debug, Error)]
pub enum TlsError {
    /// A file could not be read or written.
    #[error("{path}: {source}")]
    File {
        /// The file.
        path: PathBuf,
        /// What went wrong.
        source: io::Error,
    },
    /// rcgen refused the parameters or the stored key.
    #[error("certificate: {0}")]
    Certificate(#[from] rcgen::Error),
    /// rustls refused the certificate or key.
    #[error("TLS configuration: {0}")]
    Rustls(#[from] rustls::Error),
}

/// The local CA: its key and the parameters it signs with.
pub struct LocalCa {
    issuer: Issuer<'static, KeyPair>,
    cert_pem: String,
    cert_path: PathBuf,
}

impl std::fmt::Debug for LocalCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalCa")
            .field("cert_path", &self.cert_path)
            .finish_non_exhaustive()
    }
}

/// A certificate and its key, in PEM.
#[derive(Clone)]
pub struct Issued {
    /// The certificate.
    pub cert_pem: String,
    /// Its private key (PKCS#8).
    pub key_pem: String,
    cert_der: CertificateDer<'static>,
    key_der: Vec<u8>,
}

impl std::fmt::Debug for Issued {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Issued(…)")
    }
}

/// The CA's parameters. They never change, so a CA reloaded from its key
/// issues exactly as the one that wrote `ca.pem` did (same subject, same
/// key identifier).
fn ca_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, CA_NAME);
    name.push(DnType::OrganizationName, "georep-server");
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

fn read(path: &Path) -> Result<Option<String>, TlsError> {
    match std::fs::read_to_string(path) {
        Ok(text) if !text.trim().is_empty() => Ok(Some(text)),
        Ok(_) => Ok(None),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(TlsError::File {
            path: path.to_owned(),
            source,
        }),
    }
}

/// Writes `text` to `path` with `mode`, replacing what was there.
pub fn write_file(path: &Path, text: &str, mode: u32) -> Result<(), TlsError> {
    let file_error = |source| TlsError::File {
        path: path.to_owned(),
        source,
    };
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, mode);
    let mut file = options.open(path).map_err(file_error)?;
    file.write_all(text.as_bytes()).map_err(file_error)?;
    // The mode of `open` applies only to a new file (and under the umask).
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode))
            .map_err(file_error)?;
    }
    Ok(())
}

impl LocalCa {
    /// Reads the CA from `data_dir`, creating it the first time.
    pub fn load_or_create(data_dir: &Path) -> Result<LocalCa, TlsError> {
        let cert_path = data_dir.join(CA_CERT_FILE);
        let key_path = data_dir.join(CA_KEY_FILE);
        if let (Some(key), Some(cert_pem)) = (read(&key_path)?, read(&cert_path)?) {
            let key = KeyPair::from_pem(&key)?;
            return Ok(LocalCa {
                issuer: Issuer::new(ca_params(), key),
                cert_pem,
                cert_path,
            });
        }
        let key = KeyPair::generate()?;
        let mut params = ca_params();
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(3650);
        let cert = params.self_signed(&key)?;
        // The key first: a CA certificate without its key would be useless.
        write_file(&key_path, &key.serialize_pem(), 0o600)?;
        // Public, but like every file here readable by its owner only
        // (the data directory is too): whoever runs the clients copies it.
        write_file(&cert_path, &cert.pem(), 0o600)?;
        Ok(LocalCa {
            issuer: Issuer::new(ca_params(), key),
            cert_pem: cert.pem(),
            cert_path,
        })
    }

    /// Where `ca.pem` is.
    pub fn cert_path(&self) -> &Path {
        &self.cert_path
    }

    /// The CA certificate in PEM.
    pub fn cert_pem(&self) -> &str {
        &self.cert_pem
    }

    /// A server certificate for `ips` and `dns_names`, with a fresh key.
    pub fn issue(&self, ips: &[IpAddr], dns_names: &[&str]) -> Result<Issued, TlsError> {
        let mut params = CertificateParams::default();
        let mut name = DistinguishedName::new();
        let common = dns_names
            .first()
            .map(|n| (*n).to_owned())
            .or_else(|| ips.first().map(IpAddr::to_string))
            .unwrap_or_else(|| "georep-server".to_owned());
        name.push(DnType::CommonName, common);
        params.distinguished_name = name;
        let mut sans: Vec<SanType> = ips.iter().map(|ip| SanType::IpAddress(*ip)).collect();
        for dns in dns_names {
            sans.push(SanType::DnsName((*dns).try_into()?));
        }
        sans.dedup();
        params.subject_alt_names = sans;
        params.key_usages = vec![
            KeyUsagePurpose::DigitalSignature,
            KeyUsagePurpose::KeyEncipherment,
        ];
        params.extended_key_usages = vec![
            ExtendedKeyUsagePurpose::ServerAuth,
            ExtendedKeyUsagePurpose::ClientAuth,
        ];
        params.use_authority_key_identifier_extension = true;
        let now = time::OffsetDateTime::now_utc();
        params.not_before = now - time::Duration::days(1);
        params.not_after = now + time::Duration::days(LEAF_DAYS - 1);
        let key = KeyPair::generate()?;
        let cert = params.signed_by(&key, &self.issuer)?;
        Ok(Issued {
            cert_pem: cert.pem(),
            key_pem: key.serialize_pem(),
            cert_der: cert.der().clone(),
            key_der: key.serialize_der(),
        })
    }

    /// A rustls server configuration presenting a certificate for
    /// 127.0.0.1, `localhost` and `listen` (HTTP/1.1).
    pub fn server_config(&self, listen: IpAddr) -> Result<Arc<rustls::ServerConfig>, TlsError> {
        let mut ips = vec![IpAddr::from([127, 0, 0, 1])];
        if !listen.is_unspecified() && !ips.contains(&listen) {
            ips.push(listen);
        }
        let issued = self.issue(&ips, &["localhost"])?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(
                vec![issued.cert_der.clone()],
                PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(issued.key_der.clone())),
            )?;
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(Arc::new(config))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rustls::client::danger::ServerCertVerifier;
    use rustls::pki_types::pem::PemObject;

    #[test]
    fn the_ca_is_created_once_with_its_key_private() {
        let dir = tempfile::tempdir().unwrap();
        let first = LocalCa::load_or_create(dir.path()).unwrap();
        let again = LocalCa::load_or_create(dir.path()).unwrap();
        assert_eq!(first.cert_pem(), again.cert_pem());
        assert!(first.cert_pem().starts_with("-----BEGIN CERTIFICATE-----"));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |f: &str| {
                std::fs::metadata(dir.path().join(f))
                    .unwrap()
                    .permissions()
                    .mode()
                    & 0o777
            };
            assert_eq!(mode(CA_KEY_FILE), 0o600);
            assert_eq!(mode(CA_CERT_FILE), 0o600);
        }
    }

    #[test]
    fn a_reloaded_ca_issues_certificates_the_first_one_vouches_for() {
        let dir = tempfile::tempdir().unwrap();
        let original = LocalCa::load_or_create(dir.path()).unwrap();
        let reloaded = LocalCa::load_or_create(dir.path()).unwrap();
        let leaf = reloaded
            .issue(&[IpAddr::from([127, 0, 0, 1])], &["localhost"])
            .unwrap();
        // A rustls client that trusts only the original ca.pem accepts it.
        let mut roots = rustls::RootCertStore::empty();
        let ca_der =
            rustls::pki_types::CertificateDer::from_pem_slice(original.cert_pem().as_bytes())
                .unwrap();
        roots.add(ca_der).unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier =
            rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap();
        let name = rustls::pki_types::ServerName::try_from("127.0.0.1").unwrap();
        let now = rustls::pki_types::UnixTime::now();
        verifier
            .verify_server_cert(&leaf.cert_der, &[], &name, &[], now)
            .expect("the original CA vouches for the reloaded CA's certificate");
        let other = rustls::pki_types::ServerName::try_from("10.9.9.9").unwrap();
        assert!(verifier
            .verify_server_cert(&leaf.cert_der, &[], &other, &[], now)
            .is_err());
        assert!(original.server_config(IpAddr::from([127, 0, 0, 1])).is_ok());
    }
}
