//! Token Status List (draft-ietf-oauth-status-list-14): the compressed byte array of statuses
//! (§4), the Status List Token in JWT format (§5.1), the `status` claim of a Referenced Token
//! (§6.2), the Status Types of §7.1, and the issuer's random index allocation (§12.5, §13.3).
//!
//! Decoding is bounded twice: the base64url text is size-checked before it is decoded, and the
//! ZLIB stream is inflated into a buffer that may not grow past [`DecodeLimits::max_decompressed`],
//! so a zlib bomb fails fast with [`StatusListError::DecompressedTooLarge`].
//!
//! Functions that touch one family of input return [`StatusListError`]; those that also verify
//! a JWS or draw randomness return [`crate::Result`], which carries the JOSE family too.

mod allocator;
mod reference;
mod token;

use serde_json::{Map, Value};
use thiserror::Error;

pub use allocator::IndexAllocator;
pub use reference::{StatusReference, UriPolicy};
pub use token::{STATUS_LIST_JWT_TYP, StatusListToken, StatusListValidation, TtlBounds};

/// The version of the draft this module implements, as HAIP 1.0 pins it.
pub const SPECIFICATION: &str = "draft-ietf-oauth-status-list-14";

/// Why Token Status List (draft-ietf-oauth-status-list-14) input was refused.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum StatusListError {
    /// `bits` is not one of 1, 2, 4 or 8 (§4.1 step 1).
    #[error("bits must be 1, 2, 4 or 8")]
    UnsupportedBits,
    /// The index is outside the list (§8.3 step 6).
    #[error("index out of range of the status list")]
    IndexOutOfRange,
    /// The status value does not fit in `bits` bits.
    #[error("status value does not fit in the list's bits")]
    StatusTooLarge,
    /// A list of the requested capacity would exceed the size limits.
    #[error("requested capacity is too large")]
    CapacityTooLarge,
    /// The list holds no status at all.
    #[error("empty status list")]
    Empty,
    /// `lst` is not canonical unpadded base64url.
    #[error("lst is not base64url")]
    Base64,
    /// `lst` is longer than the compressed size limit.
    #[error("compressed status list of {len} bytes is over the limit of {limit}")]
    CompressedTooLarge {
        /// Length of the compressed input (base64url characters).
        len: usize,
        /// The limit that applied.
        limit: usize,
    },
    /// The decompressed list would be larger than the limit (a zlib bomb, or a list too big to
    /// handle).
    #[error("decompressed status list is over the limit of {limit} bytes")]
    DecompressedTooLarge {
        /// The limit that applied.
        limit: usize,
    },
    /// `lst` is not a valid ZLIB (RFC 1950) stream of DEFLATE (RFC 1951) data.
    #[error("lst is not a valid ZLIB/DEFLATE stream")]
    NotZlib,
    /// A required member or claim is missing.
    #[error("missing {0}")]
    Missing(&'static str),
    /// A member or claim has the wrong JSON type or an invalid value.
    #[error("invalid {0}")]
    Invalid(&'static str),
    /// A URI is not `https` (or not an acceptable URI at all).
    #[error("the {0} URI is not an acceptable https URI")]
    InsecureUri(&'static str),
    /// The Status List Token's `sub` is not the `uri` the Referenced Token points to (§5.1).
    #[error("sub does not match the referenced status list uri")]
    SubjectMismatch,
    /// The Status List Token has expired (`exp`, with the allowed clock skew).
    #[error("status list token expired")]
    Expired,
    /// The Status List Token's `iat` is in the future (beyond the allowed clock skew).
    #[error("status list token issued in the future")]
    IssuedInFuture,
    /// The Status List Token is older than the Relying Party's freshness policy allows.
    #[error("status list token older than the freshness policy allows")]
    TooOld,
    /// The Status List Token's `nbf` is in the future (beyond the allowed clock skew).
    #[error("status list token not yet valid")]
    NotYetValid,
    /// Every index of the list has been allocated.
    #[error("no free index left in the status list")]
    Exhausted,
    /// The same index was recorded as allocated twice (double allocation, §13.3).
    #[error("index allocated twice")]
    DoubleAllocation,
}

/// How many bits each status takes: 1, 2, 4 or 8 (§4.1). Nothing else can be built.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum StatusBits {
    /// 1 bit: VALID or INVALID.
    One = 1,
    /// 2 bits: up to 4 statuses (adds SUSPENDED and 0x03).
    Two = 2,
    /// 4 bits: up to 16 statuses.
    Four = 4,
    /// 8 bits: up to 256 statuses.
    Eight = 8,
}

impl StatusBits {
    /// The number of bits.
    pub fn get(self) -> u8 {
        self as u8
    }

    /// How many statuses one byte holds.
    fn per_byte(self) -> usize {
        8 / usize::from(self.get())
    }

    /// The largest status value that fits.
    pub fn max_status(self) -> u8 {
        match self {
            StatusBits::Eight => u8::MAX,
            other => (1u8 << other.get()) - 1,
        }
    }
}

impl TryFrom<u8> for StatusBits {
    type Error = StatusListError;

    fn try_from(bits: u8) -> Result<StatusBits, StatusListError> {
        match bits {
            1 => Ok(StatusBits::One),
            2 => Ok(StatusBits::Two),
            4 => Ok(StatusBits::Four),
            8 => Ok(StatusBits::Eight),
            _ => Err(StatusListError::UnsupportedBits),
        }
    }
}

/// A Status Type value (§7.1) as it appears in the list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StatusType {
    /// 0x00 "VALID": the Referenced Token is valid, correct or legal.
    Valid,
    /// 0x01 "INVALID": revoked, annulled, taken back, recalled or cancelled.
    Invalid,
    /// 0x02 "SUSPENDED": temporarily invalid.
    Suspended,
    /// 0x03 or 0x0C–0x0F: permanently reserved as application specific (-14 removed 0x0B).
    ApplicationSpecific(u8),
    /// Any other value: reserved for future registration. A Relying Party that does not
    /// understand it can make no statement about the token.
    Reserved(u8),
}

