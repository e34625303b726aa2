//! JWT bearer assertions (RFC 7519 claims in an RFC 7515 compact JWS, profiled for OAuth by
//! RFC 7523): building and RS256-signing the assertion a client sends, and parsing and
//! verifying one on the server side (the emulator, `inspect`).
//!
//! Recognise one by its shape: three base64url segments separated by dots, the first
//! decoding to a JSON header such as `{"alg":"RS256"}` (base64url `eyJhbGciOiJSUzI1NiJ9`).
//!
//! What Salesforce expects (see `docs/troubleshooting.md`): header `{"alg":"RS256"}`
//! (a `"typ":"JWT"` member is accepted), claims `iss` (the connected app's consumer key),
//! `sub` (the username), `aud` (`https://login.salesforce.com`, `https://test.salesforce.com`
//! or an Experience Cloud site URL) and `exp` (seconds since the epoch, at most three
//! minutes ahead), base64url without padding, signed with RSASSA-PKCS1-v1_5 and SHA-256.
//!
//! The clock is an input: callers pass `now` as seconds since the Unix epoch.

use std::fmt;

use base64::Engine as _;
use base64::engine::general_purpose::{URL_SAFE_NO_PAD, URL_SAFE_NO_PAD_INDIFFERENT};
use ring::signature::{self, RsaKeyPair};
use serde::Deserialize;

use crate::error::{Input, Signed};
use crate::key::RsaKey;
use crate::{Error, Result};

/// The longest lifetime Salesforce documents for an assertion: three minutes.
pub const MAX_TTL: u64 = 180;

/// Largest assertion [`parse`] looks at. Real ones are well under 2 KiB (a 4096-bit
/// signature is 683 base64 characters); this bounds the work an untrusted input can cause.
pub const MAX_ASSERTION_LEN: usize = 16 * 1024;

/// Which JOSE header to write.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum HeaderStyle {
    /// `{"alg":"RS256"}`, as Salesforce's documentation builds it.
    #[default]
    Bare,
    /// `{"alg":"RS256","typ":"JWT"}`, as the Salesforce CLI (node `jsonwebtoken`) sends it.
    WithTyp,
}

impl HeaderStyle {
    /// The header JSON.
    pub fn json(self) -> &'static str {
        match self {
            HeaderStyle::Bare => r#"{"alg":"RS256"}"#,
            HeaderStyle::WithTyp => r#"{"alg":"RS256","typ":"JWT"}"#,
        }
    }
}

/// The claims of a Salesforce JWT bearer assertion.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claims {
    /// Issuer: the connected app's (or external client app's) consumer key.
    pub iss: String,
    /// Subject: the Salesforce username.
    pub sub: String,
    /// Audience: the authorization server, e.g. `https://login.salesforce.com`.
    pub aud: String,
    /// Expiry, seconds since the Unix epoch.
    pub exp: u64,
    /// Issued-at, seconds since the Unix epoch (optional; Salesforce ignores it).
    pub iat: Option<u64>,
}

impl Claims {
    /// Claims expiring `ttl` seconds after `now` (1..=[`MAX_TTL`]), without `iat`.
    pub fn new(
        client_id: &str,
        username: &str,
        audience: &str,
        now: u64,
        ttl: u64,
    ) -> Result<Self> {
        if ttl == 0 || ttl > MAX_TTL {
            return Err(Error::invalid(
                Input::AssertionLifetime,
                format!("{ttl} seconds; Salesforce wants 1 to {MAX_TTL} seconds (three minutes)"),
            ));
        }
        for (what, v) in [
            ("client id", client_id),
            ("username", username),
            ("audience", audience),
        ] {
            if v.trim().is_empty() {
                return Err(Error::invalid(Input::Claim, format!("the {what} is empty")));
            }
        }
        Ok(Claims {
            iss: client_id.to_owned(),
            sub: username.to_owned(),
            aud: audience.to_owned(),
            exp: now.saturating_add(ttl),
            iat: None,
        })
    }

