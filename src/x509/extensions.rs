//! The X.509v3 extensions of a certificate (RFC 5280 §4.2) that tell what it may be used
//! for, in the words `openssl x509 -text` uses: basic constraints, key usage, extended key
//! usage, subject alternative names, and the subject and authority key identifiers.
//! Others are listed by OID. Every string from the certificate is escaped.

use serde::Serialize;
use x509_parser::extensions::{GeneralName, ParsedExtension};
use x509_parser::prelude::X509Certificate;

use crate::subject::display_name;
use crate::text::{escape, hex_colon};

/// The extensions of a certificate. A field is `None` when the extension is absent.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Extensions {
    /// basicConstraints (2.5.29.19).
    pub basic_constraints: Option<BasicConstraints>,
    /// keyUsage (2.5.29.15).
    pub key_usage: Option<Usages>,
    /// extKeyUsage (2.5.29.37).
    pub extended_key_usage: Option<Usages>,
    /// subjectAltName (2.5.29.17).
    pub subject_alt_names: Option<Names>,
    /// subjectKeyIdentifier (2.5.29.14), hex with colons.
    pub subject_key_identifier: Option<String>,
    /// authorityKeyIdentifier (2.5.29.35).
    pub authority_key_identifier: Option<AuthorityKeyId>,
    /// Any other extension, by OID (and name when certmint knows it).
    pub other: Vec<OtherExtension>,
}

/// basicConstraints: whether the certificate is a CA, and its path length limit.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct BasicConstraints {
    /// Marked critical.
    pub critical: bool,
    /// `CA:TRUE`.
    pub ca: bool,
    /// `pathlen`, when given.
    pub path_len: Option<u32>,
}

/// keyUsage or extKeyUsage: the usages, named as OpenSSL names them (an extended key
/// usage OpenSSL has no name for is its dotted OID).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Usages {
    /// Marked critical.
    pub critical: bool,
    /// e.g. `Digital Signature`, `TLS Web Client Authentication`.
    pub usages: Vec<String>,
}

/// subjectAltName: each name as OpenSSL shows it (`DNS:`, `IP Address:`, `email:`, `URI:`,
/// `DirName:`, `Registered ID:`, `othername:`).
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Names {
    /// Marked critical.
    pub critical: bool,
    /// e.g. `DNS:acme.example`, `IP Address:127.0.0.1`.
    pub names: Vec<String>,
}

/// authorityKeyIdentifier: the issuing key's identifier and, optionally, the issuer's
/// name and serial.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AuthorityKeyId {
    /// The key identifier, hex with colons.
    pub key_id: Option<String>,
    /// The issuer's names, as in [`Names`].
    pub issuer: Vec<String>,
    /// The issuer's certificate serial, hex with colons.
    pub serial: Option<String>,
}

/// An extension certmint does not decode.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct OtherExtension {
    /// Dotted OID.
    pub oid: String,
    /// Its name, when known.
    pub name: Option<String>,
    /// Marked critical.
    pub critical: bool,
}

/// The key usages in the order of the bit string (RFC 5280 §4.2.1.3), named as OpenSSL does.
const KEY_USAGES: [&str; 9] = [
    "Digital Signature",
    "Non Repudiation",
    "Key Encipherment",
    "Data Encipherment",
    "Key Agreement",
    "Certificate Sign",
    "CRL Sign",
    "Encipher Only",
    "Decipher Only",
];

fn other_name(oid: &str) -> Option<&'static str> {
    Some(match oid {
        "2.5.29.31" => "CRL Distribution Points",
        "1.3.6.1.5.5.7.1.1" => "Authority Information Access",
        "2.5.29.32" => "Certificate Policies",
        "2.5.29.18" => "Issuer Alternative Name",
        "2.5.29.30" => "Name Constraints",
        "2.5.29.36" => "Policy Constraints",
        "2.16.840.1.113730.1.1" => "Netscape Cert Type",
        "2.16.840.1.113730.1.13" => "Netscape Comment",
        "1.3.6.1.4.1.11129.2.4.2" => "CT Precertificate SCTs",
        _ => return None,
    })
}

/// A general name as OpenSSL prints it.
fn general_name(name: &GeneralName<'_>) -> String {
    match name {
        GeneralName::DNSName(d) => format!("DNS:{}", escape(d)),
        GeneralName::RFC822Name(e) => format!("email:{}", escape(e)),
        GeneralName::URI(u) => format!("URI:{}", escape(u)),
        GeneralName::IPAddress(bytes) => match bytes.len() {
            4 => {
                let mut a = [0u8; 4];
                a.copy_from_slice(bytes);
                format!("IP Address:{}", std::net::Ipv4Addr::from(a))
            }
            16 => {
                let mut a = [0u8; 16];
                a.copy_from_slice(bytes);
                format!("IP Address:{}", std::net::Ipv6Addr::from(a))
            }
            _ => format!("IP Address:<invalid: {}>", hex_colon(bytes)),
        },
        GeneralName::DirectoryName(n) => format!("DirName:{}", display_name(n)),
        GeneralName::RegisteredID(oid) => format!("Registered ID:{}", oid.to_id_string()),
        GeneralName::OtherName(oid, _) => format!("othername:{}", oid.to_id_string()),
        GeneralName::X400Address(_) => "X400Name:<unsupported>".to_owned(),
        GeneralName::EDIPartyName(_) => "EdiPartyName:<unsupported>".to_owned(),
        GeneralName::Invalid(_, bytes) => format!("<invalid: {}>", hex_colon(bytes)),
    }
}

