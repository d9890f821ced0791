//! Transparency logs: the Merkle tree of RFC 9162 §2.1 (the RFC 6962 shape) with its
//! inclusion and consistency proofs, and signed checkpoints in the C2SP `tlog-checkpoint`
//! format on a C2SP `signed-note` with an Ed25519 signature.
//!
//! The verifier and the State register append one entry per court order; `court audit`
//! fetches their checkpoints and proofs and verifies them with this module alone, so an
//! altered entry or a truncated log is detected by anyone holding an earlier checkpoint.
//!
//! Hashes are SHA-256 with domain separation: a leaf is `SHA-256(0x00 ‖ entry)`, an
//! interior node `SHA-256(0x01 ‖ left ‖ right)`, the empty tree `SHA-256("")`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use sha2::{Digest, Sha256};

use crate::crypto::{CryptoProvider, PublicKey, SignatureAlgorithm, Signer};

/// A 32-byte tree hash.
pub type Hash = [u8; 32];

/// Why a proof or a checkpoint was refused. Messages carry no entry data.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TranslogError {
    /// The index is not below the tree size, or the sizes are out of order.
    #[error("index or size out of range")]
    OutOfRange,
    /// The proof has the wrong number of hashes for the sizes given.
    #[error("proof has the wrong length")]
    WrongLength,
    /// The proof does not lead to the expected root: the entry or the log was altered.
    #[error("proof does not match the root")]
    Mismatch,
    /// The checkpoint text is not a C2SP checkpoint.
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(&'static str),
    /// No signature of the expected key, or it does not verify.
    #[error("checkpoint signature missing or invalid")]
    BadSignature,
    /// The key name is not a valid note key name, or the key is not Ed25519.
    #[error("invalid note key")]
    InvalidKey,
    /// The checkpoint is signed by the right key but names another log.
    #[error("the checkpoint is of another log")]
    WrongOrigin,
}

/// `SHA-256(0x00 ‖ entry)`: the hash of a log entry.
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry);
    h.finalize().into()
}

/// `SHA-256(0x01 ‖ left ‖ right)`: an interior node.
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut h = Sha256::new();
    h.update([1u8]);
    h.update(left);
    h.update(right);
    h.finalize().into()
}

/// The largest power of two strictly below `n` (n ≥ 2).
fn split(n: usize) -> usize {
    let mut k = 1;
    while k << 1 < n {
        k <<= 1;
    }
    k
}

/// MTH(D[n]) over leaf hashes (RFC 9162 §2.1.1).
pub fn root(leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Sha256::digest([]).into(),
        1 => leaves[0],
        n => {
            let k = split(n);
            node_hash(&root(&leaves[..k]), &root(&leaves[k..]))
        }
    }
}

/// PATH(m, D[n]): the inclusion proof of leaf `index` in the tree of `leaves`
/// (RFC 9162 §2.1.3.1).
pub fn inclusion_proof(index: usize, leaves: &[Hash]) -> Result<Vec<Hash>, TranslogError> {
    if index >= leaves.len() {
        return Err(TranslogError::OutOfRange);
    }
    Ok(path(index, leaves))
}

fn path(m: usize, leaves: &[Hash]) -> Vec<Hash> {
    let n = leaves.len();
    if n <= 1 {
        return Vec::new();
    }
    let k = split(n);
    if m < k {
        let mut proof = path(m, &leaves[..k]);
        proof.push(root(&leaves[k..]));
        proof
    } else {
        let mut proof = path(m - k, &leaves[k..]);
        proof.push(root(&leaves[..k]));
        proof
    }
}

/// PROOF(m, D[n]): the consistency proof between the first `first` leaves and all of
/// `leaves` (RFC 9162 §2.1.4.1).
pub fn consistency_proof(first: usize, leaves: &[Hash]) -> Result<Vec<Hash>, TranslogError> {
    if first == 0 || first > leaves.len() {
        return Err(TranslogError::OutOfRange);
    }
    Ok(subproof(first, leaves, true))
}