    /// The same claims with `iat` set.
    pub fn with_iat(mut self, iat: u64) -> Self {
        self.iat = Some(iat);
        self
    }

    /// The claims as compact JSON, members in the order iss, sub, aud, exp, iat.
    pub fn to_json(&self) -> String {
        // serde_json escapes the strings; the object is written by hand to fix the order.
        let s = |v: &str| serde_json::Value::String(v.to_owned()).to_string();
        let mut out = format!(
            "{{\"iss\":{},\"sub\":{},\"aud\":{},\"exp\":{}",
            s(&self.iss),
            s(&self.sub),
            s(&self.aud),
            self.exp
        );
        if let Some(iat) = self.iat {
            out.push_str(&format!(",\"iat\":{iat}"));
        }
        out.push('}');
        out
    }
}

/// Base64url without padding (RFC 4648 §5), as JWS uses it.
pub fn b64url(data: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(data)
}

/// Decode base64url, with or without `=` padding (Salesforce's own example has padding).
pub fn b64url_decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD_INDIFFERENT.decode(text).ok()
}

/// An RS256 signer that parses the private key once and signs many assertions.
/// `Send + Sync`: share one across threads for batch minting.
pub struct Signer {
    key_pair: RsaKeyPair,
    rng: ring::rand::SystemRandom,
    header_b64: String,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Signer")
            .field("bits", &(self.key_pair.public().modulus_len() * 8))
            .field("private", &"<redacted>")
            .finish()
    }
}

impl Signer {
    /// A signer for `key` writing the given header.
    pub fn new(key: &RsaKey, header: HeaderStyle) -> Result<Self> {
        Ok(Signer {
            key_pair: key.ring_key_pair()?,
            rng: ring::rand::SystemRandom::new(),
            header_b64: b64url(header.json().as_bytes()),
        })
    }

    /// The compact serialization `header.claims.signature` of `claims`.
    pub fn sign(&self, claims: &Claims) -> Result<String> {
        self.sign_json(claims.to_json().as_bytes())
    }

    /// Sign an arbitrary claims JSON object (for tests and tools that need other claims).
    pub fn sign_json(&self, claims_json: &[u8]) -> Result<String> {
        let mut out = String::with_capacity(
            self.header_b64.len()
                + claims_json.len() * 4 / 3
                + 4
                + self.key_pair.public().modulus_len() * 4 / 3
                + 4,
        );
        out.push_str(&self.header_b64);
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(claims_json, &mut out);
        let mut sig = vec![0u8; self.key_pair.public().modulus_len()];
        self.key_pair
            .sign(
                &signature::RSA_PKCS1_SHA256,
                &self.rng,
                out.as_bytes(),
                &mut sig,
            )
            .map_err(|_| Error::internal("RS256 signing failed"))?;
        out.push('.');
        URL_SAFE_NO_PAD.encode_string(&sig, &mut out);
        Ok(out)
    }
}

/// Why an assertion could not be parsed. Salesforce answers all of these with
/// `invalid_grant` / `invalid assertion`; the detail is for logs and `inspect`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ParseError {
    /// Longer than [`MAX_ASSERTION_LEN`].
    TooLong,
    /// Not three dot-separated segments.
    NotThreeSegments,
    /// A segment is not base64url.
    BadBase64(&'static str),
    /// The header or claims are not a JSON object of the expected shape.
    BadJson(&'static str, String),
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ParseError::TooLong => write!(f, "longer than {MAX_ASSERTION_LEN} characters"),
            ParseError::NotThreeSegments => {
                f.write_str("not a compact JWS (three base64url segments separated by dots)")
            }
            ParseError::BadBase64(part) => write!(f, "the {part} is not base64url"),
            ParseError::BadJson(part, e) => write!(f, "the {part} is not a valid JSON object: {e}"),
        }
    }
}

impl From<ParseError> for Error {
    fn from(e: ParseError) -> Self {
        Error::corrupt(Input::JwtAssertion, e)
    }
}

