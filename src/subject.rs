//! Distinguished names (RFC 5280 §4.1.2.4) for CSRs and certificates.
//!
//! Accepts OpenSSL's `-subj` syntax, `/C=US/ST=California/O=Acme/CN=acme-jwt`, where a
//! backslash escapes the next character (so `/O=Acme\/Widgets` is one value), and builds
//! names field by field. Validation follows the X.509 upper bounds (RFC 5280 Appendix A)
//! and what Salesforce needs: a two-letter country code and a non-empty common name.
//!
//! Names read from certificates and CSRs are shown with [`display_name`] (`C=US, O=Acme,
//! CN=acme-jwt`, escaped for terminals), and copied into a new certificate, byte for byte,
//! with `name_to_rcgen` (what `renew` and `cert --csr` do).

use std::fmt;

use x509_parser::x509::{AttributeTypeAndValue, X509Name};

use crate::error::Input;
use crate::text::escape;
use crate::{Error, Result};

/// An attribute type certmint writes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Attr {
    /// countryName (C), 2.5.4.6
    Country,
    /// stateOrProvinceName (ST), 2.5.4.8
    State,
    /// localityName (L), 2.5.4.7
    Locality,
    /// organizationName (O), 2.5.4.10
    Org,
    /// organizationalUnitName (OU), 2.5.4.11
    OrgUnit,
    /// commonName (CN), 2.5.4.3
    CommonName,
    /// emailAddress, 1.2.840.113549.1.9.1 (PKCS#9)
    Email,
}

impl Attr {
    /// Parse an OpenSSL short or long name (case-insensitive).
    pub fn from_name(name: &str) -> Option<Self> {
        Some(match name.to_ascii_lowercase().as_str() {
            "c" | "countryname" => Attr::Country,
            "st" | "s" | "stateorprovincename" => Attr::State,
            "l" | "localityname" => Attr::Locality,
            "o" | "organizationname" => Attr::Org,
            "ou" | "organizationalunitname" => Attr::OrgUnit,
            "cn" | "commonname" => Attr::CommonName,
            "emailaddress" | "email" | "e" => Attr::Email,
            _ => return None,
        })
    }

    /// OpenSSL's short name.
    pub fn short_name(self) -> &'static str {
        match self {
            Attr::Country => "C",
            Attr::State => "ST",
            Attr::Locality => "L",
            Attr::Org => "O",
            Attr::OrgUnit => "OU",
            Attr::CommonName => "CN",
            Attr::Email => "emailAddress",
        }
    }

    /// OID arcs.
    pub fn oid(self) -> &'static [u64] {
        match self {
            Attr::Country => &[2, 5, 4, 6],
            Attr::State => &[2, 5, 4, 8],
            Attr::Locality => &[2, 5, 4, 7],
            Attr::Org => &[2, 5, 4, 10],
            Attr::OrgUnit => &[2, 5, 4, 11],
            Attr::CommonName => &[2, 5, 4, 3],
            Attr::Email => &[1, 2, 840, 113549, 1, 9, 1],
        }
    }

    /// RFC 5280 upper bound on the value length, in characters.
    pub fn max_len(self) -> usize {
        match self {
            Attr::Country => 2,
            Attr::State | Attr::Locality => 128,
            Attr::Org | Attr::OrgUnit | Attr::CommonName => 64,
            Attr::Email => 255,
        }
    }

    /// The prompt label `openssl req` uses.
    pub fn prompt(self) -> &'static str {
        match self {
            Attr::Country => "Country Name (2 letter code)",
            Attr::State => "State or Province Name (full name)",
            Attr::Locality => "Locality Name (eg, city)",
            Attr::Org => "Organization Name (eg, company)",
            Attr::OrgUnit => "Organizational Unit Name (eg, section)",
            Attr::CommonName => "Common Name (eg, your integration's name)",
            Attr::Email => "Email Address",
        }
    }

    /// The order `openssl req` prompts in.
    pub const PROMPT_ORDER: [Attr; 7] = [
        Attr::Country,
        Attr::State,
        Attr::Locality,
        Attr::Org,
        Attr::OrgUnit,
        Attr::CommonName,
        Attr::Email,
    ];
}

/// A distinguished name: an ordered list of single-valued RDNs.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Subject {
    entries: Vec<(Attr, String)>,
}

impl Subject {
    /// An empty name.
    pub fn new() -> Self {
        Self::default()
    }

    /// Append an attribute (validated by [`Subject::validate`]).
    pub fn push(&mut self, attr: Attr, value: impl Into<String>) {
        self.entries.push((attr, value.into()));
    }

