//! Amounts of credits: parsed strictly, summed with checked arithmetic.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::Error;

/// The largest amount one operation may move: 10^9 credits. Far above any course price, far
/// below where sums of many operations could approach `i64::MAX`.
pub const MAX_AMOUNT: u64 = 1_000_000_000;

/// The amount of one operation (grant, top-up, cap, price, debit, refund): an integer in
/// `1 ..= MAX_AMOUNT`. Parsed, never cast: JSON `0`, `-1`, `1.5`, `1e3`, `"10"` and anything
/// above [`MAX_AMOUNT`] are refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Amount(u64);

impl Amount {
    /// `value` as an amount, if it is in `1 ..= MAX_AMOUNT`.
    pub fn new(value: u64) -> Result<Amount, Error> {
        if value == 0 {
            return Err(Error::InvalidAmount("zero"));
        }
        if value > MAX_AMOUNT {
            return Err(Error::InvalidAmount("above the per-operation maximum"));
        }
        Ok(Amount(value))
    }

    /// The amount as a JSON value must be: a number written as a plain positive integer.
    /// serde_json reads `1e3` and `1.0` as floats, and a string is not a number.
    pub fn from_json(value: &serde_json::Value) -> Result<Amount, Error> {
        match value {
            serde_json::Value::Number(n) => match n.as_u64() {
                Some(v) => Amount::new(v),
                None if n.as_i64().is_some() => Err(Error::InvalidAmount("negative")),
                None => Err(Error::InvalidAmount("not an integer")),
            },
            _ => Err(Error::InvalidAmount("not a number")),
        }
    }

    /// Parses the decimal text of an amount: digits only, no sign, no leading zero, no
    /// fraction or exponent.
    pub fn parse(text: &str) -> Result<Amount, Error> {
        let bytes = text.as_bytes();
        if bytes.is_empty() || !bytes.iter().all(u8::is_ascii_digit) {
            return Err(Error::InvalidAmount("not a plain decimal integer"));
        }
        if bytes[0] == b'0' {
            return Err(Error::InvalidAmount("zero or a leading zero"));
        }
        // More than 10 digits is above MAX_AMOUNT; refuse before parsing can overflow.
        if bytes.len() > 10 {
            return Err(Error::InvalidAmount("above the per-operation maximum"));
        }
        let value: u64 = text
            .parse()
            .map_err(|_| Error::InvalidAmount("not a plain decimal integer"))?;
        Amount::new(value)
    }

    /// The amount.
    pub fn get(self) -> u64 {
        self.0
    }

    /// The amount as the database stores it (always fits: `MAX_AMOUNT < i64::MAX`).
    pub(crate) fn as_i64(self) -> i64 {
        // MAX_AMOUNT fits in i64, so this never saturates.
        i64::try_from(self.0).unwrap_or(i64::MAX)
    }
}

impl fmt::Display for Amount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Serialize for Amount {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(self.0)
    }
}

impl<'de> Deserialize<'de> for Amount {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Amount, D::Error> {
        let value = serde_json::Value::deserialize(d)?;
        Amount::from_json(&value).map_err(serde::de::Error::custom)
    }
}

/// A count of credits that is not one operation's amount: a balance, a total, what a
/// top-up applied (possibly 0). Never negative; sums are checked.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct Credits(u64);

impl Credits {
    /// No credits.
    pub const ZERO: Credits = Credits(0);

    /// `value` credits.
    pub fn new(value: u64) -> Credits {
        Credits(value)
    }

    /// The count.
    pub fn get(self) -> u64 {
        self.0
    }

    /// `self + other`, or [`Error::LimitExceeded`].
    pub fn checked_add(self, other: Credits) -> Result<Credits, Error> {
        self.0
            .checked_add(other.0)
            .map(Credits)
            .ok_or(Error::LimitExceeded)
    }

    /// `self - other`, or [`Error::LimitExceeded`] below zero.
    pub fn checked_sub(self, other: Credits) -> Result<Credits, Error> {
        self.0
            .checked_sub(other.0)
            .map(Credits)
            .ok_or(Error::LimitExceeded)
    }

    pub(crate) fn from_db(v: i64) -> Result<Credits, Error> {
        u64::try_from(v)
            .map(Credits)
            .map_err(|_| Error::Corrupt("negative stored count"))
    }

    pub(crate) fn as_i64(self) -> Result<i64, Error> {
        i64::try_from(self.0).map_err(|_| Error::LimitExceeded)
    }
}

impl From<Amount> for Credits {
    fn from(a: Amount) -> Credits {
        Credits(a.0)
    }
}

impl fmt::Display for Credits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn json_amounts_outside_one_to_max_are_refused() {
        let refused = [
            json!(0),
            json!(-1),
            json!(1.5),
            json!(1.0),
            json!(i64::MAX),
            json!(u64::MAX),
            json!(i64::MIN),
            json!("10"),
            json!(null),
            json!(MAX_AMOUNT + 1),
        ];
        for v in refused {
            let e = Amount::from_json(&v).unwrap_err();
            assert_eq!(e.code(), "invalid_amount", "{v}");
        }
        // `1e3` as JSON text: serde_json reads it as a float, so it is refused too.
        let v: serde_json::Value = serde_json::from_str("1e3").unwrap();
        assert_eq!(Amount::from_json(&v).unwrap_err().code(), "invalid_amount");
        assert!(serde_json::from_str::<Amount>("1e3").is_err());
        assert!(serde_json::from_str::<Amount>("\"10\"").is_err());
        assert_eq!(serde_json::from_str::<Amount>("10").unwrap().get(), 10);
        assert_eq!(Amount::from_json(&json!(1)).unwrap().get(), 1);
        assert_eq!(
            Amount::from_json(&json!(MAX_AMOUNT)).unwrap().get(),
            MAX_AMOUNT
        );
    }

    #[test]
    fn decimal_text_is_digits_only() {
        for t in [
            "",
            "0",
            "-1",
            "+1",
            "1.5",
            "1e3",
            "01",
            " 1",
            "1 ",
            "1000000001",
            "9223372036854775807",
            "18446744073709551615",
            "99999999999999999999999",
        ] {
            assert_eq!(
                Amount::parse(t).unwrap_err().code(),
                "invalid_amount",
                "{t:?}"
            );
        }
        assert_eq!(Amount::parse("1000000000").unwrap().get(), MAX_AMOUNT);
        assert_eq!(Amount::parse("7").unwrap().get(), 7);
    }

    #[test]
    fn sums_are_checked() {
        assert_eq!(
            Credits::new(u64::MAX)
                .checked_add(Credits::new(1))
                .unwrap_err()
                .code(),
            "limit_exceeded"
        );
        assert!(Credits::ZERO.checked_sub(Credits::new(1)).is_err());
        assert!(Credits::new(u64::MAX).as_i64().is_err());
        assert!(Credits::from_db(-1).is_err());
    }
}
