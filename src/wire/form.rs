//! `application/x-www-form-urlencoded` (WHATWG URL Standard §5), both ways, by the
//! `form_urlencoded` crate: the token request body, and query strings.
//!
//! Encoding keeps `A-Z a-z 0-9 * - . _`, writes a space as `+` and every other byte as
//! `%XX`. Decoding turns `+` into a space and `%XX` into its byte, leaves a `%` that is not
//! followed by two hex digits as it is, and replaces invalid UTF-8.

use std::borrow::Cow;

/// Encode name/value pairs, in order.
pub fn encode(pairs: &[(&str, &str)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(pairs)
        .finish()
}

/// The decoded name/value pairs of a form body or query string, in order; values borrow
/// from `input` when nothing needed decoding.
pub fn pairs(input: &[u8]) -> impl Iterator<Item = (Cow<'_, str>, Cow<'_, str>)> {
    form_urlencoded::parse(input)
}

/// The first value of `name` (after decoding) in a form body or query string.
pub fn first<'a>(input: &'a [u8], name: &str) -> Option<Cow<'a, str>> {
    pairs(input).find_map(|(k, v)| (k == name).then_some(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    const AWKWARD: &[&str] = &[
        "a+b",
        "100%",
        "%41",
        "x&y=z",
        "=",
        "&",
        "a b",
        "ünïcødé ✓",
        "日本語",
        "",
        "+%&=?#/:;",
        "line\nbreak\r\ttab",
    ];

    #[test]
    fn awkward_values_round_trip() {
        for v in AWKWARD {
            let body = encode(&[("k", v), ("name with space", v)]);
            let back: Vec<(String, String)> = pairs(body.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect();
            assert_eq!(
                back,
                [
                    ("k".to_owned(), (*v).to_owned()),
                    ("name with space".to_owned(), (*v).to_owned())
                ],
                "{body}"
            );
        }
    }

    #[test]
    fn encoding_matches_the_form_rules() {
        assert_eq!(
            encode(&[
                ("grant_type", super::super::oauth::GRANT_TYPE),
                ("assertion", "a.b-c_d*")
            ]),
            "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=a.b-c_d*"
        );
        assert_eq!(encode(&[("a b", "+%&=")]), "a+b=%2B%25%26%3D");
        assert_eq!(encode(&[("é", "✓")]), "%C3%A9=%E2%9C%93");
    }

    #[test]
    fn decoding_is_forgiving() {
        assert_eq!(first(b"a=a+b%3Dc", "a").as_deref(), Some("a b=c"));
        assert_eq!(first(b"a=%", "a").as_deref(), Some("%"));
        assert_eq!(first(b"a=%4", "a").as_deref(), Some("%4"));
        assert_eq!(first(b"a=%zz", "a").as_deref(), Some("%zz"));
        assert_eq!(first(b"a=%41", "a").as_deref(), Some("A"));
        assert_eq!(first(b"a", "a").as_deref(), Some(""));
        assert_eq!(first(b"a=%FF", "a").as_deref(), Some("\u{FFFD}"));
        assert_eq!(first(b"x=1&&a=2&a=3", "a").as_deref(), Some("2"));
        assert_eq!(first(b"b=1", "a"), None);
        // Nothing to decode: the value borrows from the input.
        assert!(matches!(
            first(b"a=x.y-z", "a"),
            Some(Cow::Borrowed("x.y-z"))
        ));
    }
}
