//! What kind of key a file or a public key holds, in words, for the keys certmint cannot
//! use: `EC P-256`, `Ed25519`, `DSA`. Salesforce's JWT bearer flow signs with RS256, so
//! certmint works only with RSA keys; it still says what another key is, so that a user
//! who picked the wrong file learns what they have (`inspect`), and a certificate over
//! another key is named as unusable (`check`).

use der::asn1::{BitStringRef, ObjectIdentifier, OctetStringRef};
use der::{Decode, Sequence};

use super::{
    DSA_OID, EC_PUBLIC_KEY_OID, ED448_OID, ED25519_OID, RSA_ENCRYPTION_OID, RSASSA_PSS_OID,
};

use crate::pemfile;

/// SEC1 `ECPrivateKey` (RFC 5915): the `EC PRIVATE KEY` PEM block.
#[derive(Sequence)]
struct EcPrivateKey<'a> {
    version: u8,
    private_key: &'a OctetStringRef,
    #[asn1(context_specific = "0", optional = "true")]
    parameters: Option<ObjectIdentifier>,
    #[asn1(context_specific = "1", optional = "true")]
    public_key: Option<BitStringRef<'a>>,
}

/// The name of a named curve.
fn curve(oid: &ObjectIdentifier) -> String {
    match oid.to_string().as_str() {
        "1.2.840.10045.3.1.7" => "P-256".into(),
        "1.3.132.0.34" => "P-384".into(),
        "1.3.132.0.35" => "P-521".into(),
        "1.3.132.0.10" => "secp256k1".into(),
        other => format!("curve {other}"),
    }
}

/// A key algorithm (an `AlgorithmIdentifier`'s OID and parameters) in words.
fn algorithm(oid: &ObjectIdentifier, parameters: Option<der::AnyRef<'_>>) -> String {
    if *oid == RSA_ENCRYPTION_OID {
        return "RSA".into();
    }
    match oid.to_string().as_str() {
        RSASSA_PSS_OID => "RSASSA-PSS".into(),
        EC_PUBLIC_KEY_OID => {
            match parameters.and_then(|p| p.decode_as::<ObjectIdentifier>().ok()) {
                Some(c) => format!("EC {}", curve(&c)),
                None => "EC".into(),
            }
        }
        ED25519_OID => "Ed25519".into(),
        ED448_OID => "Ed448".into(),
        DSA_OID => "DSA".into(),
        other => format!("algorithm {other}"),
    }
}

/// The algorithm of a DER `SubjectPublicKeyInfo`: `RSA`, `EC P-256`, `Ed25519`, ...
pub fn spki_algorithm(spki_der: &[u8]) -> Option<String> {
    let spki = spki::SubjectPublicKeyInfoRef::from_der(spki_der).ok()?;
    Some(algorithm(&spki.algorithm.oid, spki.algorithm.parameters))
}

/// The algorithm of an unencrypted private key that is not RSA (PKCS#8, or SEC1 `EC
/// PRIVATE KEY`), PEM or DER, with the container's name: `("EC P-256", "PKCS#8")`.
/// `None` for anything else (an RSA key, an encrypted one, not a key).
pub fn private_key_algorithm(data: &[u8]) -> Option<(String, &'static str)> {
    let ders: Vec<(Vec<u8>, bool)> = if pemfile::is_pem(data) {
        pemfile::parse_all(data, crate::error::Input::PrivateKey)
            .ok()?
            .into_iter()
            .filter_map(|b| match b.label.as_str() {
                "PRIVATE KEY" => Some((b.contents.clone(), false)),
                "EC PRIVATE KEY" => Some((b.contents.clone(), true)),
                _ => None,
            })
            .collect()
    } else {
        vec![(data.to_vec(), false), (data.to_vec(), true)]
    };
    for (der, sec1) in ders {
        if sec1 {
            if let Ok(k) = EcPrivateKey::from_der(&der)
                && k.version == 1
            {
                let _ = (k.private_key, k.public_key);
                let name = k
                    .parameters
                    .map_or_else(|| "EC".into(), |c| format!("EC {}", curve(&c)));
                return Some((name, "SEC1"));
            }
        } else if let Ok(info) = pkcs8::PrivateKeyInfoRef::from_der(&der) {
            let name = algorithm(&info.algorithm.oid, info.algorithm.parameters);
            if name != "RSA" {
                return Some((name, "PKCS#8"));
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    // Throwaway keys: `openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256`
    // (PKCS#8), the same key as `openssl ec` writes it (SEC1), and `openssl genpkey
    // -algorithm ED25519`.
    const EC_PKCS8: &str = "-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgNeTewukrX5C+j1rm
g2ioSNz0AXaANxsT7Iyf9x/xxOahRANCAAQAt6+L7p0Qg09RNZns7p8flMlr1WDY
yZsF3i9ucgNWwbNSKbI5xWeswZCWBa6+bCQBRuBwOjCAVySG0adbVF2w
-----END PRIVATE KEY-----
";
    const EC_SEC1: &str = "-----BEGIN EC PRIVATE KEY-----
MHcCAQEEIDXk3sLpK1+Qvo9a5oNoqEjc9AF2gDcbE+yMn/cf8cTmoAoGCCqGSM49
AwEHoUQDQgAEALevi+6dEINPUTWZ7O6fH5TJa9Vg2MmbBd4vbnIDVsGzUimyOcVn
rMGQlgWuvmwkAUbgcDowgFckhtGnW1RdsA==
-----END EC PRIVATE KEY-----
";
    const ED25519: &str = "-----BEGIN PRIVATE KEY-----
MC4CAQAwBQYDK2VwBCIEIHGRMX3szkzpvHHPzArVQL21dnhMmHXobK10HK+zjskE
-----END PRIVATE KEY-----
";

    #[test]
    fn other_keys_are_named() {
        assert_eq!(
            private_key_algorithm(EC_PKCS8.as_bytes()),
            Some(("EC P-256".into(), "PKCS#8"))
        );
        assert_eq!(
            private_key_algorithm(EC_SEC1.as_bytes()),
            Some(("EC P-256".into(), "SEC1"))
        );
        assert_eq!(
            private_key_algorithm(ED25519.as_bytes()),
            Some(("Ed25519".into(), "PKCS#8"))
        );
        let rsa = std::fs::read(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("fixtures/keys/base.pkcs8.pem"),
        )
        .unwrap();
        assert_eq!(private_key_algorithm(&rsa), None);
        assert_eq!(private_key_algorithm(b"junk"), None);
    }
}
