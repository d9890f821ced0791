//! The escrow private key split k-of-n with Feldman's verifiable secret sharing (vsss-rs).
//!
//! The X25519 private key is 32 bytes, clamped (RFC 7748 §5: bit 255 clear), so as a
//! little-endian integer it is below 2^255 — below the order n of P-256 (≈ 2^256 − 2^224).
//! It is therefore shared exactly as a P-256 scalar: a random polynomial of degree k − 1
//! over the scalar field with the key as its constant term, share i = (x_i, f(x_i)) at
//! x_i = 1…n, and the commitments C_j = a_j · G on P-256. Anyone holding the public
//! commitments checks a share with y · G = Σ C_j · x^j, so a corrupted share is caught and
//! its holder named before it can spoil the key; k good shares interpolate back to exactly
//! the 32 bytes. (Curve25519's own group order is below 2^253 and could not hold every
//! clamped key without reduction.)

use crate::error::{Error, Result, ShareProblem};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use getrandom::SysRng;
use getrandom::rand_core::UnwrapErr;
use p256::elliptic_curve::PrimeField as _;
use p256::elliptic_curve::group::GroupEncoding as _;
use p256::{FieldBytes, ProjectivePoint, Scalar};
use vsss_rs::{
    DefaultShare, FeldmanVerifierSet, IdentifierPrimeField, ReadableShareSet as _, Share as _,
    ShareVerifierGroup, feldman,
};
use zeroize::{Zeroize, Zeroizing};

type VsssShare = DefaultShare<IdentifierPrimeField<Scalar>, IdentifierPrimeField<Scalar>>;
type Verifier = ShareVerifierGroup<ProjectivePoint>;

/// The most judges a ceremony may have.
pub const MAX_SHARES: u32 = 255;

/// One judge's share: its x and, zeroized on drop, f(x) as a big-endian P-256 scalar.
#[derive(Clone)]
pub struct SecretShare {
    x: u32,
    y: Zeroizing<[u8; 32]>,
}

impl std::fmt::Debug for SecretShare {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretShare(x = {}, ..)", self.x)
    }
}

impl SecretShare {
    pub(crate) fn new(x: u32, y: Zeroizing<[u8; 32]>) -> SecretShare {
        SecretShare { x, y }
    }
    /// The share's x.
    pub fn x(&self) -> u32 {
        self.x
    }
    pub(crate) fn y(&self) -> &[u8; 32] {
        &self.y
    }

    /// The share for vsss-rs, or `None` when y is not a canonical scalar.
    fn to_vsss(&self) -> Option<VsssShare> {
        let y: Option<Scalar> = Scalar::from_repr(FieldBytes::from(*self.y)).into();
        Some(VsssShare::with_identifier_and_value(
            IdentifierPrimeField(Scalar::from(u64::from(self.x))),
            IdentifierPrimeField(y?),
        ))
    }
}

/// The public Feldman commitments C_0 … C_{k−1} (C_0 = key · G): they tell a good share
/// from a bad one and reveal nothing usable about the key.
#[derive(Clone, PartialEq, Eq)]
pub struct Commitments(Vec<ProjectivePoint>);

impl std::fmt::Debug for Commitments {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Commitments(threshold = {})", self.0.len())
    }
}

impl Commitments {
    /// The threshold k: the number of commitments.
    pub fn threshold(&self) -> usize {
        self.0.len()
    }

    /// Each commitment as base64url of its compressed SEC1 encoding (33 bytes).
    pub fn to_strings(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|c| URL_SAFE_NO_PAD.encode(c.to_bytes()))
            .collect()
    }

    /// Reads the commitments: P-256 points in compressed SEC1 form, none the identity, at
    /// least two.
    pub fn from_strings(items: &[String]) -> Result<Commitments> {
        if items.len() < 2 || items.len() > MAX_SHARES as usize {
            return Err(Error::format("commitments", "threshold out of range"));
        }
        let mut points = Vec::with_capacity(items.len());
        for item in items {
            let bytes = URL_SAFE_NO_PAD
                .decode(item)
                .map_err(|_| Error::format("commitments", "a commitment is not base64url"))?;
            let encoded =
                <ProjectivePoint as p256::elliptic_curve::group::GroupEncoding>::Repr::try_from(
                    bytes.as_slice(),
                )
                .map_err(|_| Error::format("commitments", "a commitment has the wrong length"))?;
            let point: Option<ProjectivePoint> = ProjectivePoint::from_bytes(&encoded).into();
            let point = point
                .ok_or_else(|| Error::format("commitments", "a commitment is not a P-256 point"))?;
            if point == ProjectivePoint::IDENTITY {
                return Err(Error::format("commitments", "a commitment is the identity"));
            }
            // One encoding per point: SEC1 also reads other tags (0x05, compact) into points.
            if point.to_bytes().as_slice() != bytes.as_slice() {
                return Err(Error::format(
                    "commitments",
                    "a commitment is not compressed SEC1",
                ));
            }
            points.push(point);
        }
        Ok(Commitments(points))
    }

    fn verifier_set(&self) -> Vec<Verifier> {
        let commitments: Vec<Verifier> = self.0.iter().copied().map(Verifier::from).collect();
        <Vec<Verifier> as FeldmanVerifierSet<VsssShare, Verifier>>::feldman_set_with_generator_and_verifiers(
            Verifier::from(ProjectivePoint::GENERATOR),
            &commitments,
        )
    }

    /// Feldman's check of one share: x ≠ 0 and y · G = Σ C_j · x^j.
    pub fn verify(&self, share: &SecretShare) -> Result<(), ShareProblem> {
        if share.x == 0 {
            return Err(ShareProblem::AtZero);
        }
        let mut vsss = share.to_vsss().ok_or(ShareProblem::Corrupted)?;
        let verdict = <Vec<Verifier> as FeldmanVerifierSet<VsssShare, Verifier>>::verify_share(
            &self.verifier_set(),
            &vsss,
        );
        vsss.zeroize();
        verdict.map_err(|_| ShareProblem::Corrupted)
    }

    /// Whether `key` (little-endian, as X25519 stores it) is the committed secret: C_0.
    fn commits_to(&self, key: &[u8; 32]) -> bool {
        let Some(mut scalar) = scalar_of_key(key) else {
            return false;
        };
        let committed = Some(&(ProjectivePoint::GENERATOR * scalar)) == self.0.first();
        scalar.zeroize();
        committed
    }
}