/// The JOSE header of a parsed assertion.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
pub struct Header {
    /// `alg` (Salesforce accepts only `RS256`).
    #[serde(default)]
    pub alg: Option<String>,
    /// `typ`, if present.
    #[serde(default)]
    pub typ: Option<String>,
    /// `kid`, if present.
    #[serde(default)]
    pub kid: Option<String>,
}

/// A NumericDate claim as found in an assertion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NumericDate {
    /// A number or a numeric string, saturated into `i64` (fractions dropped).
    Seconds(i64),
    /// Present but not a number or a numeric string.
    Invalid,
}

impl NumericDate {
    fn from_value(v: &serde_json::Value) -> Self {
        use serde_json::Value;
        match v {
            Value::Number(n) => {
                if let Some(i) = n.as_i64() {
                    NumericDate::Seconds(i)
                } else if n.as_u64().is_some() {
                    NumericDate::Seconds(i64::MAX)
                } else {
                    match n.as_f64() {
                        Some(f) if f.is_finite() => NumericDate::Seconds(saturate_f64(f)),
                        _ => NumericDate::Invalid,
                    }
                }
            }
            Value::String(s) => parse_numeric_string(s),
            _ => NumericDate::Invalid,
        }
    }

    /// The value in seconds, if valid.
    pub fn seconds(self) -> Option<i64> {
        match self {
            NumericDate::Seconds(s) => Some(s),
            NumericDate::Invalid => None,
        }
    }
}

#[allow(
    clippy::cast_possible_truncation,
    reason = "`as` from f64 saturates at the i64 bounds (NaN becomes 0) and drops the fraction: what a NumericDate needs"
)]
fn saturate_f64(f: f64) -> i64 {
    f as i64
}

fn parse_numeric_string(s: &str) -> NumericDate {
    let t = s.trim();
    if let Ok(i) = t.parse::<i64>() {
        return NumericDate::Seconds(i);
    }
    let digits = t.strip_prefix('-').unwrap_or(t);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        // Too long for i64.
        return NumericDate::Seconds(if t.starts_with('-') {
            i64::MIN
        } else {
            i64::MAX
        });
    }
    match t.parse::<f64>() {
        Ok(f) if f.is_finite() => NumericDate::Seconds(saturate_f64(f)),
        _ => NumericDate::Invalid,
    }
}

/// The audience claim: a string or (RFC 7519 allows it) an array of strings.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Audience {
    /// One audience.
    One(String),
    /// Several audiences.
    Many(Vec<String>),
    /// Present but neither a string nor an array of strings.
    Invalid,
}

impl Audience {
    /// Each audience value.
    pub fn values(&self) -> &[String] {
        match self {
            Audience::One(s) => std::slice::from_ref(s),
            Audience::Many(v) => v,
            Audience::Invalid => &[],
        }
    }
}

/// The claims of a parsed assertion, as found (nothing is checked here).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ParsedClaims {
    /// `iss`, when it is a string.
    pub iss: Option<String>,
    /// `sub`, when it is a string.
    pub sub: Option<String>,
    /// `prn` (the legacy subject), when it is a string.
    pub prn: Option<String>,
    /// `aud`.
    pub aud: Option<Audience>,
    /// `exp`.
    pub exp: Option<NumericDate>,
    /// `iat`.
    pub iat: Option<NumericDate>,
    /// `nbf`.
    pub nbf: Option<NumericDate>,
    /// Names of other claims, in order.
    pub other: Vec<String>,
}

impl ParsedClaims {
    /// The subject Salesforce uses: `prn` when present, else `sub`.
    pub fn subject(&self) -> Option<&str> {
        self.prn.as_deref().or(self.sub.as_deref())
    }
}

/// A parsed (not yet verified) assertion.
#[derive(Clone, Debug)]
pub struct Parsed<'a> {
    /// The header.
    pub header: Header,
    /// The claims.
    pub claims: ParsedClaims,
    /// `header.claims` exactly as received: the signed bytes.
    pub signing_input: &'a str,
    /// The decoded signature.
    pub signature: Vec<u8>,
}

impl Parsed<'_> {
    /// True when the header says RS256 (the only algorithm Salesforce accepts).
    pub fn is_rs256(&self) -> bool {
        self.header.alg.as_deref() == Some("RS256")
    }
}