    /// The attributes in order.
    pub fn entries(&self) -> &[(Attr, String)] {
        &self.entries
    }

    /// The first value of an attribute.
    pub fn get(&self, attr: Attr) -> Option<&str> {
        self.entries
            .iter()
            .find(|(a, _)| *a == attr)
            .map(|(_, v)| v.as_str())
    }

    /// Parse OpenSSL's `-subj` syntax: `/type=value/type=value...`.
    pub fn parse_openssl(s: &str) -> Result<Self> {
        let s = s.trim();
        let rest = s.strip_prefix('/').ok_or_else(|| {
            Error::InvalidSubject("it must start with `/`, as in `/C=US/O=Acme/CN=acme-jwt`".into())
        })?;
        let mut subject = Subject::new();
        let mut fields: Vec<String> = Vec::new();
        let mut cur = String::new();
        let mut chars = rest.chars();
        while let Some(c) = chars.next() {
            match c {
                '\\' => match chars.next() {
                    Some(n) => {
                        // Keep the escape for `+` so that an unescaped `+` can be detected.
                        if n == '+' {
                            cur.push('\u{0}');
                        } else {
                            cur.push(n);
                        }
                    }
                    None => {
                        return Err(Error::InvalidSubject(
                            "it ends with a lone backslash".into(),
                        ));
                    }
                },
                '/' => fields.push(std::mem::take(&mut cur)),
                c => cur.push(c),
            }
        }
        fields.push(cur);
        for field in fields {
            if field.is_empty() {
                continue;
            }
            if field.contains('+') {
                return Err(Error::InvalidSubject(format!(
                    "multi-valued RDNs (`+` in `{}`) are not supported; escape a literal plus as `\\+`",
                    field.replace('\u{0}', "\\+").escape_debug()
                )));
            }
            let field = field.replace('\u{0}', "+");
            let (name, value) = field.split_once('=').ok_or_else(|| {
                Error::InvalidSubject(format!(
                    "`{}` has no `=`; write fields as `/CN=value`",
                    field.escape_debug()
                ))
            })?;
            let attr = Attr::from_name(name.trim()).ok_or_else(|| {
                Error::InvalidSubject(format!(
                    "unknown field `{}`; use C, ST, L, O, OU, CN or emailAddress",
                    name.escape_debug()
                ))
            })?;
            subject.push(attr, value);
        }
        subject.validate()?;
        Ok(subject)
    }

    /// Check every value against X.509's bounds and Salesforce's needs.
    pub fn validate(&self) -> Result<()> {
        if self.entries.is_empty() {
            return Err(Error::InvalidSubject("the subject is empty".into()));
        }
        for (attr, value) in &self.entries {
            check_value(*attr, value)?;
        }
        match self.get(Attr::CommonName) {
            Some(_) => Ok(()),
            None => Err(Error::InvalidSubject(
                "a common name (CN) is required; Salesforce shows it as the certificate's name"
                    .into(),
            )),
        }
    }

    /// The rcgen form, with OpenSSL's string types: PrintableString for C, IA5String for
    /// emailAddress, UTF8String for the rest.
    pub fn to_rcgen(&self) -> Result<rcgen::DistinguishedName> {
        use rcgen::{DnType, DnValue};
        let mut dn = rcgen::DistinguishedName::new();
        for (attr, value) in &self.entries {
            let ty = match attr {
                Attr::Country => DnType::CountryName,
                Attr::State => DnType::StateOrProvinceName,
                Attr::Locality => DnType::LocalityName,
                Attr::Org => DnType::OrganizationName,
                Attr::OrgUnit => DnType::OrganizationalUnitName,
                Attr::CommonName => DnType::CommonName,
                Attr::Email => DnType::CustomDnType(attr.oid().to_vec()),
            };
            let v = match attr {
                Attr::Country => DnValue::PrintableString(
                    rcgen::string::PrintableString::try_from(value.to_ascii_uppercase())
                        .map_err(|e| Error::InvalidSubject(format!("C: {e}")))?,
                ),
                Attr::Email => DnValue::Ia5String(
                    rcgen::string::Ia5String::try_from(value.clone())
                        .map_err(|e| Error::InvalidSubject(format!("emailAddress: {e}")))?,
                ),
                _ => DnValue::Utf8String(value.clone()),
            };
            dn.push(ty, v);
        }
        Ok(dn)
    }

    /// A suggested file-and-alias-friendly name from the CN.
    pub fn common_name(&self) -> Option<&str> {
        self.get(Attr::CommonName)
    }
}

