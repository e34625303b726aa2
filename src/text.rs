//! Text helpers shared by every module that prints: terminal escaping of untrusted text,
//! hex forms of bytes, and RFC 3339 times.
//!
//! Subject names, aliases, file names and server answers come from files and peers
//! certmint does not control. Before any of them reaches a terminal, [`escape`] turns the
//! characters that could move the cursor, rewrite earlier output, inject an OSC sequence
//! (clipboard, hyperlink) or disguise text (bidirectional overrides, zero-width and other
//! invisible format characters, language tags) into visible `\u{..}` escapes. The set is
//! the one `fd` uses for file names (`sharkdp/fd`, `src/sanitize.rs`), plus tab and line
//! feed: certmint prints names on one line, so a newline inside a name is escaped too.

use std::borrow::Cow;
use std::fmt::Write as _;

use time::OffsetDateTime;

/// True for a character that must not reach a terminal as is.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{00AD}'                      // soft hyphen (invisible)
                | '\u{180E}'                // Mongolian vowel separator
                | '\u{200B}'..='\u{200F}'   // zero-width characters, LRM, RLM
                | '\u{202A}'..='\u{202E}'   // bidirectional embeddings and overrides
                | '\u{2060}'..='\u{206F}'   // word joiner, invisible operators, isolates
                | '\u{FEFF}'                // byte order mark, zero-width no-break space
                | '\u{FFF9}'..='\u{FFFB}'   // interlinear annotation
                | '\u{E0000}'..='\u{E007F}' // language tags
        )
}

/// `s` with every control, bidirectional and invisible format character replaced by a
/// visible Rust-style escape (`\n`, `\u{1b}`, `\u{202e}`); borrowed when nothing needs it.
pub fn escape_cow(s: &str) -> Cow<'_, str> {
    if !s.chars().any(needs_escape) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        if needs_escape(c) {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// Owned form of [`escape_cow`], for text built into messages.
pub fn escape(s: &str) -> String {
    escape_cow(s).into_owned()
}

/// Bytes as lowercase hex without separators.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// Bytes as uppercase hex pairs separated by colons (the form OpenSSL and keytool print).
pub fn hex_colon(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 3);
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            s.push(':');
        }
        let _ = write!(s, "{b:02X}");
    }
    s
}

/// RFC 3339 text of a time (`2026-12-01T12:00:00Z`).
pub fn rfc3339(t: OffsetDateTime) -> String {
    t.format(&time::format_description::well_known::Rfc3339)
        .unwrap_or_else(|_| t.to_string())
}

/// `1 day`, `2 days`, `0 days`: a count of days in words.
pub fn days(n: i64) -> String {
    if n.abs() == 1 {
        format!("{n} day")
    } else {
        format!("{n} days")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_text_is_borrowed() {
        for s in [
            "acme-jwt",
            "résumé",
            "文档",
            "🦀",
            "a\u{FFFD}b",
            "heart\u{2764}\u{FE0F}",
        ] {
            assert!(matches!(escape_cow(s), Cow::Borrowed(_)), "{s:?}");
        }
    }

    #[test]
    fn terminal_controls_are_escaped() {
        assert_eq!(escape("a\x1b]52;c;x\x07b"), "a\\u{1b}]52;c;x\\u{7}b");
        assert_eq!(escape("A\rFAKE"), "A\\rFAKE");
        assert_eq!(escape("a\nb\tc"), "a\\nb\\tc");
        assert_eq!(escape("a\x7fb"), "a\\u{7f}b");
        assert_eq!(escape("\u{9b}31m"), "\\u{9b}31m");
    }

    #[test]
    fn invisible_and_bidi_characters_are_escaped() {
        assert_eq!(escape("safe\u{202E}gnp"), "safe\\u{202e}gnp");
        assert_eq!(escape("a\u{200B}b"), "a\\u{200b}b");
        assert_eq!(escape("\u{FEFF}x"), "\\u{feff}x");
        assert_eq!(escape("a\u{00AD}b"), "a\\u{ad}b");
        assert_eq!(escape("a\u{2066}b"), "a\\u{2066}b");
        assert_eq!(escape("a\u{E0041}b"), "a\\u{e0041}b");
    }

    #[test]
    fn hex_forms() {
        assert_eq!(hex(&[0, 0xab, 0x10]), "00ab10");
        assert_eq!(hex_colon(&[0, 0xab, 0x10]), "00:AB:10");
        assert_eq!(hex_colon(&[]), "");
    }

    #[test]
    fn rfc3339_form() {
        let t = time::macros::datetime!(2026-12-01 12:00:00 UTC);
        assert_eq!(rfc3339(t), "2026-12-01T12:00:00Z");
    }

    #[test]
    fn days_in_words() {
        assert_eq!(days(1), "1 day");
        assert_eq!(days(-1), "-1 day");
        assert_eq!(days(0), "0 days");
        assert_eq!(days(2), "2 days");
    }
}