impl StatusType {
    /// The numeric value written into the list.
    pub fn value(self) -> u8 {
        match self {
            StatusType::Valid => 0x00,
            StatusType::Invalid => 0x01,
            StatusType::Suspended => 0x02,
            StatusType::ApplicationSpecific(v) | StatusType::Reserved(v) => v,
        }
    }
}

impl From<u8> for StatusType {
    fn from(value: u8) -> StatusType {
        match value {
            0x00 => StatusType::Valid,
            0x01 => StatusType::Invalid,
            0x02 => StatusType::Suspended,
            0x03 | 0x0C..=0x0F => StatusType::ApplicationSpecific(value),
            other => StatusType::Reserved(other),
        }
    }
}

/// Limits applied when decoding a Status List.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeLimits {
    /// Longest `lst` accepted, in base64url characters.
    pub max_compressed: usize,
    /// Largest byte array the ZLIB stream may inflate to.
    pub max_decompressed: usize,
}

impl DecodeLimits {
    /// 16 MiB decompressed (2^27 one-bit statuses) and 1 MiB of `lst`, the size of the largest
    /// compact JWS we decode at all.
    pub const DEFAULT: DecodeLimits = DecodeLimits {
        max_compressed: crate::jose::MAX_COMPACT_LEN,
        max_decompressed: 16 << 20,
    };
}

impl Default for DecodeLimits {
    fn default() -> DecodeLimits {
        DecodeLimits::DEFAULT
    }
}

/// The highest compression level `miniz_oxide` offers; §4.1 step 4 recommends the highest.
const COMPRESSION_LEVEL: u8 = 10;

/// A Status List (§4): `bits` per Referenced Token, packed least significant bit first into a
/// byte array, so index 0 is the lowest bits of byte 0.
///
/// The capacity is always a whole number of bytes (§13.4 recommends a size divisible by 8
/// bits), so a decoded list and the list it was encoded from have the same capacity.
#[derive(Clone, PartialEq, Eq)]
pub struct StatusList {
    bits: StatusBits,
    bytes: Vec<u8>,
    aggregation_uri: Option<String>,
}

impl std::fmt::Debug for StatusList {
    // Statuses are per-person data: print the shape only.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusList")
            .field("bits", &self.bits.get())
            .field("capacity", &self.capacity())
            .finish_non_exhaustive()
    }
}

impl StatusList {
    /// A list of at least `n` statuses, all 0x00 (VALID, §13.3), rounded up to whole bytes.
    pub fn with_capacity(bits: StatusBits, n: usize) -> Result<StatusList, StatusListError> {
        if n == 0 {
            return Err(StatusListError::Empty);
        }
        let len = n.div_ceil(bits.per_byte());
        if len > DecodeLimits::DEFAULT.max_decompressed {
            return Err(StatusListError::CapacityTooLarge);
        }
        Ok(StatusList {
            bits,
            bytes: vec![0; len],
            aggregation_uri: None,
        })
    }

    /// Wraps an uncompressed byte array (for example the §4.1 examples).
    pub fn from_bytes(bits: StatusBits, bytes: Vec<u8>) -> Result<StatusList, StatusListError> {
        if bytes.is_empty() {
            return Err(StatusListError::Empty);
        }
        Ok(StatusList {
            bits,
            bytes,
            aggregation_uri: None,
        })
    }

    /// Sets `aggregation_uri` (§9.2), which must be an https URI.
    pub fn with_aggregation_uri(
        mut self,
        uri: impl Into<String>,
    ) -> Result<StatusList, StatusListError> {
        let uri = uri.into();
        reference::check_uri(&uri, UriPolicy::HttpsOnly, "aggregation_uri")?;
        self.aggregation_uri = Some(uri);
        Ok(self)
    }

    /// Bits per status.
    pub fn bits(&self) -> StatusBits {
        self.bits
    }

    /// How many statuses the list holds.
    pub fn capacity(&self) -> usize {
        self.bytes.len().saturating_mul(self.bits.per_byte())
    }