impl fmt::Display for Subject {
    /// OpenSSL's `-subj` form, escaping `/`, `+` and `\` in values.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (attr, value) in &self.entries {
            write!(f, "/{}=", attr.short_name())?;
            for c in value.chars() {
                if matches!(c, '/' | '+' | '\\') {
                    f.write_str("\\")?;
                }
                write!(f, "{c}")?;
            }
        }
        Ok(())
    }
}

// ---------------------------------------------------------------------------------------
// Names read from certificates and CSRs

/// Check one value of a subject against X.509's bounds and Salesforce's needs (what
/// [`Subject::validate`] checks for each entry): not empty, no leading or trailing
/// spaces, no control characters, within the RFC 5280 length, a two-letter country code,
/// an ASCII email address. Prompts check each field with it as it is typed.
pub fn check_value(attr: Attr, value: &str) -> Result<()> {
    let name = attr.short_name();
    if value.is_empty() {
        return Err(Error::InvalidSubject(format!("{name} is empty")));
    }
    if value.trim() != value {
        return Err(Error::InvalidSubject(format!(
            "{name} has leading or trailing spaces"
        )));
    }
    if value.chars().any(char::is_control) {
        return Err(Error::InvalidSubject(format!(
            "{name} contains a control character"
        )));
    }
    let len = value.chars().count();
    if attr != Attr::Country && len > attr.max_len() {
        return Err(Error::InvalidSubject(format!(
            "{name} is {len} characters; X.509 allows at most {}",
            attr.max_len()
        )));
    }
    let bad_country =
        attr == Attr::Country && (len != 2 || !value.chars().all(|c| c.is_ascii_alphabetic()));
    if bad_country {
        return Err(Error::InvalidSubject(format!(
            "C must be a two-letter ISO 3166 country code such as US or DE, not `{}`",
            value.escape_debug()
        )));
    }
    if attr == Attr::Email && (!value.is_ascii() || !value.contains('@')) {
        return Err(Error::InvalidSubject(format!(
            "emailAddress `{}` is not an ASCII email address",
            value.escape_debug()
        )));
    }
    Ok(())
}

/// A name in display form (`C=US, O=Acme, CN=acme-jwt`), escaped.
pub fn display_name(name: &X509Name<'_>) -> String {
    let mut parts = Vec::new();
    for rdn in name.iter() {
        let mut attrs = Vec::new();
        for atv in rdn.iter() {
            let oid = atv.attr_type().to_id_string();
            let key = match oid.as_str() {
                "2.5.4.6" => "C".to_string(),
                "2.5.4.8" => "ST".to_string(),
                "2.5.4.7" => "L".to_string(),
                "2.5.4.10" => "O".to_string(),
                "2.5.4.11" => "OU".to_string(),
                "2.5.4.3" => "CN".to_string(),
                "1.2.840.113549.1.9.1" => "emailAddress".to_string(),
                "0.9.2342.19200300.100.1.25" => "DC".to_string(),
                "0.9.2342.19200300.100.1.1" => "UID".to_string(),
                "2.5.4.5" => "serialNumber".to_string(),
                other => other.to_string(),
            };
            let value = attr_string(atv).unwrap_or_else(|| "<binary>".into());
            attrs.push(format!("{key}={}", escape(&value)));
        }
        parts.push(attrs.join(" + "));
    }
    parts.join(", ")
}

fn attr_string(atv: &AttributeTypeAndValue<'_>) -> Option<String> {
    use x509_parser::der_parser::asn1_rs::Tag;
    let data = atv.attr_value().data;
    match atv.attr_value().header.tag() {
        Tag::BmpString => {
            if data.len() % 2 != 0 {
                return None;
            }
            let units: Vec<u16> = data
                .chunks_exact(2)
                .map(|c| u16::from_be_bytes([c[0], c[1]]))
                .collect();
            String::from_utf16(&units).ok()
        }
        Tag::UniversalString => {
            if data.len() % 4 != 0 {
                return None;
            }
            data.chunks_exact(4)
                .map(|c| char::from_u32(u32::from_be_bytes([c[0], c[1], c[2], c[3]])))
                .collect()
        }
        _ => std::str::from_utf8(data).ok().map(str::to_owned),
    }
}

