#![no_main]
//! Compact JWE (ECDH-ES) decryption with a fixed recipient key: every input is either decrypted
//! or refused with a `JoseError`; nothing panics, whatever the header, `epk` or lengths.

mod common;

use credential_formats::crypto::{AwsLc, RustCrypto};
use credential_formats::jose::{ContentEncryption, decrypt_compact};
use libfuzzer_sys::fuzz_target;

const ALL: [ContentEncryption; 2] = [ContentEncryption::A128Gcm, ContentEncryption::A256Gcm];

fuzz_target!(|data: &[u8]| {
    let Some((selector, text)) = common::selector_and_text(data) else {
        return;
    };
    let recipient = common::holder_secret();
    let allowed: &[ContentEncryption] = match selector % 3 {
        0 => &ALL,
        1 => &ALL[..1],
        _ => &ALL[1..],
    };
    if let Ok((header, _plaintext)) = decrypt_compact(&RustCrypto, text, recipient, allowed) {
        // Authenticated: the enc must be one we allowed.
        assert!(header.enc().is_some_and(|enc| allowed.contains(&enc)));
    }
    if selector & 0x80 != 0 {
        let _ = decrypt_compact(&AwsLc, text, recipient, allowed);
    }
});