    /// The uncompressed byte array.
    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    /// `aggregation_uri`, if any.
    pub fn aggregation_uri(&self) -> Option<&str> {
        self.aggregation_uri.as_deref()
    }

    fn locate(&self, index: u64) -> Result<(usize, u32), StatusListError> {
        let index = usize::try_from(index).map_err(|_| StatusListError::IndexOutOfRange)?;
        let per_byte = self.bits.per_byte();
        let byte = index / per_byte;
        if byte >= self.bytes.len() {
            return Err(StatusListError::IndexOutOfRange);
        }
        // Lossless: the position within a byte is below 8.
        let shift = ((index % per_byte) * usize::from(self.bits.get())) as u32;
        Ok((byte, shift))
    }

    /// The status value at `index`.
    pub fn get(&self, index: u64) -> Result<u8, StatusListError> {
        let (byte, shift) = self.locate(index)?;
        let value = self
            .bytes
            .get(byte)
            .ok_or(StatusListError::IndexOutOfRange)?;
        Ok((value >> shift) & self.bits.max_status())
    }

    /// The Status Type at `index`.
    pub fn status(&self, index: u64) -> Result<StatusType, StatusListError> {
        self.get(index).map(StatusType::from)
    }

    /// Sets the status value at `index`; it must fit in `bits`.
    pub fn set(&mut self, index: u64, status: u8) -> Result<(), StatusListError> {
        if status > self.bits.max_status() {
            return Err(StatusListError::StatusTooLarge);
        }
        let (byte, shift) = self.locate(index)?;
        let mask = self.bits.max_status() << shift;
        let slot = self
            .bytes
            .get_mut(byte)
            .ok_or(StatusListError::IndexOutOfRange)?;
        *slot = (*slot & !mask) | (status << shift);
        Ok(())
    }

    /// `lst`: base64url(ZLIB(DEFLATE(byte array))) at the highest compression level (§4.1).
    pub fn encode_lst(&self) -> String {
        crate::b64::encode(miniz_oxide::deflate::compress_to_vec_zlib(
            &self.bytes,
            COMPRESSION_LEVEL,
        ))
    }

    /// Decodes `lst` within `limits`. Bytes after the end of the ZLIB stream are ignored,
    /// as ZLIB decoders do; the Adler-32 checksum is verified.
    pub fn decode(
        bits: StatusBits,
        lst: &str,
        limits: &DecodeLimits,
    ) -> Result<StatusList, StatusListError> {
        if lst.len() > limits.max_compressed {
            return Err(StatusListError::CompressedTooLarge {
                len: lst.len(),
                limit: limits.max_compressed,
            });
        }
        let compressed = crate::b64::decode(lst).ok_or(StatusListError::Base64)?;
        let bytes = miniz_oxide::inflate::decompress_to_vec_zlib_with_limit(
            &compressed,
            limits.max_decompressed,
        )
        .map_err(|err| match err.status {
            miniz_oxide::inflate::TINFLStatus::HasMoreOutput => {
                StatusListError::DecompressedTooLarge {
                    limit: limits.max_decompressed,
                }
            }
            _ => StatusListError::NotZlib,
        })?;
        StatusList::from_bytes(bits, bytes)
    }

    /// The JSON Status List of §4.2: `{"bits": …, "lst": …, "aggregation_uri"?: …}`.
    pub fn to_json(&self) -> Value {
        let mut object = Map::new();
        object.insert("bits".into(), Value::from(self.bits.get()));
        object.insert("lst".into(), Value::from(self.encode_lst()));
        if let Some(uri) = &self.aggregation_uri {
            object.insert("aggregation_uri".into(), Value::from(uri.clone()));
        }
        Value::Object(object)
    }

    /// Reads the JSON Status List of §4.2. Members other than `bits`, `lst` and
    /// `aggregation_uri` are ignored.
    pub fn from_json(value: &Value, limits: &DecodeLimits) -> Result<StatusList, StatusListError> {
        let object = value
            .as_object()
            .ok_or(StatusListError::Invalid("status_list"))?;
        let bits = match object.get("bits") {
            None => return Err(StatusListError::Missing("bits")),
            // A JSON integer only: `1.0` and `"1"` are refused here.
            Some(v) => v
                .as_u64()
                .ok_or(StatusListError::Invalid("bits"))
                .and_then(|b| u8::try_from(b).map_err(|_| StatusListError::UnsupportedBits))
                .and_then(StatusBits::try_from)?,
        };
        let lst = match object.get("lst") {
            None => return Err(StatusListError::Missing("lst")),
            Some(v) => v.as_str().ok_or(StatusListError::Invalid("lst"))?,
        };
        let list = StatusList::decode(bits, lst, limits)?;
        match object.get("aggregation_uri") {
            None => Ok(list),
            Some(Value::String(uri)) => list.with_aggregation_uri(uri.clone()),
            Some(_) => Err(StatusListError::Invalid("aggregation_uri")),
        }
    }
}

#[cfg(test)]
mod tests;
