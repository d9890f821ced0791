//! The escrow key ceremony and the opening of sealed records.
//!
//! [`keygen`] makes the X25519 escrow key pair, splits the private key k-of-n among named
//! judges ([`crate::vss`]), seals each share under its judge's passphrase
//! ([`crate::sealing`]) and forgets the key. Its outputs are the public key (for the trust
//! list), the public [`CeremonyRecord`] (commitments and who holds which x) and one
//! [`ShareFile`] per judge.
//!
//! An [`Opening`] takes share files one at a time, refusing each bad one with its holder's
//! name, rebuilds the key from k good shares, checks it against the public key, and opens
//! records with it; the key is zeroized when the opening is dropped.

use crate::error::{Error, Refusal, Result, ShareProblem};
use crate::sealing::{self, KdfParams, OpenError, Sealed};
use crate::vss::{self, Commitments, MAX_SHARES, SecretShare};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use credential_formats::escrow::{self, EscrowRecord, EscrowSecret, SealedRecord};
use credential_formats::trust_list::EscrowKey;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeSet;
use zeroize::Zeroizing;

/// `format` of a ceremony record.
pub const CEREMONY_FORMAT: &str = "court-escrow-ceremony/v1";
/// `format` of a share file.
pub const SHARE_FORMAT: &str = "court-escrow-share/v1";
/// The group the commitments live in.
const GROUP: &str = "P-256";

/// Longest judge name.
const MAX_NAME_LEN: usize = 100;

/// One judge of the ceremony: the x of their share and their name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Holder {
    /// The share's x (1…n).
    pub x: u32,
    /// The judge's name or id, as given at the ceremony.
    pub name: String,
}

/// The public record of a ceremony: the escrow public key, the threshold, the Feldman
/// commitments and the holders. Anyone may hold it; it is what tells a good share from a
/// bad one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CeremonyRecord {
    escrow_key: EscrowKey,
    commitments: Commitments,
    holders: Vec<Holder>,
    created_at: i64,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawCeremony {
    format: String,
    escrow_key: Value,
    threshold: u32,
    group: String,
    commitments: Vec<String>,
    holders: Vec<Holder>,
    created_at: i64,
}

impl CeremonyRecord {
    /// The escrow public key.
    pub fn escrow_key(&self) -> &EscrowKey {
        &self.escrow_key
    }
    /// k.
    pub fn threshold(&self) -> usize {
        self.commitments.threshold()
    }
    /// The judges, by x.
    pub fn holders(&self) -> &[Holder] {
        &self.holders
    }
    /// The commitments.
    pub fn commitments(&self) -> &Commitments {
        &self.commitments
    }
    /// When the ceremony took place (Unix seconds).
    pub fn created_at(&self) -> i64 {
        self.created_at
    }

    /// The record as JSON.
    pub fn to_json(&self) -> Result<String> {
        let raw = RawCeremony {
            format: CEREMONY_FORMAT.into(),
            escrow_key: self.escrow_key.to_jwk(),
            threshold: u32::try_from(self.threshold()).unwrap_or(u32::MAX),
            group: GROUP.into(),
            commitments: self.commitments.to_strings(),
            holders: self.holders.clone(),
            created_at: self.created_at,
        };
        serde_json::to_string_pretty(&raw).map_err(|_| Error::Crypto("serialising the record"))
    }

    /// Reads a record and checks it: known format and group, a valid X25519 key,
    /// commitments as many as the threshold, holders at distinct non-zero x with names.
    pub fn from_json(text: &str) -> Result<CeremonyRecord> {
        let what = "ceremony record";
        let raw: RawCeremony =
            serde_json::from_str(text).map_err(|_| Error::format(what, "not a ceremony record"))?;
        if raw.format != CEREMONY_FORMAT {
            return Err(Error::format(what, "unknown format"));
        }
        if raw.group != GROUP {
            return Err(Error::format(what, "unknown group"));
        }
        let escrow_key = EscrowKey::from_jwk(&raw.escrow_key)
            .map_err(|_| Error::format(what, "the escrow key is not an X25519 JWK"))?;
        let commitments = Commitments::from_strings(&raw.commitments)?;
        if commitments.threshold() != raw.threshold as usize {
            return Err(Error::format(what, "threshold and commitments disagree"));
        }
        check_holders(&raw.holders, raw.threshold).map_err(|reason| Error::format(what, reason))?;
        Ok(CeremonyRecord {
            escrow_key,
            commitments,
            holders: raw.holders,
            created_at: raw.created_at,
        })
    }

