//! base64url without padding (RFC 7515 §2), strict: padding, other alphabets and non-canonical
//! trailing bits are refused, so one value has exactly one encoding.

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};

pub(crate) fn encode(bytes: impl AsRef<[u8]>) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// Decodes base64url; `None` when the text is not canonical unpadded base64url.
pub(crate) fn decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// Standard base64 *with* padding, as `x5c` (RFC 7515 §4.1.6) requires.
pub(crate) fn decode_standard(text: &str) -> Option<Vec<u8>> {
    STANDARD.decode(text).ok()
}

pub(crate) fn encode_standard(bytes: impl AsRef<[u8]>) -> String {
    STANDARD.encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strict_alphabet_and_padding() {
        assert_eq!(decode("AQAB").as_deref(), Some(&[1u8, 0, 1][..]));
        assert_eq!(decode("AQ"), Some(vec![1]));
        assert_eq!(decode("AQ=="), None, "padding");
        assert_eq!(decode("A+/B"), None, "standard alphabet");
        assert_eq!(decode("AR"), None, "non-canonical trailing bits");
        assert_eq!(decode("A"), None, "impossible length");
        assert_eq!(encode([0xfb, 0xff]), "-_8");
    }
}