fn subproof(m: usize, leaves: &[Hash], complete: bool) -> Vec<Hash> {
    let n = leaves.len();
    if m == n {
        return if complete {
            Vec::new()
        } else {
            vec![root(leaves)]
        };
    }
    let k = split(n);
    if m <= k {
        let mut proof = subproof(m, &leaves[..k], complete);
        proof.push(root(&leaves[k..]));
        proof
    } else {
        let mut proof = subproof(m - k, &leaves[k..], false);
        proof.push(root(&leaves[..k]));
        proof
    }
}

/// Verifies that `leaf` is entry `index` of the tree of `size` entries whose root is
/// `root` (RFC 9162 §2.1.3.2).
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    proof: &[Hash],
    root: &Hash,
) -> Result<(), TranslogError> {
    if index >= size {
        return Err(TranslogError::OutOfRange);
    }
    let (mut f_n, mut s_n) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if s_n == 0 {
            return Err(TranslogError::WrongLength);
        }
        if f_n & 1 == 1 || f_n == s_n {
            r = node_hash(p, &r);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(TranslogError::WrongLength);
    }
    if &r == root {
        Ok(())
    } else {
        Err(TranslogError::Mismatch)
    }
}

/// Verifies that the tree of `second` entries with root `second_root` extends the tree of
/// `first` entries with root `first_root` (RFC 9162 §2.1.4.2): nothing logged before was
/// changed or removed.
pub fn verify_consistency(
    first: u64,
    second: u64,
    first_root: &Hash,
    second_root: &Hash,
    proof: &[Hash],
) -> Result<(), TranslogError> {
    if first == 0 || first > second {
        return Err(TranslogError::OutOfRange);
    }
    if first == second {
        return if proof.is_empty() && first_root == second_root {
            Ok(())
        } else if proof.is_empty() {
            Err(TranslogError::Mismatch)
        } else {
            Err(TranslogError::WrongLength)
        };
    }
    if proof.is_empty() {
        return Err(TranslogError::WrongLength);
    }
    // Step 2: a first tree that is a complete subtree is its own first proof node.
    let mut nodes: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if first.is_power_of_two() {
        nodes.push(*first_root);
    }
    nodes.extend_from_slice(proof);
    let (first_node, rest) = nodes.split_first().ok_or(TranslogError::WrongLength)?;
    let (mut f_n, mut s_n) = (first - 1, second - 1);
    while f_n & 1 == 1 {
        f_n >>= 1;
        s_n >>= 1;
    }
    let (mut fr, mut sr) = (*first_node, *first_node);
    for c in rest {
        if s_n == 0 {
            return Err(TranslogError::WrongLength);
        }
        if f_n & 1 == 1 || f_n == s_n {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f_n & 1 == 0 {
                while f_n & 1 == 0 && f_n != 0 {
                    f_n >>= 1;
                    s_n >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f_n >>= 1;
        s_n >>= 1;
    }
    if s_n != 0 {
        return Err(TranslogError::WrongLength);
    }
    if &fr == first_root && &sr == second_root {
        Ok(())
    } else {
        Err(TranslogError::Mismatch)
    }
}

/// A checkpoint (C2SP `tlog-checkpoint`): the log's origin, its size and root hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Checkpoint {
    /// The log's origin line, e.g. `verifier.identity.example.be/court-orders`.
    pub origin: String,
    /// How many entries the log holds.
    pub size: u64,
    /// The root hash of those entries.
    pub root: Hash,
}

/// The algorithm byte of an Ed25519 note key (C2SP `signed-note`).
const NOTE_ED25519: u8 = 0x01;

fn valid_key_name(name: &str) -> bool {
    !name.is_empty()
        && !name
            .chars()
            .any(|c| c.is_whitespace() || c == '+' || c.is_control())
}

/// The 4-byte key id of an Ed25519 note key: `SHA-256(name ‖ "\n" ‖ 0x01 ‖ key)[..4]`.
fn key_id(name: &str, key: &[u8; 32]) -> [u8; 4] {
    let mut h = Sha256::new();
    h.update(name.as_bytes());
    h.update(b"\n");
    h.update([NOTE_ED25519]);
    h.update(key);
    let digest: Hash = h.finalize().into();
    [digest[0], digest[1], digest[2], digest[3]]
}

impl Checkpoint {
    /// The note text: `origin\nsize\nbase64(root)\n`.
    pub fn body(&self) -> String {
        format!(
            "{}\n{}\n{}\n",
            self.origin,
            self.size,
            STANDARD.encode(self.root)
        )
    }

    /// The signed note of this checkpoint (see [`sign_note`]).
    pub fn sign(&self, key_name: &str, signer: &dyn Signer) -> Result<String, TranslogError> {
        if self.origin.is_empty() || self.origin.contains('\n') {
            return Err(TranslogError::MalformedCheckpoint("origin"));
        }
        sign_note(&self.body(), key_name, signer)
    }

    /// Reads a signed checkpoint whose signature by `key_name` / `key` verifies (see
    /// [`verify_note`]).
    pub fn verify(
        note: &str,
        key_name: &str,
        key: &PublicKey,
        provider: &dyn CryptoProvider,
    ) -> Result<Checkpoint, TranslogError> {
        Checkpoint::parse_body(&verify_note(note, key_name, key, provider)?)
    }

    fn parse_body(body: &str) -> Result<Checkpoint, TranslogError> {
        let mut lines = body.split('\n');
        let origin = lines
            .next()
            .filter(|o| !o.is_empty())
            .ok_or(TranslogError::MalformedCheckpoint("origin"))?;
        let size = lines
            .next()
            .filter(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()))
            .filter(|s| s.len() == 1 || !s.starts_with('0'))
            .and_then(|s| s.parse::<u64>().ok())
            .ok_or(TranslogError::MalformedCheckpoint("size"))?;
        let root = lines
            .next()
            .and_then(|r| STANDARD.decode(r).ok())
            .and_then(|r| Hash::try_from(r).ok())
            .ok_or(TranslogError::MalformedCheckpoint("root hash"))?;
        // Extension lines may follow; the body ends with a newline.
        if !body.ends_with('\n') {
            return Err(TranslogError::MalformedCheckpoint("final newline"));
        }
        Ok(Checkpoint {
            origin: origin.to_owned(),
            size,
            root,
        })
    }
}

/// The C2SP `signed-note` verifier key of an Ed25519 key:
/// `<name>+<key id, 8 hex digits>+<base64(0x01 ‖ public key)>`.
pub fn verifier_key(key_name: &str, public: &[u8; 32]) -> String {
    let id = key_id(key_name, public);
    let mut typed = vec![NOTE_ED25519];
    typed.extend_from_slice(public);
    format!(
        "{key_name}+{:02x}{:02x}{:02x}{:02x}+{}",
        id[0],
        id[1],
        id[2],
        id[3],
        STANDARD.encode(typed)
    )
}

/// Signs `text` (non-empty lines, ending with a newline) as a C2SP `signed-note`: the text,
/// an empty line, and `— <key name> <base64(key id ‖ Ed25519 signature)>`.
pub fn sign_note(text: &str, key_name: &str, signer: &dyn Signer) -> Result<String, TranslogError> {
    let PublicKey::Ed25519(public) = signer.public_key() else {
        return Err(TranslogError::InvalidKey);
    };
    if !valid_key_name(key_name) {
        return Err(TranslogError::InvalidKey);
    }
    if !text.ends_with('\n') || text.contains("\n\n") || text.starts_with('\n') {
        return Err(TranslogError::MalformedCheckpoint("note text"));
    }
    let signature = signer
        .sign(text.as_bytes())
        .map_err(|_| TranslogError::BadSignature)?;
    let mut blob = key_id(key_name, &public).to_vec();
    blob.extend_from_slice(&signature);
    Ok(format!(
        "{text}\n\u{2014} {key_name} {}\n",
        STANDARD.encode(blob)
    ))
}

/// Opens a C2SP `signed-note`: returns its text when a signature by `key_name` / `key` (an
/// Ed25519 key) verifies. Signatures by other keys are ignored, as the format says; a
/// signature line that is not well-formed is an error.
pub fn verify_note(
    note: &str,
    key_name: &str,
    key: &PublicKey,
    provider: &dyn CryptoProvider,
) -> Result<String, TranslogError> {
    let PublicKey::Ed25519(public) = key else {
        return Err(TranslogError::InvalidKey);
    };
    if key.algorithm() != SignatureAlgorithm::EdDsa || !valid_key_name(key_name) {
        return Err(TranslogError::InvalidKey);
    }
    let split = note
        .rfind("\n\n")
        .ok_or(TranslogError::MalformedCheckpoint("no signature block"))?;
    let (text, signatures) = (&note[..=split], &note[split + 2..]);
    if !signatures.ends_with('\n') {
        return Err(TranslogError::MalformedCheckpoint("final newline"));
    }
    let wanted = key_id(key_name, public);
    let mut verified = false;
    for line in signatures.lines() {
        let (name, b64) = line
            .strip_prefix("\u{2014} ")
            .and_then(|rest| rest.split_once(' '))
            .ok_or(TranslogError::MalformedCheckpoint("a signature line"))?;
        let blob = STANDARD
            .decode(b64)
            .map_err(|_| TranslogError::MalformedCheckpoint("a signature"))?;
        if name != key_name || blob.len() < 4 || blob[..4] != wanted {
            continue;
        }
        provider
            .verify(key, text.as_bytes(), &blob[4..])
            .map_err(|_| TranslogError::BadSignature)?;
        verified = true;
    }
    if verified {
        Ok(text.to_owned())
    } else {
        Err(TranslogError::BadSignature)
    }
}

/// A transparency log as the trust list names it: the origin line of its checkpoints and the
/// C2SP verifier key that signs them. Auditors and the State register pin both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogKey {
    origin: String,
    name: String,
    public: [u8; 32],
}