/// The P-256 scalar whose big-endian bytes are the key's little-endian bytes reversed.
fn scalar_of_key(key: &[u8; 32]) -> Option<Scalar> {
    let mut be = Zeroizing::new(*key);
    be.reverse();
    Scalar::from_repr(FieldBytes::from(*be)).into()
}

/// Splits the clamped X25519 private key `key` into `count` shares at x = 1…count, any
/// `threshold` of which rebuild it, with the Feldman commitments.
pub fn split(
    key: &[u8; 32],
    threshold: u32,
    count: u32,
) -> Result<(Vec<SecretShare>, Commitments)> {
    if threshold < 2 || threshold > count || count > MAX_SHARES {
        return Err(Error::Invalid(format!(
            "threshold {threshold} of {count}: need 2 ≤ threshold ≤ judges ≤ {MAX_SHARES}"
        )));
    }
    if !is_clamped(key) {
        return Err(Error::Invalid(
            "escrow key: not a clamped X25519 key".into(),
        ));
    }
    let mut secret = IdentifierPrimeField(
        scalar_of_key(key).ok_or(Error::Crypto("the escrow key is not below the P-256 order"))?,
    );
    // The OS generator; were it to fail mid-ceremony the process stops before anything is
    // written (vsss-rs takes an infallible RNG).
    let split = feldman::split_secret_with_participant_ids_iter::<VsssShare, Verifier>(
        threshold as usize,
        count as usize,
        &secret,
        None,
        UnwrapErr(SysRng),
        (1..=count).map(|x| IdentifierPrimeField(Scalar::from(u64::from(x)))),
    );
    secret.zeroize();
    let (mut shares, verifiers) = split.map_err(|_| Error::Crypto("splitting the key"))?;
    let commitments = Commitments(
        verifiers
            .iter()
            .skip(1)
            .map(|v| v.0)
            .collect::<Vec<ProjectivePoint>>(),
    );
    let mut out = Vec::with_capacity(shares.len());
    for (x, share) in (1..=count).zip(shares.iter()) {
        let mut y = Zeroizing::new([0u8; 32]);
        y.copy_from_slice(&share.value().0.to_repr());
        out.push(SecretShare { x, y });
    }
    shares.iter_mut().for_each(Zeroize::zeroize);
    // What was made must check out before anything leaves this function.
    if commitments.threshold() != threshold as usize
        || !commitments.commits_to(key)
        || out.iter().any(|s| commitments.verify(s).is_err())
    {
        return Err(Error::Crypto("the split does not verify"));
    }
    Ok((out, commitments))
}

/// Rebuilds the key from `shares`, each already verified against `commitments`: exactly
/// the threshold of them are used. The result is checked against C_0 and must be a clamped
/// X25519 key.
pub fn combine(shares: &[SecretShare], commitments: &Commitments) -> Result<Zeroizing<[u8; 32]>> {
    let needed = commitments.threshold();
    if shares.len() < needed {
        return Err(Error::NotEnoughShares {
            needed,
            usable: shares.len(),
            refused: Vec::new(),
        });
    }
    let mut set = shares[..needed]
        .iter()
        .map(SecretShare::to_vsss)
        .collect::<Option<Vec<_>>>()
        .ok_or(Error::Crypto("a share is not a scalar"))?;
    let combined = set.combine();
    set.iter_mut().for_each(Zeroize::zeroize);
    let mut secret = combined.map_err(|_| Error::Crypto("the shares do not combine"))?;
    let mut key = Zeroizing::new([0u8; 32]);
    key.copy_from_slice(&secret.0.to_repr());
    secret.zeroize();
    key.reverse();
    if !is_clamped(&key) || !commitments.commits_to(&key) {
        return Err(Error::KeyMismatch);
    }
    Ok(key)
}

