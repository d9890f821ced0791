//! The RFC 6962 / 9162 reference tree (the Certificate Transparency test inputs, whose roots
//! and proofs every implementation publishes), every proof of trees up to 40 entries, and
//! the C2SP signed-note example of golang.org/x/mod/sumdb/note.

use super::*;
use crate::crypto::{RustCrypto, SecretKey};

fn h(hex: &str) -> Hash {
    let bytes: Vec<u8> = (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect();
    bytes.try_into().unwrap()
}

fn unhex(hex: &str) -> Vec<u8> {
    (0..hex.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
        .collect()
}

const INPUTS: [&str; 8] = [
    "",
    "00",
    "10",
    "2021",
    "3031",
    "40414243",
    "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
];

const ROOTS: [&str; 9] = [
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

fn leaves() -> Vec<Hash> {
    INPUTS.iter().map(|i| leaf_hash(&unhex(i))).collect()
}

#[test]
fn roots_of_the_reference_tree() {
    let leaves = leaves();
    for (size, expected) in ROOTS.iter().enumerate() {
        assert_eq!(root(&leaves[..size]), h(expected), "size {size}");
    }
}

#[test]
fn inclusion_proofs_of_the_reference_tree() {
    // (leaf index, tree size, proof)
    let vectors: [(usize, usize, &[&str]); 4] = [
        (
            0,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            5,
            8,
            &[
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            3,
            &["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"],
        ),
        (
            1,
            5,
            &[
                "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];
    let leaves = leaves();
    for (index, size, expected) in vectors {
        let proof = inclusion_proof(index, &leaves[..size]).unwrap();
        let expected: Vec<Hash> = expected.iter().map(|x| h(x)).collect();
        assert_eq!(proof, expected, "leaf {index} of {size}");
        verify_inclusion(
            index as u64,
            size as u64,
            &leaves[index],
            &proof,
            &h(ROOTS[size]),
        )
        .unwrap();
        assert_eq!(
            verify_inclusion(
                index as u64,
                size as u64,
                &leaves[index],
                &proof,
                &h(ROOTS[0])
            ),
            Err(TranslogError::Mismatch)
        );
    }
}

#[test]
fn consistency_proofs_of_the_reference_tree() {
    let vectors: [(usize, usize, &[&str]); 4] = [
        (1, 1, &[]),
        (
            1,
            8,
            &[
                "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
            ],
        ),
        (
            6,
            8,
            &[
                "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
                "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
                "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
            ],
        ),
        (
            2,
            5,
            &[
                "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
                "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            ],
        ),
    ];
    let leaves = leaves();
    for (first, second, expected) in vectors {
        let proof = consistency_proof(first, &leaves[..second]).unwrap();
        let expected: Vec<Hash> = expected.iter().map(|x| h(x)).collect();
        assert_eq!(proof, expected, "{first} → {second}");
        verify_consistency(
            first as u64,
            second as u64,
            &h(ROOTS[first]),
            &h(ROOTS[second]),
            &proof,
        )
        .unwrap();
    }
}

/// Every inclusion and consistency proof of every tree up to 40 entries verifies, and a
/// changed entry, root, index or proof hash does not.
#[test]
fn every_proof_of_small_trees() {
    let all: Vec<Hash> = (0..40u8).map(|i| leaf_hash(&[i, i ^ 0x5a])).collect();
    for n in 1..=all.len() {
        let tree = &all[..n];
        let r = root(tree);
        for i in 0..n {
            let proof = inclusion_proof(i, tree).unwrap();
            verify_inclusion(i as u64, n as u64, &tree[i], &proof, &r).unwrap();
            let other = leaf_hash(b"altered");
            assert!(verify_inclusion(i as u64, n as u64, &other, &proof, &r).is_err());
            if n > 1 {
                assert!(
                    verify_inclusion(((i + 1) % n) as u64, n as u64, &tree[i], &proof, &r).is_err()
                );
                let mut bad = proof.clone();
                bad[0][0] ^= 1;
                assert!(verify_inclusion(i as u64, n as u64, &tree[i], &bad, &r).is_err());
            }
        }
        for m in 1..=n {
            let proof = consistency_proof(m, tree).unwrap();
            let first = root(&tree[..m]);
            verify_consistency(m as u64, n as u64, &first, &r, &proof).unwrap();
            if m < n {
                // History rewritten: the old root does not fit.
                let mut rewritten = tree.to_vec();
                rewritten[m - 1] = leaf_hash(b"rewritten");
                let first_rewritten = root(&rewritten[..m]);
                assert!(
                    verify_consistency(m as u64, n as u64, &first_rewritten, &r, &proof).is_err()
                );
                // Truncation: a shorter log cannot prove it extends the longer one.
                assert!(verify_consistency(n as u64, m as u64, &r, &first, &proof).is_err());
                let mut bad = proof.clone();
                let last = bad.len() - 1;
                bad[last][31] ^= 1;
                assert!(verify_consistency(m as u64, n as u64, &first, &r, &bad).is_err());
            }
        }
    }
    assert_eq!(
        inclusion_proof(3, &all[..3]),
        Err(TranslogError::OutOfRange)
    );
    assert_eq!(
        consistency_proof(0, &all[..3]),
        Err(TranslogError::OutOfRange)
    );
}

/// The example of golang.org/x/mod/sumdb/note (and C2SP signed-note): the key
/// `PeterNeumann+c74f20a3+ARpc2QcU…`, its private seed, and the note they make. Ed25519 is
/// deterministic, so our signer reproduces it byte for byte.
#[test]
fn the_go_sumdb_note_example() {
    let seed = STANDARD
        .decode("AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz")
        .unwrap();
    assert_eq!(seed[0], NOTE_ED25519);
    let secret = SecretKey::ed25519(&seed[1..].try_into().unwrap());
    let public = STANDARD
        .decode("ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW")
        .unwrap();
    let PublicKey::Ed25519(derived) = secret.public_key() else {
        panic!("an Ed25519 key")
    };
    assert_eq!(&derived[..], &public[1..]);
    assert_eq!(key_id("PeterNeumann", &derived), [0xc7, 0x4f, 0x20, 0xa3]);
    assert_eq!(
        verifier_key("PeterNeumann", &derived),
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    );

    let text = "If you think cryptography is the answer to your problem,\n\
                then you don't know what your problem is.\n";
    let expected = format!(
        "{text}\n\u{2014} PeterNeumann \
         x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n"
    );
    let signer = RustCrypto.signer(&secret).unwrap();
    assert_eq!(sign_note(text, "PeterNeumann", &*signer).unwrap(), expected);
    let key = secret.public_key();
    assert_eq!(
        verify_note(&expected, "PeterNeumann", &key, &RustCrypto).unwrap(),
        text
    );
    let altered = expected.replace("cryptography", "cryptographY");
    assert_eq!(
        verify_note(&altered, "PeterNeumann", &key, &RustCrypto),
        Err(TranslogError::BadSignature)
    );
    // Another name, or no signature of ours: not verified.
    assert!(verify_note(&expected, "EnochRoot", &key, &RustCrypto).is_err());
}

#[test]
fn checkpoints_sign_and_verify() {
    let secret = SecretKey::generate(SignatureAlgorithm::EdDsa).unwrap();
    let signer = RustCrypto.signer(&secret).unwrap();
    let leaves = leaves();
    let checkpoint = Checkpoint {
        origin: "verifier.localhost/court-orders".into(),
        size: 8,
        root: root(&leaves),
    };
    let note = checkpoint.sign("verifier.localhost", &*signer).unwrap();
    assert!(note.starts_with(
        "verifier.localhost/court-orders\n8\nXcnaeacGWamtVZy3Ad7ZoqudgjqtL0lgz+Nw7/RgQyg=\n\n\u{2014} verifier.localhost "
    ));
    let key = secret.public_key();
    assert_eq!(
        Checkpoint::verify(&note, "verifier.localhost", &key, &RustCrypto).unwrap(),
        checkpoint
    );
    // A checkpoint claiming a shorter log (truncation) does not carry this signature.
    let truncated = note.replacen("\n8\n", "\n7\n", 1);
    assert_eq!(
        Checkpoint::verify(&truncated, "verifier.localhost", &key, &RustCrypto),
        Err(TranslogError::BadSignature)
    );
    let other = SecretKey::generate(SignatureAlgorithm::EdDsa).unwrap();
    assert!(
        Checkpoint::verify(
            &note,
            "verifier.localhost",
            &other.public_key(),
            &RustCrypto
        )
        .is_err()
    );
    // A cosigner's line beside ours is ignored; a malformed line is not.
    let cosigned = format!("{note}\u{2014} witness.example AAAAAAAA\n");
    assert!(Checkpoint::verify(&cosigned, "verifier.localhost", &key, &RustCrypto).is_ok());
    let broken = format!("{note}not a signature\n");
    assert!(Checkpoint::verify(&broken, "verifier.localhost", &key, &RustCrypto).is_err());
}

#[test]
fn log_keys_pin_the_key_and_the_origin() {
    let key = LogKey::new(
        "sum.golang.org",
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
    )
    .unwrap();
    assert_eq!(
        key.verifier_key(),
        "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
    );
    for bad in [
        "PeterNeumann+c74f20a4+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "EnochRoot+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3+AhpcQcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW",
        "PeterNeumann+c74f20a3",
        "PeterNeumann",
        "",
    ] {
        assert_eq!(
            LogKey::new("o", bad),
            Err(TranslogError::InvalidKey),
            "{bad}"
        );
    }

    let secret = SecretKey::generate(SignatureAlgorithm::EdDsa).unwrap();
    let signer = RustCrypto.signer(&secret).unwrap();
    let PublicKey::Ed25519(public) = secret.public_key() else {
        panic!("an Ed25519 key")
    };
    let pinned = LogKey::new(
        "verifier.localhost/court-orders",
        &verifier_key("verifier.localhost", &public),
    )
    .unwrap();
    let checkpoint = |origin: &str| {
        Checkpoint {
            origin: origin.into(),
            size: 8,
            root: root(&leaves()),
        }
        .sign("verifier.localhost", &*signer)
        .unwrap()
    };
    assert_eq!(
        pinned
            .verify_checkpoint(&checkpoint("verifier.localhost/court-orders"), &RustCrypto)
            .unwrap()
            .size,
        8
    );
    // The same key signing another log's checkpoint: refused.
    assert_eq!(
        pinned.verify_checkpoint(&checkpoint("verifier.localhost/other"), &RustCrypto),
        Err(TranslogError::WrongOrigin)
    );
}
