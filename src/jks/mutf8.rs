//! Java's "modified UTF-8" (`java.io.DataInput.readUTF` / `DataOutput.writeUTF`), the
//! encoding of JKS aliases and certificate type strings.

/// Encode as Java's `DataOutput.writeUTF` does (without the length prefix): UTF-16 code
/// units, U+0000 as two bytes, supplementary characters as two 3-byte surrogates.
pub fn encode_modified_utf8(s: &str) -> Vec<u8> {
    let mut out = Vec::with_capacity(s.len());
    for unit in s.encode_utf16() {
        match unit {
            0x0001..=0x007f => out.push((unit & 0x7f) as u8),
            0x0000 | 0x0080..=0x07ff => {
                out.push(0xc0 | ((unit >> 6) & 0x1f) as u8);
                out.push(0x80 | (unit & 0x3f) as u8);
            }
            _ => {
                out.push(0xe0 | (unit >> 12) as u8);
                out.push(0x80 | ((unit >> 6) & 0x3f) as u8);
                out.push(0x80 | (unit & 0x3f) as u8);
            }
        }
    }
    out
}

/// Decode Java modified UTF-8 as `DataInput.readUTF` does. A malformed byte sequence is an
/// error; an unpaired surrogate (which Java strings allow, Rust strings do not) becomes
/// U+FFFD.
pub fn decode_modified_utf8(bytes: &[u8]) -> std::result::Result<String, String> {
    let mut units: Vec<u16> = Vec::with_capacity(bytes.len());
    let mut i = 0;
    let cont = |i: usize| -> std::result::Result<u16, String> {
        match bytes.get(i) {
            Some(&b) if b & 0xc0 == 0x80 => Ok(u16::from(b & 0x3f)),
            Some(_) => Err(format!("malformed modified UTF-8 at byte {i}")),
            None => Err("modified UTF-8 ends in the middle of a character".into()),
        }
    };
    while let Some(&b) = bytes.get(i) {
        match b >> 4 {
            0x0..=0x7 => {
                units.push(u16::from(b));
                i += 1;
            }
            0xc | 0xd => {
                units.push((u16::from(b & 0x1f) << 6) | cont(i + 1)?);
                i += 2;
            }
            0xe => {
                units.push((u16::from(b & 0x0f) << 12) | (cont(i + 1)? << 6) | cont(i + 2)?);
                i += 3;
            }
            _ => return Err(format!("malformed modified UTF-8 at byte {i}")),
        }
    }
    Ok(char::decode_utf16(units)
        .map(|c| c.unwrap_or(char::REPLACEMENT_CHARACTER))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modified_utf8_matches_java() {
        assert_eq!(encode_modified_utf8("abc"), b"abc");
        assert_eq!(encode_modified_utf8("\0"), [0xc0, 0x80]);
        assert_eq!(encode_modified_utf8("é"), [0xc3, 0xa9]);
        assert_eq!(encode_modified_utf8("€"), [0xe2, 0x82, 0xac]);
        // U+1F600 as two 3-byte surrogates, not one 4-byte sequence.
        assert_eq!(
            encode_modified_utf8("😀"),
            [0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80]
        );
        for s in ["", "acme_jwt", "a\0b", "Zürich €", "😀x😀"] {
            assert_eq!(decode_modified_utf8(&encode_modified_utf8(s)).unwrap(), s);
        }
        assert!(decode_modified_utf8(&[0xc3]).is_err());
        assert!(decode_modified_utf8(&[0xe2, 0x82]).is_err());
        assert!(decode_modified_utf8(&[0xf0, 0x9f, 0x98, 0x80]).is_err());
        assert!(decode_modified_utf8(&[0x80]).is_err());
        // A lone surrogate (legal in Java) decodes to U+FFFD.
        assert_eq!(
            decode_modified_utf8(&[0xed, 0xa0, 0xbd]).unwrap(),
            "\u{fffd}"
        );
    }
}