/// Parse a compact JWS assertion without verifying it. Never panics; bounded work.
pub fn parse(assertion: &str) -> std::result::Result<Parsed<'_>, ParseError> {
    if assertion.len() > MAX_ASSERTION_LEN {
        return Err(ParseError::TooLong);
    }
    let mut parts = assertion.split('.');
    let (Some(h), Some(c), Some(s), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(ParseError::NotThreeSegments);
    };
    let signing_input = &assertion[..h.len() + 1 + c.len()];
    let header_bytes = b64url_decode(h).ok_or(ParseError::BadBase64("header"))?;
    let claims_bytes = b64url_decode(c).ok_or(ParseError::BadBase64("claims"))?;
    let signature = b64url_decode(s).ok_or(ParseError::BadBase64("signature"))?;
    let header: Header = serde_json::from_slice(&header_bytes)
        .map_err(|e| ParseError::BadJson("header", e.to_string()))?;
    let claims = parse_claims(&claims_bytes)?;
    Ok(Parsed {
        header,
        claims,
        signing_input,
        signature,
    })
}

fn parse_claims(bytes: &[u8]) -> std::result::Result<ParsedClaims, ParseError> {
    use serde_json::Value;
    let map: serde_json::Map<String, Value> =
        serde_json::from_slice(bytes).map_err(|e| ParseError::BadJson("claims", e.to_string()))?;
    let mut claims = ParsedClaims::default();
    let string = |v: &Value| v.as_str().map(str::to_owned);
    for (name, value) in &map {
        match name.as_str() {
            "iss" => claims.iss = string(value),
            "sub" => claims.sub = string(value),
            "prn" => claims.prn = string(value),
            "aud" => {
                claims.aud = Some(match value {
                    Value::String(s) => Audience::One(s.clone()),
                    Value::Array(items) => {
                        let v: Option<Vec<String>> = items.iter().map(string).collect();
                        v.map_or(Audience::Invalid, Audience::Many)
                    }
                    _ => Audience::Invalid,
                })
            }
            "exp" => claims.exp = Some(NumericDate::from_value(value)),
            "iat" => claims.iat = Some(NumericDate::from_value(value)),
            "nbf" => claims.nbf = Some(NumericDate::from_value(value)),
            other => claims.other.push(other.to_owned()),
        }
    }
    Ok(claims)
}

/// An RSA public key ready to verify RS256 signatures.
#[derive(Clone)]
pub struct Verifier {
    /// PKCS#1 `RSAPublicKey` DER (what ring takes).
    rsa_public_key: Vec<u8>,
    bits: usize,
}

impl fmt::Debug for Verifier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Verifier")
            .field("bits", &self.bits)
            .finish()
    }
}

impl Verifier {
    /// From a DER `SubjectPublicKeyInfo` (for example a certificate's, see
    /// [`crate::x509::CertInfo::spki`]). Only RSA keys of 2048 to 8192 bits are accepted.
    pub fn from_spki(spki_der: &[u8]) -> Result<Self> {
        use der::Decode;
        let spki = spki::SubjectPublicKeyInfoRef::from_der(spki_der)
            .map_err(|e| Error::corrupt(Input::PublicKey, e))?;
        if spki.algorithm.oid != crate::key::RSA_ENCRYPTION_OID {
            return Err(Error::NotRsa(format!("algorithm {}", spki.algorithm.oid)));
        }
        let bytes = spki
            .subject_public_key
            .as_bytes()
            .ok_or_else(|| Error::corrupt(Input::PublicKey, "unaligned bit string"))?;
        let rsa = rsa_modulus_bits(bytes)
            .ok_or_else(|| Error::corrupt(Input::PublicKey, "not a PKCS#1 RSA public key"))?;
        if !(2048..=8192).contains(&rsa) {
            return Err(Error::KeySize { bits: rsa });
        }
        Ok(Verifier {
            rsa_public_key: bytes.to_vec(),
            bits: rsa,
        })
    }