/// Read the extensions of a parsed certificate.
pub(crate) fn read(cert: &X509Certificate<'_>) -> Extensions {
    let mut x = Extensions::default();
    for ext in cert.iter_extensions() {
        let critical = ext.critical;
        match ext.parsed_extension() {
            ParsedExtension::BasicConstraints(bc) => {
                x.basic_constraints = Some(BasicConstraints {
                    critical,
                    ca: bc.ca,
                    path_len: bc.path_len_constraint,
                });
            }
            ParsedExtension::KeyUsage(ku) => {
                let usages = KEY_USAGES
                    .iter()
                    .enumerate()
                    .filter(|(bit, _)| (ku.flags >> bit) & 1 == 1)
                    .map(|(_, name)| (*name).to_owned())
                    .collect();
                x.key_usage = Some(Usages { critical, usages });
            }
            ParsedExtension::ExtendedKeyUsage(eku) => {
                let mut usages: Vec<String> = [
                    (eku.any, "Any Extended Key Usage"),
                    (eku.server_auth, "TLS Web Server Authentication"),
                    (eku.client_auth, "TLS Web Client Authentication"),
                    (eku.code_signing, "Code Signing"),
                    (eku.email_protection, "E-mail Protection"),
                    (eku.time_stamping, "Time Stamping"),
                    (eku.ocsp_signing, "OCSP Signing"),
                ]
                .iter()
                .filter(|(set, _)| *set)
                .map(|(_, name)| (*name).to_owned())
                .collect();
                usages.extend(eku.other.iter().map(|oid| oid.to_id_string()));
                x.extended_key_usage = Some(Usages { critical, usages });
            }
            ParsedExtension::SubjectAlternativeName(san) => {
                x.subject_alt_names = Some(Names {
                    critical,
                    names: san.general_names.iter().map(general_name).collect(),
                });
            }
            ParsedExtension::SubjectKeyIdentifier(k) => {
                x.subject_key_identifier = Some(hex_colon(k.0));
            }
            ParsedExtension::AuthorityKeyIdentifier(a) => {
                x.authority_key_identifier = Some(AuthorityKeyId {
                    key_id: a.key_identifier.as_ref().map(|k| hex_colon(k.0)),
                    issuer: a
                        .authority_cert_issuer
                        .iter()
                        .flatten()
                        .map(general_name)
                        .collect(),
                    serial: a.authority_cert_serial.map(hex_colon),
                });
            }
            _ => {
                let oid = ext.oid.to_id_string();
                x.other.push(OtherExtension {
                    name: other_name(&oid).map(str::to_owned),
                    oid,
                    critical,
                });
            }
        }
    }
    x
}

impl Extensions {
    /// The extensions as `(label, value)` lines, in the order and wording of
    /// `openssl x509 -text` (a critical extension's value starts with `critical, `).
    pub fn lines(&self) -> Vec<(&'static str, String)> {
        let crit = |c: bool, v: String| if c { format!("critical, {v}") } else { v };
        let mut out = Vec::new();
        if let Some(k) = &self.subject_key_identifier {
            out.push(("subject key id", k.clone()));
        }
        if let Some(a) = &self.authority_key_identifier {
            let mut parts = Vec::new();
            if let Some(k) = &a.key_id {
                parts.push(format!("keyid:{k}"));
            }
            parts.extend(a.issuer.iter().cloned());
            if let Some(s) = &a.serial {
                parts.push(format!("serial:{s}"));
            }
            out.push(("authority key id", parts.join(", ")));
        }
        if let Some(b) = &self.basic_constraints {
            let mut v = format!("CA:{}", if b.ca { "TRUE" } else { "FALSE" });
            if let Some(n) = b.path_len {
                v.push_str(&format!(", pathlen:{n}"));
            }
            out.push(("basic constraints", crit(b.critical, v)));
        }
        if let Some(k) = &self.key_usage {
            out.push(("key usage", crit(k.critical, k.usages.join(", "))));
        }
        if let Some(k) = &self.extended_key_usage {
            out.push(("extended key usage", crit(k.critical, k.usages.join(", "))));
        }
        if let Some(n) = &self.subject_alt_names {
            out.push(("subject alt names", crit(n.critical, n.names.join(", "))));
        }
        for o in &self.other {
            let name = o.name.clone().unwrap_or_else(|| o.oid.clone());
            out.push(("other", crit(o.critical, name)));
        }
        out
    }
}
