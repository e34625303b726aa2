//! What a plan changes, field by field: each component's leaves before and after,
//! compared as the org compares them (a certificate by its DER whatever its form, a
//! comma-separated list as a set, repeated elements without regard to order), with the
//! fields the org keeps when a deploy leaves them out (the consumer key and secret) not
//! counted as removed.

use sha2::Digest as _;

use super::{Change, Planned, comma_items};
use crate::wire::metadata::Element;

/// A certificate's DER from an app's `certificate` text (armored PEM or bare base64).
pub fn certificate_der(text: &str) -> Option<Vec<u8>> {
    if text.contains("-----BEGIN") {
        return crate::x509::parse(text.as_bytes()).ok().map(|c| c.der);
    }
    use base64::Engine as _;
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    base64::engine::general_purpose::STANDARD
        .decode(compact)
        .ok()
}

/// Whether two `certificate` texts hold the same certificate, whatever their form.
pub fn same_certificate(a: &str, b: &str) -> bool {
    match (certificate_der(a), certificate_der(b)) {
        (Some(x), Some(y)) => x == y,
        _ => a.trim() == b.trim(),
    }
}

/// How a certificate is shown in a change: its SHA-256 fingerprint, shortened.
fn certificate_shown(text: &str) -> String {
    match certificate_der(text) {
        Some(der) => {
            let hex = crate::text::hex(&sha2::Sha256::digest(&der));
            format!("certificate SHA-256 {}…", &hex[..hex.len().min(16)])
        }
        None => "(not a certificate)".into(),
    }
}

/// Fields whose value is never sent back, so their absence after is not a change.
const KEPT_BY_THE_ORG: &[&str] = &[
    "consumerKey",
    "consumerSecret",
    "oauthConfig/consumerKey",
    "oauthConfig/consumerSecret",
];

fn grouped(el: &Element) -> Vec<(String, Vec<String>)> {
    let mut out: Vec<(String, Vec<String>)> = Vec::new();
    for (path, value) in el.leaves() {
        if path == "fullName" {
            continue;
        }
        let shown = if path.ends_with("certificate") {
            certificate_shown(&value)
        } else {
            value
        };
        match out.iter_mut().find(|(p, _)| *p == path) {
            Some((_, v)) => v.push(shown),
            None => out.push((path, vec![shown])),
        }
    }
    for (path, values) in &mut out {
        if path.contains("commaSeparated") {
            let mut items: Vec<String> = values.iter().flat_map(|v| comma_items(v)).collect();
            items.sort_by_key(|s| s.to_ascii_lowercase());
            *values = vec![items.join(", ")];
        } else if path.ends_with("scopes") || path == "permissionSetName" || path == "profileName" {
            values.sort_by_key(|s| s.to_ascii_lowercase());
        }
    }
    out
}

impl Planned {
    /// What changes, field by field (a new component: every field, from nothing).
    pub fn changes(&self) -> Vec<Change> {
        let before = self.before.as_ref().map(grouped).unwrap_or_default();
        let after = grouped(&self.after);
        let shown = |v: &[String]| v.join("; ");
        let mut out = Vec::new();
        for (path, a) in &after {
            let b = before.iter().find(|(p, _)| p == path).map(|(_, v)| v);
            if b != Some(a) {
                out.push(Change {
                    field: path.clone(),
                    before: b.map(|v| shown(v)),
                    after: Some(shown(a)),
                });
            }
        }
        for (path, b) in &before {
            if !after.iter().any(|(p, _)| p == path) && !KEPT_BY_THE_ORG.contains(&path.as_str()) {
                out.push(Change {
                    field: path.clone(),
                    before: Some(shown(b)),
                    after: None,
                });
            }
        }
        out
    }

    /// True when the deploy sends this component.
    pub fn is_sent(&self) -> bool {
        self.before.is_none() || !self.changes().is_empty()
    }
}