    fn holder_at(&self, x: u32) -> Option<&Holder> {
        self.holders.iter().find(|h| h.x == x)
    }
}

fn check_name(name: &str) -> Result<(), &'static str> {
    let ok = !name.trim().is_empty()
        && name.chars().count() <= MAX_NAME_LEN
        && !name.chars().any(char::is_control);
    if ok { Ok(()) } else { Err("a holder's name") }
}

fn check_holders(holders: &[Holder], threshold: u32) -> Result<(), &'static str> {
    if holders.len() < threshold as usize || holders.len() > MAX_SHARES as usize {
        return Err("fewer holders than the threshold");
    }
    let mut xs = BTreeSet::new();
    let mut names = BTreeSet::new();
    for holder in holders {
        if holder.x == 0 {
            return Err("a holder at x = 0");
        }
        if !xs.insert(holder.x) {
            return Err("two holders at one x");
        }
        check_name(&holder.name)?;
        if !names.insert(holder.name.as_str()) {
            return Err("two holders with one name");
        }
    }
    Ok(())
}

/// A judge's share file: public header (whose share, which key, which x) and the share
/// sealed under the judge's passphrase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareFile {
    format: String,
    escrow_key: Value,
    holder: String,
    x: u32,
    threshold: u32,
    sealed: Sealed,
}

/// The public fields of a share file, as the AEAD's associated data.
#[derive(Serialize)]
struct ShareHeader<'a> {
    format: &'a str,
    escrow_key: &'a Value,
    holder: &'a str,
    x: u32,
    threshold: u32,
}

impl ShareHeader<'_> {
    /// The header as the AEAD's associated data (serde writes the fields in order).
    fn aad(&self) -> Result<Vec<u8>> {
        serde_json::to_vec(self).map_err(|_| Error::Crypto("serialising the share header"))
    }
}

impl ShareFile {
    fn aad(&self) -> Result<Vec<u8>> {
        ShareHeader {
            format: &self.format,
            escrow_key: &self.escrow_key,
            holder: &self.holder,
            x: self.x,
            threshold: self.threshold,
        }
        .aad()
    }

    /// The holder named in the file.
    pub fn holder(&self) -> &str {
        &self.holder
    }
    /// The share's x.
    pub fn x(&self) -> u32 {
        self.x
    }

    /// The file as JSON.
    pub fn to_json(&self) -> Result<String> {
        serde_json::to_string_pretty(self).map_err(|_| Error::Crypto("serialising the share"))
    }

    /// Reads a share file (the header only is checked here; the share when it is unsealed).
    pub fn from_json(text: &str) -> Result<ShareFile> {
        let file: ShareFile = serde_json::from_str(text)
            .map_err(|_| Error::format("share file", "not a share file"))?;
        if file.format != SHARE_FORMAT {
            return Err(Error::format("share file", "unknown format"));
        }
        Ok(file)
    }

    fn unseal(&self, passphrase: &[u8]) -> Result<SecretShare, ShareProblem> {
        let aad = self.aad().map_err(|_| ShareProblem::Unreadable)?;
        let y = sealing::open(passphrase, &self.sealed, &aad).map_err(|e| match e {
            OpenError::WrongPassphrase => ShareProblem::WrongPassphrase,
            OpenError::Format(_) => ShareProblem::Unreadable,
        })?;
        let y: [u8; 32] = y[..].try_into().map_err(|_| ShareProblem::Unreadable)?;
        Ok(SecretShare::new(self.x, Zeroizing::new(y)))
    }
}