/// Convert a parsed name into rcgen's form, keeping each value's string type so that the
/// re-encoded name is byte-identical to the original.
pub(crate) fn name_to_rcgen(name: &X509Name<'_>) -> Result<rcgen::DistinguishedName> {
    use rcgen::{DnType, DnValue};
    use x509_parser::der_parser::asn1_rs::Tag;
    let bad = |d: &str| Error::unsupported(Input::Subject, d.to_string());
    let mut dn = rcgen::DistinguishedName::new();
    let mut seen: Vec<Vec<u64>> = Vec::new();
    for rdn in name.iter() {
        let mut it = rdn.iter();
        let (Some(atv), None) = (it.next(), it.next()) else {
            return Err(bad("multi-valued or empty RDNs cannot be copied"));
        };
        let arcs: Vec<u64> = atv
            .attr_type()
            .iter()
            .ok_or_else(|| bad("attribute OID too large"))?
            .collect();
        if seen.contains(&arcs) {
            return Err(bad(&format!(
                "attribute {} appears more than once; certmint writes each attribute once",
                atv.attr_type().to_id_string()
            )));
        }
        seen.push(arcs.clone());
        let data = atv.attr_value().data;
        let as_str =
            || std::str::from_utf8(data).map_err(|_| bad("attribute value is not valid text"));
        let value = match atv.attr_value().header.tag() {
            Tag::Utf8String => DnValue::Utf8String(as_str()?.to_owned()),
            Tag::PrintableString => DnValue::PrintableString(
                rcgen::string::PrintableString::try_from(as_str()?)
                    .map_err(|_| bad("invalid PrintableString"))?,
            ),
            Tag::Ia5String => DnValue::Ia5String(
                rcgen::string::Ia5String::try_from(as_str()?)
                    .map_err(|_| bad("invalid IA5String"))?,
            ),
            Tag::T61String => DnValue::TeletexString(
                rcgen::string::TeletexString::try_from(as_str()?)
                    .map_err(|_| bad("invalid TeletexString"))?,
            ),
            Tag::BmpString => DnValue::BmpString(
                rcgen::string::BmpString::from_utf16be(data.to_vec())
                    .map_err(|_| bad("invalid BMPString"))?,
            ),
            Tag::UniversalString => DnValue::UniversalString(
                rcgen::string::UniversalString::from_utf32be(data.to_vec())
                    .map_err(|_| bad("invalid UniversalString"))?,
            ),
            _ => return Err(bad("attribute value is not a string type")),
        };
        dn.push(DnType::from_oid(&arcs), value);
    }
    Ok(dn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_openssl_syntax_with_escapes() {
        let s = Subject::parse_openssl("/C=US/ST=California/O=Acme\\/Widgets/CN=acme-jwt").unwrap();
        assert_eq!(s.get(Attr::Org), Some("Acme/Widgets"));
        assert_eq!(s.get(Attr::CommonName), Some("acme-jwt"));
        assert_eq!(s.entries().len(), 4);
        assert_eq!(Subject::parse_openssl(&s.to_string()).unwrap(), s);
        let plus = Subject::parse_openssl("/CN=a\\+b").unwrap();
        assert_eq!(plus.get(Attr::CommonName), Some("a+b"));
    }

    #[test]
    fn names_read_from_certificates_are_shown_escaped_and_copied_exactly() {
        use x509_parser::prelude::FromDer;
        let key = crate::key::RsaKey::from_pkcs8_der(
            crate::key::load(
                &std::fs::read(format!(
                    "{}/fixtures/keys/base.pkcs8.pem",
                    env!("CARGO_MANIFEST_DIR")
                ))
                .unwrap(),
                None,
            )
            .unwrap()
            .0
            .pkcs8_der()
            .expose(),
        )
        .unwrap();
        let mut subject = Subject::new();
        subject.push(Attr::Country, "US");
        subject.push(Attr::Org, "Acme\u{202e}gnp");
        subject.push(Attr::CommonName, "acme-jwt");
        let der = crate::csr::build(&key, &subject).unwrap();
        let (_, req) =
            x509_parser::certification_request::X509CertificationRequest::from_der(&der).unwrap();
        let name = &req.certification_request_info.subject;
        assert_eq!(display_name(name), "C=US, O=Acme\\u{202e}gnp, CN=acme-jwt");
        // Re-encoded byte for byte: the same DER name.
        let copy = name_to_rcgen(name).unwrap();
        assert_eq!(copy, subject.to_rcgen().unwrap());
    }

    #[test]
    fn rejects_bad_subjects() {
        for bad in [
            "CN=x",
            "/C=USA/CN=x",
            "/C=1A/CN=x",
            "/O=Acme",
            "/CN=",
            "/CN=a+OU=b",
            "/XX=1/CN=a",
            "/CN=x\\",
            "/CN= padded",
            "/emailAddress=nobody/CN=x",
        ] {
            assert!(
                matches!(Subject::parse_openssl(bad), Err(Error::InvalidSubject(_))),
                "{bad} was accepted"
            );
        }
        let long = format!("/CN={}", "x".repeat(65));
        assert!(Subject::parse_openssl(&long).is_err());
    }
}