/// RFC 7748 §5: the three low bits clear, bit 255 clear, bit 254 set.
fn is_clamped(key: &[u8; 32]) -> bool {
    key[0] & 7 == 0 && key[31] & 0xc0 == 0x40
}

#[cfg(test)]
mod tests {
    use super::*;
    use credential_formats::escrow::generate_escrow_key;

    fn key() -> Zeroizing<[u8; 32]> {
        let (_, secret) = generate_escrow_key(None).unwrap();
        Zeroizing::new(*secret.as_bytes())
    }

    #[test]
    fn any_k_of_n_shares_give_back_exactly_the_key() {
        let key = key();
        let (shares, commitments) = split(&key, 3, 5).unwrap();
        assert_eq!(shares.len(), 5);
        assert_eq!(
            shares.iter().map(SecretShare::x).collect::<Vec<_>>(),
            [1, 2, 3, 4, 5]
        );
        for s in &shares {
            assert_eq!(commitments.verify(s), Ok(()));
        }
        for picks in [[0, 1, 2], [2, 3, 4], [4, 0, 2], [1, 3, 4]] {
            let chosen: Vec<_> = picks.iter().map(|&i| shares[i].clone()).collect();
            assert_eq!(*combine(&chosen, &commitments).unwrap(), *key);
        }
    }

    #[test]
    fn fewer_than_k_shares_do_not_combine() {
        let key = key();
        let (shares, commitments) = split(&key, 3, 5).unwrap();
        assert!(matches!(
            combine(&shares[..2], &commitments),
            Err(Error::NotEnoughShares {
                needed: 3,
                usable: 2,
                ..
            })
        ));
        // Interpolating two shares as if k were 2 gives some value, never the key.
        let (_, wrong_threshold) = split(&key, 2, 5).unwrap();
        assert!(combine(&shares[..2], &wrong_threshold).is_err());
    }

    #[test]
    fn a_corrupted_share_fails_the_feldman_check() {
        let (shares, commitments) = split(&key(), 3, 5).unwrap();
        for bit in [0, 7, 100, 255] {
            let mut y = *shares[1].y();
            y[31 - bit / 8] ^= 1 << (bit % 8);
            let bad = SecretShare::new(2, Zeroizing::new(y));
            assert_eq!(commitments.verify(&bad), Err(ShareProblem::Corrupted));
        }
        // A good y presented at another x is no better.
        let moved = SecretShare::new(3, Zeroizing::new(*shares[1].y()));
        assert_eq!(commitments.verify(&moved), Err(ShareProblem::Corrupted));
        // Nor is a y that is not a scalar at all.
        let not_scalar = SecretShare::new(2, Zeroizing::new([0xff; 32]));
        assert_eq!(
            commitments.verify(&not_scalar),
            Err(ShareProblem::Corrupted)
        );
        // Another ceremony's share.
        let (others, _) = split(&key(), 3, 5).unwrap();
        assert_eq!(commitments.verify(&others[1]), Err(ShareProblem::Corrupted));
    }

    #[test]
    fn a_share_at_zero_is_refused() {
        let key = key();
        let (_, commitments) = split(&key, 3, 5).unwrap();
        let mut be = *key;
        be.reverse();
        // At x = 0 the "share" would be the key itself.
        let zero = SecretShare::new(0, Zeroizing::new(be));
        assert_eq!(commitments.verify(&zero), Err(ShareProblem::AtZero));
    }

    #[test]
    fn commitments_round_trip_and_refuse_bad_points() {
        let (_, commitments) = split(&key(), 3, 5).unwrap();
        let text = commitments.to_strings();
        assert_eq!(text.len(), 3);
        assert!(text.iter().all(|c| c.len() == 44));
        assert_eq!(Commitments::from_strings(&text).unwrap(), commitments);
        let mut identity = text.clone();
        identity[1] = URL_SAFE_NO_PAD.encode([0u8; 33]);
        assert!(Commitments::from_strings(&identity).is_err());
        let mut off_curve = text.clone();
        let mut bytes = URL_SAFE_NO_PAD.decode(&off_curve[2]).unwrap();
        bytes[0] = 0x05;
        off_curve[2] = URL_SAFE_NO_PAD.encode(bytes);
        assert!(Commitments::from_strings(&off_curve).is_err());
        assert!(Commitments::from_strings(&text[..1]).is_err());
    }

    #[test]
    fn parameters_out_of_range_are_refused() {
        let key = key();
        for (k, n) in [(1, 5), (6, 5), (0, 0), (2, MAX_SHARES + 1)] {
            assert!(split(&key, k, n).is_err(), "{k} of {n}");
        }
        assert!(split(&[0xff; 32], 2, 3).is_err());
        assert!(split(&key, 2, 2).is_ok());
    }

    #[test]
    fn debug_shows_no_share_value() {
        let (shares, commitments) = split(&key(), 2, 3).unwrap();
        assert_eq!(format!("{:?}", shares[0]), "SecretShare(x = 1, ..)");
        assert_eq!(format!("{commitments:?}"), "Commitments(threshold = 2)");
    }
}