/// What [`keygen`] makes.
#[derive(Debug)]
pub struct Ceremony {
    /// The public record (commitments and holders).
    pub record: CeremonyRecord,
    /// One sealed share file per judge, in the order the judges were given.
    pub shares: Vec<ShareFile>,
}

/// Makes the escrow key (with `kid`, or `escrow-` and the first 16 characters of its
/// base64url public key), splits it `threshold`-of-`judges.len()` among `judges` (name and
/// passphrase each, in order: x = 1, 2, …), seals each share under its judge's passphrase,
/// and forgets the key.
pub fn keygen(
    kid: Option<String>,
    judges: &[(String, Zeroizing<String>)],
    threshold: u32,
    kdf: KdfParams,
    now: i64,
) -> Result<Ceremony> {
    let count =
        u32::try_from(judges.len()).map_err(|_| Error::Invalid("number of judges".into()))?;
    let holders: Vec<Holder> = (1..=count)
        .zip(judges)
        .map(|(x, (name, _))| Holder {
            x,
            name: name.clone(),
        })
        .collect();
    check_holders(&holders, threshold).map_err(|reason| Error::Invalid(reason.into()))?;
    let (escrow_key, secret) = escrow::generate_escrow_key(None).map_err(|_| Error::Random)?;
    // The default kid names the key by its own (public, random) first bytes.
    let kid = kid.unwrap_or_else(|| {
        let x = URL_SAFE_NO_PAD.encode(escrow_key.public_bytes());
        format!("escrow-{}", &x[..16])
    });
    if kid.is_empty() || kid.chars().any(char::is_control) {
        return Err(Error::Invalid("kid".into()));
    }
    let escrow_key = EscrowKey::new(*escrow_key.public_bytes(), Some(kid))
        .map_err(|_| Error::Crypto("the escrow public key"))?;
    let (shares, commitments) = vss::split(secret.as_bytes(), threshold, count)?;
    drop(secret);
    let record = CeremonyRecord {
        escrow_key: escrow_key.clone(),
        commitments,
        holders,
        created_at: now,
    };
    let mut files = Vec::with_capacity(shares.len());
    let jwk = escrow_key.to_jwk();
    for (share, (name, passphrase)) in shares.iter().zip(judges) {
        let aad = ShareHeader {
            format: SHARE_FORMAT,
            escrow_key: &jwk,
            holder: name,
            x: share.x(),
            threshold,
        }
        .aad()?;
        files.push(ShareFile {
            format: SHARE_FORMAT.into(),
            escrow_key: jwk.clone(),
            holder: name.clone(),
            x: share.x(),
            threshold,
            sealed: sealing::seal(passphrase.as_bytes(), kdf, &aad, share.y())?,
        });
    }
    Ok(Ceremony {
        record,
        shares: files,
    })
}

/// An opening in progress: shares are added one by one; each bad one is refused with its
/// holder's name, and the opening goes on as long as k good ones can still be had.
#[derive(Debug)]
pub struct Opening<'r> {
    record: &'r CeremonyRecord,
    seen: BTreeSet<u32>,
    good: Vec<SecretShare>,
    refused: Vec<Refusal>,
}