impl LogKey {
    /// The log `origin` whose checkpoints verify with `verifier_key`
    /// (`<name>+<key id, 8 hex digits>+<base64(0x01 ‖ Ed25519 key)>`); the key id must be the
    /// one the name and key give.
    pub fn new(origin: &str, verifier_key: &str) -> Result<LogKey, TranslogError> {
        if origin.is_empty() || origin.chars().any(char::is_control) {
            return Err(TranslogError::MalformedCheckpoint("origin"));
        }
        let mut parts = verifier_key.splitn(3, '+');
        let (Some(name), Some(id), Some(key)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(TranslogError::InvalidKey);
        };
        let typed = STANDARD
            .decode(key)
            .map_err(|_| TranslogError::InvalidKey)?;
        let public: [u8; 32] = match typed.split_first() {
            Some((&NOTE_ED25519, rest)) => {
                rest.try_into().map_err(|_| TranslogError::InvalidKey)?
            }
            _ => return Err(TranslogError::InvalidKey),
        };
        if !valid_key_name(name) || id.len() != 8 {
            return Err(TranslogError::InvalidKey);
        }
        let expected = key_id(name, &public);
        let expected: String = expected.iter().map(|b| format!("{b:02x}")).collect();
        if id != expected {
            return Err(TranslogError::InvalidKey);
        }
        Ok(LogKey {
            origin: origin.to_owned(),
            name: name.to_owned(),
            public,
        })
    }

    /// The origin line of the log's checkpoints.
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The C2SP verifier key.
    pub fn verifier_key(&self) -> String {
        verifier_key(&self.name, &self.public)
    }

    /// Reads a checkpoint of this log: signed by its key and naming its origin.
    pub fn verify_checkpoint(
        &self,
        note: &str,
        provider: &dyn CryptoProvider,
    ) -> Result<Checkpoint, TranslogError> {
        let checkpoint =
            Checkpoint::verify(note, &self.name, &PublicKey::Ed25519(self.public), provider)?;
        if checkpoint.origin != self.origin {
            return Err(TranslogError::WrongOrigin);
        }
        Ok(checkpoint)
    }
}

#[cfg(test)]
mod tests;