    /// Modulus size in bits.
    pub fn bits(&self) -> usize {
        self.bits
    }

    /// Check an RS256 signature over `message`.
    pub fn verify(&self, message: &[u8], sig: &[u8]) -> Result<()> {
        signature::UnparsedPublicKey::new(
            &signature::RSA_PKCS1_2048_8192_SHA256,
            &self.rsa_public_key,
        )
        .verify(message, sig)
        .map_err(|_| Error::BadSignature(Signed::JwtAssertion))
    }

    /// Check a parsed assertion: the header must say RS256 and the signature must verify.
    pub fn verify_parsed(&self, parsed: &Parsed<'_>) -> Result<()> {
        if !parsed.is_rs256() {
            return Err(Error::unsupported(
                Input::JwtAlgorithm,
                parsed.header.alg.as_deref().unwrap_or("(none given)"),
            ));
        }
        self.verify(parsed.signing_input.as_bytes(), &parsed.signature)
    }
}

/// Bit length of the modulus in a DER `RSAPublicKey`, or `None` when it is not one.
fn rsa_modulus_bits(der_bytes: &[u8]) -> Option<usize> {
    use der::Decode;
    #[derive(der::Sequence)]
    struct RsaPublicKey<'a> {
        modulus: der::asn1::UintRef<'a>,
        public_exponent: der::asn1::UintRef<'a>,
    }
    let k = RsaPublicKey::from_der(der_bytes).ok()?;
    let m = k.modulus.as_bytes();
    let first = *m.first()?;
    let _ = k.public_exponent;
    Some(m.len() * 8 - first.leading_zeros() as usize)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::OnceLock;

    fn key() -> &'static RsaKey {
        static KEY: OnceLock<RsaKey> = OnceLock::new();
        KEY.get_or_init(|| RsaKey::generate(2048).unwrap())
    }

    #[test]
    fn builds_the_documented_header() {
        assert_eq!(
            b64url(HeaderStyle::Bare.json().as_bytes()),
            "eyJhbGciOiJSUzI1NiJ9"
        );
    }

    #[test]
    fn sign_then_parse_and_verify() {
        let claims = Claims::new(
            "3MVG9abc",
            "alice@example.com",
            "https://login.salesforce.com",
            1_700_000_000,
            180,
        )
        .unwrap()
        .with_iat(1_700_000_000);
        let signer = Signer::new(key(), HeaderStyle::WithTyp).unwrap();
        let a = signer.sign(&claims).unwrap();
        assert!(!a.contains('='));
        let p = parse(&a).unwrap();
        assert_eq!(p.header.typ.as_deref(), Some("JWT"));
        assert_eq!(p.claims.iss.as_deref(), Some("3MVG9abc"));
        assert_eq!(p.claims.subject(), Some("alice@example.com"));
        assert_eq!(p.claims.exp, Some(NumericDate::Seconds(1_700_000_180)));
        assert_eq!(p.claims.iat, Some(NumericDate::Seconds(1_700_000_000)));
        let v = Verifier::from_spki(&key().public_key_der()).unwrap();
        assert_eq!(v.bits(), 2048);
        v.verify_parsed(&p).unwrap();
        // Tampered claims fail.
        let mut parts: Vec<&str> = a.split('.').collect();
        let other = b64url(br#"{"iss":"3MVG9abc","sub":"mallory@example.com","aud":"x","exp":1}"#);
        parts[1] = &other;
        let t = parts.join(".");
        assert!(matches!(
            v.verify_parsed(&parse(&t).unwrap()),
            Err(Error::BadSignature(_))
        ));
    }

    #[test]
    fn ttl_is_bounded() {
        assert!(Claims::new("a", "b", "c", 0, 0).is_err());
        assert!(Claims::new("a", "b", "c", 0, 181).is_err());
        assert!(Claims::new("a", "", "c", 0, 60).is_err());
        assert_eq!(Claims::new("a", "b", "c", 10, 180).unwrap().exp, 190);
    }

    #[test]
    fn claims_json_escapes() {
        let c = Claims::new("k", "a\"b@x.com", "https://login.salesforce.com", 0, 1).unwrap();
        assert_eq!(
            c.to_json(),
            r#"{"iss":"k","sub":"a\"b@x.com","aud":"https://login.salesforce.com","exp":1}"#
        );
    }

    #[test]
    fn prn_wins_and_exp_may_be_a_string_and_padding_is_tolerated() {
        // The shape of Salesforce's documented example: padded segment, prn, exp string.
        let claims = br#"{"iss": "3MVG99OxTyEMCQ3gNp2PjkqeZKxnmAiG1xV4oHh9AKL_rSK.BoSVPGZHQukXnVjzRgSuQqGn75NL7yfkQcyy7", "prn": "my@email.com", "sub": "other@x.com", "aud": "https://login.salesforce.com", "exp": "1333685628"}"#;
        let mut claims = claims.to_vec();
        while claims.len().is_multiple_of(3) {
            claims.push(b' ');
        }
        let padded = base64::engine::general_purpose::URL_SAFE.encode(&claims);
        assert!(padded.ends_with('='));
        let a = format!("eyJhbGciOiJSUzI1NiJ9.{padded}.AAAA");
        let p = parse(&a).unwrap();
        assert_eq!(p.claims.subject(), Some("my@email.com"));
        assert_eq!(p.claims.exp, Some(NumericDate::Seconds(1_333_685_628)));
    }

    #[test]
    fn numeric_dates() {
        let nd = |j: &str| NumericDate::from_value(&serde_json::from_str(j).unwrap());
        assert_eq!(nd("1700000000"), NumericDate::Seconds(1_700_000_000));
        assert_eq!(nd("1700000000123"), NumericDate::Seconds(1_700_000_000_123));
        assert_eq!(nd("99999999999999999999"), NumericDate::Seconds(i64::MAX));
        assert_eq!(nd("1.5e30"), NumericDate::Seconds(i64::MAX));
        assert_eq!(nd("-5"), NumericDate::Seconds(-5));
        assert_eq!(nd("12.9"), NumericDate::Seconds(12));
        assert_eq!(nd("\"42\""), NumericDate::Seconds(42));
        assert_eq!(
            nd("\"123456789012345678901234\""),
            NumericDate::Seconds(i64::MAX)
        );
        assert_eq!(nd("\"soon\""), NumericDate::Invalid);
        assert_eq!(nd("null"), NumericDate::Invalid);
        assert_eq!(nd("true"), NumericDate::Invalid);
    }

    #[test]
    fn garbage_never_panics() {
        let long = "a".repeat(MAX_ASSERTION_LEN + 1);
        let inputs = [
            "",
            ".",
            "..",
            "...",
            "a.b.c",
            "a.b",
            "a.b.c.d",
            "eyJhbGciOiJSUzI1NiJ9..",
            "!!.!!.!!",
            "e30.e30.",
            "e30.W10.",
            "bnVsbA.e30.",
            "e30.bnVsbA.",
            "-----BEGIN PRIVATE KEY-----",
            &long,
        ];
        for i in inputs {
            let _ = parse(i);
        }
        assert_eq!(parse("a.b").unwrap_err(), ParseError::NotThreeSegments);
        assert!(matches!(
            parse("e30.W10.").unwrap_err(),
            ParseError::BadJson("claims", _)
        ));
        let p = parse("e30.e30.").unwrap();
        assert!(!p.is_rs256());
        assert!(p.signature.is_empty());
    }

    #[test]
    fn verifier_rejects_non_rsa_and_garbage() {
        assert!(Verifier::from_spki(b"").is_err());
        assert!(Verifier::from_spki(b"\x30\x03\x02\x01\x00").is_err());
        let v = Verifier::from_spki(&key().public_key_der()).unwrap();
        assert!(v.verify(b"x", b"").is_err());
        let p = parse("eyJhbGciOiJub25lIn0.e30.").unwrap();
        assert!(matches!(
            v.verify_parsed(&p),
            Err(Error::Unsupported { .. })
        ));
    }
}