impl<'r> Opening<'r> {
    /// An opening against a ceremony record.
    pub fn new(record: &'r CeremonyRecord) -> Opening<'r> {
        Opening {
            record,
            seen: BTreeSet::new(),
            good: Vec::new(),
            refused: Vec::new(),
        }
    }

    /// The checks on a share file's public header, before its holder is asked for a
    /// passphrase: not at x = 0, not an x already given, a holder of this ceremony at this
    /// x, the same escrow key. A refused file is recorded and the error returned.
    pub fn admit(&mut self, file: &ShareFile) -> Result<(), Refusal> {
        let problem = if file.x() == 0 {
            Some(ShareProblem::AtZero)
        } else if self.seen.contains(&file.x()) {
            Some(ShareProblem::DuplicateX)
        } else if EscrowKey::from_jwk(&file.escrow_key).ok().as_ref()
            != Some(self.record.escrow_key())
            || file.threshold as usize != self.record.threshold()
        {
            Some(ShareProblem::OtherKey)
        } else if self
            .record
            .holder_at(file.x())
            .is_none_or(|h| h.name != file.holder())
        {
            Some(ShareProblem::UnknownHolder)
        } else {
            None
        };
        match problem {
            Some(problem) => Err(self.refuse(file, problem)),
            None => Ok(()),
        }
    }

    /// Adds a share: [`Opening::admit`], then unseals it with `passphrase` and runs
    /// Feldman's check. A refused share is recorded and the error returned.
    pub fn add(&mut self, file: &ShareFile, passphrase: &[u8]) -> Result<(), Refusal> {
        self.admit(file)?;
        self.seen.insert(file.x());
        let checked = file
            .unseal(passphrase)
            .and_then(|share| self.record.commitments().verify(&share).map(|()| share));
        match checked {
            Ok(share) => {
                self.good.push(share);
                Ok(())
            }
            Err(problem) => Err(self.refuse(file, problem)),
        }
    }

    fn refuse(&mut self, file: &ShareFile, problem: ShareProblem) -> Refusal {
        let refusal = Refusal {
            holder: file.holder().to_owned(),
            x: file.x(),
            problem,
        };
        self.refused.push(refusal.clone());
        refusal
    }

    /// Good shares so far.
    pub fn good(&self) -> usize {
        self.good.len()
    }

    /// Shares refused so far.
    pub fn refused(&self) -> &[Refusal] {
        &self.refused
    }

    /// Rebuilds the escrow key from k good shares and checks it against the ceremony's
    /// public key. Fewer than k: [`Error::NotEnoughShares`], naming every refused share.
    pub fn rebuild(self) -> Result<OpenedKey> {
        let needed = self.record.threshold();
        if self.good.len() < needed {
            return Err(Error::NotEnoughShares {
                needed,
                usable: self.good.len(),
                refused: self.refused,
            });
        }
        let bytes = vss::combine(&self.good, self.record.commitments())?;
        let secret = EscrowSecret::from_bytes(bytes);
        let public = secret
            .public_key(self.record.escrow_key().kid().map(str::to_owned))
            .map_err(|_| Error::KeyMismatch)?;
        if &public != self.record.escrow_key() {
            return Err(Error::KeyMismatch);
        }
        Ok(OpenedKey {
            secret,
            key: self.record.escrow_key().clone(),
        })
    }
}

/// The escrow private key, rebuilt: it opens records, and is zeroized when dropped.
#[derive(Debug)]
pub struct OpenedKey {
    secret: EscrowSecret,
    key: EscrowKey,
}

impl OpenedKey {
    /// Opens one sealed record of the account (`platform_id`, `pseudonym`). `index` names
    /// it in errors.
    pub fn open(
        &self,
        index: usize,
        sealed: &SealedRecord,
        platform_id: &str,
        pseudonym: &str,
    ) -> Result<EscrowRecord> {
        if let (Some(record_kid), Some(our_kid)) = (sealed.kid.as_deref(), self.key.kid())
            && record_kid != our_kid
        {
            return Err(Error::OtherEscrowKey { index });
        }
        escrow::open(self.secret.as_bytes(), platform_id, pseudonym, sealed)
            .map_err(|source| Error::Record { index, source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sealing::test_params;

    const PLATFORM: &str = "https://platform.example";
    const PSEUDONYM: &str = "q2FfZ3JvdXAtcHNldWRvbnltLWZvci10ZXN0czAwMDA";

    fn judges(n: usize) -> Vec<(String, Zeroizing<String>)> {
        (1..=n)
            .map(|i| {
                (
                    format!("judge-{i}"),
                    Zeroizing::new(format!("passphrase of judge {i}")),
                )
            })
            .collect()
    }

    fn pass(i: usize) -> Vec<u8> {
        format!("passphrase of judge {i}").into_bytes()
    }

    fn escrow_record() -> EscrowRecord {
        EscrowRecord {
            person_handle: "handle-ZQk2".into(),
            platform_id: PLATFORM.into(),
            pseudonym: PSEUDONYM.into(),
            account_reference: None,
            check_id: "check-1".into(),
            time: 1_800_000_000,
            evidence_digest: "00".repeat(32),
        }
    }

    fn ceremony() -> Ceremony {
        keygen(Some("escrow-1".into()), &judges(5), 3, test_params(), 1).unwrap()
    }

    #[test]
    fn three_of_five_open_what_the_verifier_sealed() {
        let c = ceremony();
        let record_json = c.record.to_json().unwrap();
        let ceremony = CeremonyRecord::from_json(&record_json).unwrap();
        assert_eq!(ceremony, c.record);
        let sealed = escrow::seal(ceremony.escrow_key(), &escrow_record()).unwrap();
        let mut opening = Opening::new(&ceremony);
        for i in [2, 4, 5] {
            let file = ShareFile::from_json(&c.shares[i - 1].to_json().unwrap()).unwrap();
            opening.add(&file, &pass(i)).unwrap();
        }
        let key = opening.rebuild().unwrap();
        assert_eq!(
            key.open(1, &sealed, PLATFORM, PSEUDONYM).unwrap(),
            escrow_record()
        );
        // The same key does not open the record for another account.
        assert!(matches!(
            key.open(1, &sealed, "https://other.example", PSEUDONYM),
            Err(Error::Record { index: 1, .. })
        ));
    }

    #[test]
    fn two_of_three_needed_shares_are_not_enough() {
        let c = ceremony();
        let mut opening = Opening::new(&c.record);
        for i in [1, 3] {
            opening.add(&c.shares[i - 1], &pass(i)).unwrap();
        }
        assert!(matches!(
            opening.rebuild(),
            Err(Error::NotEnoughShares {
                needed: 3,
                usable: 2,
                ..
            })
        ));
    }

    #[test]
    fn a_wrong_passphrase_sets_the_share_aside_and_names_its_holder() {
        let c = ceremony();
        let mut opening = Opening::new(&c.record);
        let refusal = opening.add(&c.shares[0], b"guess").unwrap_err();
        assert_eq!(refusal.holder, "judge-1");
        assert_eq!(refusal.problem, ShareProblem::WrongPassphrase);
        for i in [2, 3, 4] {
            opening.add(&c.shares[i - 1], &pass(i)).unwrap();
        }
        assert_eq!(opening.refused().len(), 1);
        assert!(opening.rebuild().is_ok());
    }

    #[test]
    fn a_corrupted_share_is_named_and_the_opening_goes_on_with_k_good_ones() {
        let c = ceremony();
        // Judge 2 seals a wrong value under their own passphrase: the file opens, the
        // Feldman check does not pass.
        let mut bad = c.shares[1].clone();
        bad.sealed =
            sealing::seal(&pass(2), test_params(), &bad.aad().unwrap(), &[0x11; 32]).unwrap();
        let mut opening = Opening::new(&c.record);
        let refusal = opening.add(&bad, &pass(2)).unwrap_err();
        assert_eq!(
            refusal,
            Refusal {
                holder: "judge-2".into(),
                x: 2,
                problem: ShareProblem::Corrupted
            }
        );
        assert!(refusal.to_string().contains("judge-2"));
        for i in [1, 3] {
            opening.add(&c.shares[i - 1], &pass(i)).unwrap();
        }
        // Two good ones: not enough, and the error names the corrupted share.
        let mut short = Opening::new(&c.record);
        short.add(&bad, &pass(2)).unwrap_err();
        short.add(&c.shares[0], &pass(1)).unwrap();
        short.add(&c.shares[2], &pass(3)).unwrap();
        let error = short.rebuild().unwrap_err().to_string();
        assert!(
            error.contains("judge-2") && error.contains("corrupted_share"),
            "{error}"
        );
        // A third good one: the opening succeeds without the bad share.
        opening.add(&c.shares[4], &pass(5)).unwrap();
        assert!(opening.rebuild().is_ok());
    }

    #[test]
    fn a_share_at_zero_or_a_repeated_x_is_refused() {
        let c = ceremony();
        let mut zero = c.shares[0].clone();
        zero.x = 0;
        let mut opening = Opening::new(&c.record);
        assert_eq!(
            opening.admit(&zero).unwrap_err().problem,
            ShareProblem::AtZero
        );
        opening.add(&c.shares[0], &pass(1)).unwrap();
        assert_eq!(
            opening.add(&c.shares[0], &pass(1)).unwrap_err().problem,
            ShareProblem::DuplicateX
        );
        // Judge 2's file relabelled as x = 1 by its holder: a duplicate too.
        let mut relabelled = c.shares[1].clone();
        relabelled.x = 1;
        assert_eq!(
            opening.admit(&relabelled).unwrap_err().problem,
            ShareProblem::DuplicateX
        );
    }

    #[test]
    fn a_share_of_another_ceremony_or_holder_is_refused() {
        let c = ceremony();
        let other = keygen(None, &judges(5), 3, test_params(), 1).unwrap();
        let mut opening = Opening::new(&c.record);
        assert_eq!(
            opening.admit(&other.shares[0]).unwrap_err().problem,
            ShareProblem::OtherKey
        );
        let mut renamed = c.shares[0].clone();
        renamed.holder = "judge-9".into();
        assert_eq!(
            opening.admit(&renamed).unwrap_err().problem,
            ShareProblem::UnknownHolder
        );
        // Judge 2's sealed share under judge 1's header: admitted, but it does not open.
        let mut moved = c.shares[0].clone();
        moved.sealed = c.shares[1].sealed.clone();
        assert_eq!(
            opening.add(&moved, &pass(2)).unwrap_err().problem,
            ShareProblem::WrongPassphrase
        );
    }

    #[test]
    fn a_share_file_asking_for_too_much_memory_is_refused_unread() {
        let c = ceremony();
        let mut json: Value = serde_json::from_str(&c.shares[0].to_json().unwrap()).unwrap();
        json["sealed"]["kdf"]["m_cost"] = Value::from(u32::MAX);
        let file = ShareFile::from_json(&json.to_string()).unwrap();
        let mut opening = Opening::new(&c.record);
        assert_eq!(
            opening.add(&file, &pass(1)).unwrap_err().problem,
            ShareProblem::Unreadable
        );
    }

    #[test]
    fn ceremony_records_are_checked() {
        let c = ceremony();
        let json: Value = serde_json::from_str(&c.record.to_json().unwrap()).unwrap();
        let bad = |edit: &dyn Fn(&mut Value)| {
            let mut v = json.clone();
            edit(&mut v);
            CeremonyRecord::from_json(&v.to_string()).is_err()
        };
        assert!(bad(&|v| v["format"] = "v2".into()));
        assert!(bad(&|v| v["group"] = "secp256k1".into()));
        assert!(bad(&|v| v["threshold"] = 2.into()));
        assert!(bad(&|v| v["holders"][1]["x"] = 0.into()));
        assert!(bad(&|v| v["holders"][1]["x"] = 1.into()));
        assert!(bad(&|v| v["holders"][1]["name"] = "judge-1".into()));
        assert!(bad(
            &|v| v["holders"] = serde_json::json!([{"x": 1, "name": "a"}])
        ));
        assert!(bad(&|v| v["extra"] = 1.into()));
        assert!(!bad(&|_| {}));
    }

    #[test]
    fn keygen_refuses_impossible_ceremonies() {
        assert!(keygen(None, &judges(3), 4, test_params(), 1).is_err());
        assert!(keygen(None, &judges(3), 1, test_params(), 1).is_err());
        let mut same = judges(3);
        same[2].0 = "judge-1".into();
        assert!(keygen(None, &same, 2, test_params(), 1).is_err());
    }
}
