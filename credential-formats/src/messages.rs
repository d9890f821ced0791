//! The error family shared by the OpenID4VCI and OpenID4VP message types, and the small
//! encodings both protocols lean on: `application/x-www-form-urlencoded` bodies and query
//! strings (RFC 3986 §2.1 percent-encoding), `https` URLs, and the ASCII character sets the
//! specifications put on codes and descriptions.
//!
//! No URL crate is in the tree; what the messages need from URLs is small and exactly
//! specified, so it lives here rather than pulling one in.

use thiserror::Error;

/// Why an OpenID4VCI or OpenID4VP message was refused. Variants name the parameter or rule,
/// never a value taken from the input.
#[derive(Debug, Error, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum MessageError {
    /// The input is larger than the limit for this kind of message.
    #[error("input of {len} bytes is over the limit of {limit}")]
    TooLarge {
        /// Length of the input.
        len: usize,
        /// The limit that applied.
        limit: usize,
    },
    /// A form body or query string has a malformed percent-encoding or a pair without `=`.
    #[error("malformed form or query encoding")]
    MalformedEncoding,
    /// A decoded form or query value is not UTF-8.
    #[error("form or query value is not UTF-8")]
    NotUtf8,
    /// A form or query parameter appears more than once (RFC 6749 §3.1).
    #[error("a parameter appears more than once")]
    DuplicateParameter,
    /// A required parameter or member is absent.
    #[error("missing parameter {0}")]
    MissingParameter(&'static str),
    /// A parameter or member has the wrong type or an invalid value.
    #[error("invalid value for {0}")]
    InvalidParameter(&'static str),
    /// A parameter that must be an `https` URL is not one.
    #[error("{0} is not an https URL")]
    NotHttpsUrl(&'static str),
    /// An array that must be non-empty is empty.
    #[error("{0} must not be empty")]
    EmptyArray(&'static str),
    /// An array or set that must hold unique entries repeats one.
    #[error("{0} contains a duplicate")]
    DuplicateEntry(&'static str),
    /// A URI does not use the scheme this message is sent with.
    #[error("unexpected URI scheme: expected {0}")]
    WrongScheme(&'static str),
    /// Two parameters that exclude each other are both present.
    #[error("{0} and {1} must not both be present")]
    Conflict(&'static str, &'static str),
    /// Neither of two parameters of which exactly one is required is present.
    #[error("exactly one of {0} and {1} is required")]
    OneOfRequired(&'static str, &'static str),
    /// A Transaction Code `description` is longer than 300 characters (OpenID4VCI §4.1.1).
    #[error("tx_code description longer than 300 characters")]
    TxCodeDescriptionTooLong,
    /// `batch_size` is below 2 (OpenID4VCI §12.2.4).
    #[error("batch_size must be 2 or greater")]
    BatchSizeTooSmall,
    /// A Credential Format other than `dc+sd-jwt`, which is all this profile issues.
    #[error("unsupported credential format")]
    UnsupportedFormat,
    /// Claims description objects repeat or contradict each other (OpenID4VCI §E.3).
    #[error("repeated or contradictory claims description")]
    ContradictoryClaims,
    /// `proofs` does not contain exactly one proof type (OpenID4VCI §8.2).
    #[error("proofs must contain exactly one proof type")]
    ProofTypeCount,
    /// A proof type other than `jwt`.
    #[error("unsupported proof type")]
    UnsupportedProofType,
    /// A grant type this profile does not use.
    #[error("unsupported grant type")]
    UnsupportedGrantType,
    /// An `error` code or `error_description` uses characters outside the allowed ASCII set.
    #[error("{0} contains characters outside the allowed set")]
    InvalidCharacters(&'static str),

    /// The key proof's `typ` is not `openid4vci-proof+jwt`.
    #[error("key proof typ is not openid4vci-proof+jwt")]
    WrongProofType,
    /// The key proof is signed with an algorithm this profile does not accept (ES256 only).
    #[error("key proof algorithm not accepted")]
    ProofAlgorithmNotAccepted,
    /// The key proof header names its key more than one way (`kid`, `jwk`, `x5c`).
    #[error("key proof header has more than one of kid, jwk and x5c")]
    ProofKeyConflict,
    /// The key proof header names its key by `kid` (a DID URL) or `x5c`; this profile binds
    /// credentials to a `jwk` only.
    #[error("key proof key must be given as jwk")]
    ProofKeyNotJwk,
    /// The key proof header carries no key at all.
    #[error("key proof header has no key")]
    MissingProofKey,
    /// The key proof carries no `nonce` although the Credential Issuer has a Nonce Endpoint.
    #[error("key proof has no nonce")]
    MissingNonce,
    /// The key proof's `aud` is not the Credential Issuer Identifier.
    #[error("key proof aud is not this credential issuer")]
    WrongAudience,
    /// `iat` lies further in the future than the allowed clock skew.
    #[error("issued in the future")]
    IssuedInFuture,
    /// `iat` is older than the allowed proof age.
    #[error("key proof too old")]
    ProofTooOld,
    /// A key proof claim (`aud`, `iat`, `nonce`, `iss`) is missing or has the wrong type.
    #[error("key proof claim {0} is missing or invalid")]
    InvalidProofClaim(&'static str),
    /// The key proof's `nonce` is not a `c_nonce` the Credential Issuer handed out, or it has
    /// expired or been used (OpenID4VCI §7.2, §8.3.1.2 `invalid_nonce`).
    #[error("key proof nonce is not a valid c_nonce")]
    InvalidNonce,
    /// The Pre-Authorized Code is unknown, expired or used, or the Transaction Code is wrong
    /// (OpenID4VCI §6.3 `invalid_grant`).
    #[error("invalid grant")]
    InvalidGrant,

    /// The `client_id` uses the reserved `origin:` prefix (OpenID4VP §5.9.3).
    #[error("the origin client identifier prefix is not accepted in requests")]
    OriginPrefixNotAllowed,
    /// The `client_id` uses a prefix this Wallet does not know.
    #[error("unsupported client identifier prefix")]
    UnsupportedClientIdPrefix,
    /// The `client_id` does not belong to the key or certificate that signed the request, or
    /// differs between the URI and the Request Object.
    #[error("client_id does not match")]
    ClientIdMismatch,
    /// `response_type` is not `vp_token`.
    #[error("unsupported response_type")]
    UnsupportedResponseType,
    /// `response_mode` is not `direct_post` or `direct_post.jwt`.
    #[error("unsupported response_mode")]
    UnsupportedResponseMode,
    /// The request asks for presentations by `scope`; this profile requires `dcql_query`.
    #[error("scope requests are not supported; dcql_query is required")]
    ScopeNotSupported,
    /// `direct_post.jwt` without an encryption key in `client_metadata.jwks`.
    #[error("no encryption key for direct_post.jwt")]
    MissingEncryptionKey,
    /// The Request Object's `aud` is not `https://self-issued.me/v2` (static discovery).
    #[error("request object aud is not https://self-issued.me/v2")]
    WrongRequestAudience,
    /// The Request Object has expired.
    #[error("request object expired")]
    Expired,
    /// The Request Object has no `x5c` header although its client identifier requires one.
    #[error("request object has no x5c header")]
    MissingCertificateChain,
    /// The Request Object's `client_id` does not use the `x509_hash` prefix, the only one this
    /// profile accepts for signed requests (HAIP 1.0).
    #[error("client_id prefix is not x509_hash")]
    WrongClientIdPrefix,
    /// The `x509_hash` in `client_id` is not the hash of the leaf certificate in `x5c`.
    #[error("client_id x509_hash does not match the leaf certificate")]
    X509HashMismatch,
    /// The certificate that signed the Request Object is expired or not yet valid.
    #[error("request signing certificate outside its validity period")]
    CertificateNotValid,
    /// `wallet_nonce` is missing from, or differs in, the Request Object (OpenID4VP §5.10).
    #[error("wallet_nonce does not match")]
    WalletNonceMismatch,
    /// `request_uri_method` is neither `get` nor `post`.
    #[error("invalid request_uri_method")]
    InvalidRequestUriMethod,
    /// A `transaction_data` or `verifier_info` entry names a credential query the DCQL query
    /// does not contain.
    #[error("credential_ids names an unknown credential query")]
    UnknownCredentialQuery,
    /// A `transaction_data` hash algorithm other than `sha-256`.
    #[error("unsupported transaction data hash algorithm")]
    UnsupportedHashAlgorithm,
    /// `transaction_data_hashes` do not match the request's `transaction_data`.
    #[error("transaction_data_hashes do not match")]
    TransactionDataHashMismatch,
    /// A presentation in a `vp_token` is not a string (only SD-JWT VC presentations are used).
    #[error("presentation is not a string")]
    UnsupportedPresentation,
}

/// The endpoint that refuses a message. The same broken rule is reported with a different
/// `error` code at each: RFC 6749 §5.2 and OpenID4VCI 1.0 §6.3 at the Token Endpoint,
/// OpenID4VCI 1.0 §8.3.1.2 at the Credential Endpoint, OpenID4VP 1.0 §8.5 in the Wallet's
/// Authorization Error Response, and RFC 6749 §5.2 style `invalid_request` at the Verifier's
/// Response Endpoint (OpenID4VP 1.0 §8.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Endpoint {
    /// The OpenID4VCI Token Endpoint (Credential Issuer's Authorization Server).
    Token,
    /// The OpenID4VCI Credential Endpoint.
    Credential,
    /// The Wallet, refusing an OpenID4VP Authorization Request (Request Object, DCQL query,
    /// `transaction_data`, Verifier trust).
    Authorization,
    /// The Verifier's Response Endpoint (`response_uri`), refusing an Authorization Response.
    Response,
}

impl MessageError {
    /// The `error` code `endpoint` returns for this refusal: one mapping, so that the
    /// services do not each reinvent it.
    ///
    /// - Token Endpoint: `unsupported_grant_type`, `invalid_grant`, otherwise
    ///   `invalid_request` (a missing or unexpected `tx_code` included, OpenID4VCI §6.3).
    /// - Credential Endpoint: `invalid_proof` for every key proof rule (missing or malformed
    ///   `proofs` included), `invalid_nonce` for a `c_nonce` that is not valid, otherwise
    ///   `invalid_credential_request`.
    /// - Authorization (Wallet): `invalid_request_uri_method`, `invalid_transaction_data` for
    ///   every `transaction_data` rule, `invalid_scope`, `unsupported_response_type`,
    ///   `vp_formats_not_supported`, otherwise `invalid_request` (client identifier prefix and
    ///   mismatch included, as §8.5 says).
    /// - Response Endpoint: `invalid_request`.
    pub fn error_code(&self, endpoint: Endpoint) -> &'static str {
        use MessageError as E;
        match endpoint {
            Endpoint::Token => match self {
                E::UnsupportedGrantType => "unsupported_grant_type",
                E::InvalidGrant => "invalid_grant",
                _ => "invalid_request",
            },
            Endpoint::Credential => match self {
                E::InvalidNonce => "invalid_nonce",
                E::WrongProofType
                | E::ProofAlgorithmNotAccepted
                | E::ProofKeyConflict
                | E::ProofKeyNotJwk
                | E::MissingProofKey
                | E::MissingNonce
                | E::WrongAudience
                | E::IssuedInFuture
                | E::ProofTooOld
                | E::InvalidProofClaim(_)
                | E::ProofTypeCount
                | E::UnsupportedProofType => "invalid_proof",
                E::MissingParameter(name) | E::InvalidParameter(name)
                    if name.starts_with("proof") =>
                {
                    "invalid_proof"
                }
                _ => "invalid_credential_request",
            },
            Endpoint::Authorization => match self {
                E::InvalidRequestUriMethod => "invalid_request_uri_method",
                E::UnknownCredentialQuery
                | E::UnsupportedHashAlgorithm
                | E::TransactionDataHashMismatch => "invalid_transaction_data",
                E::MissingParameter(name)
                | E::InvalidParameter(name)
                | E::EmptyArray(name)
                | E::DuplicateEntry(name)
                    if name.starts_with("transaction_data") =>
                {
                    "invalid_transaction_data"
                }
                E::ScopeNotSupported => "invalid_scope",
                E::UnsupportedResponseType => "unsupported_response_type",
                E::UnsupportedFormat => "vp_formats_not_supported",
                _ => "invalid_request",
            },
            Endpoint::Response => "invalid_request",
        }
    }
}

impl crate::Error {
    /// The `error` code `endpoint` returns for this refusal (see
    /// [`MessageError::error_code`] for the protocol messages themselves). JOSE failures at
    /// the Credential Endpoint can only come from key proofs and are `invalid_proof`; an
    /// untrusted Verifier is refused by the Wallet with `access_denied`; everything else that
    /// is malformed is the endpoint's generic code (`invalid_request`, or
    /// `invalid_credential_request` at the Credential Endpoint).
    pub fn error_code(&self, endpoint: Endpoint) -> &'static str {
        use crate::Error as E;
        match (self, endpoint) {
            (E::Message(e), _) => e.error_code(endpoint),
            (E::Jose(_), Endpoint::Credential) => "invalid_proof",
            (E::TrustList(_), Endpoint::Authorization) => "access_denied",
            (_, Endpoint::Credential) => "invalid_credential_request",
            _ => "invalid_request",
        }
    }
}

/// Size limit for one form body or query string (256 KiB: room for a `vp_token` with a few
/// presentations, far below what would hurt a service).
pub(crate) const MAX_FORM_LEN: usize = 256 * 1024;

/// Size limit for the JSON messages (metadata, offers, requests, responses).
pub(crate) const MAX_JSON_LEN: usize = 256 * 1024;

/// The decoded name/value pairs of a form body or query string, in order, names unique.
#[derive(Debug)]
pub(crate) struct FormParams(Vec<(String, String)>);

impl FormParams {
    /// Decodes `application/x-www-form-urlencoded` text (also used for URI query strings):
    /// `&`-separated `name=value` pairs, `+` meaning space, `%XX` escapes, UTF-8 after
    /// decoding. Empty pairs (`a=1&&b=2`) are skipped as the WHATWG form parser does; a pair
    /// without `=` and a repeated name are refused.
    pub(crate) fn parse(text: &str) -> Result<FormParams, MessageError> {
        if text.len() > MAX_FORM_LEN {
            return Err(MessageError::TooLarge {
                len: text.len(),
                limit: MAX_FORM_LEN,
            });
        }
        let mut pairs: Vec<(String, String)> = Vec::new();
        for pair in text.split('&').filter(|p| !p.is_empty()) {
            let (name, value) = pair
                .split_once('=')
                .ok_or(MessageError::MalformedEncoding)?;
            let name = percent_decode(name)?;
            let value = percent_decode(value)?;
            if pairs.iter().any(|(n, _)| *n == name) {
                return Err(MessageError::DuplicateParameter);
            }
            pairs.push((name, value));
        }
        Ok(FormParams(pairs))
    }

    /// Removes and returns the value of `name`.
    pub(crate) fn take(&mut self, name: &str) -> Option<String> {
        let at = self.0.iter().position(|(n, _)| n == name)?;
        Some(self.0.remove(at).1)
    }

    /// Whether `name` is present.
    pub(crate) fn contains(&self, name: &str) -> bool {
        self.0.iter().any(|(n, _)| n == name)
    }
}

/// Builds a form body or query string from pairs, percent-encoding everything but the RFC 3986
/// unreserved characters, so the result is valid both as a query and as a form body.
pub(crate) fn form_encode<'a>(pairs: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
    let mut out = String::new();
    for (name, value) in pairs {
        if !out.is_empty() {
            out.push('&');
        }
        percent_encode_into(name, &mut out);
        out.push('=');
        percent_encode_into(value, &mut out);
    }
    out
}

fn percent_encode_into(text: &str, out: &mut String) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
}

fn percent_decode(text: &str) -> Result<String, MessageError> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(byte) = bytes.next() {
        match byte {
            b'+' => out.push(b' '),
            b'%' => {
                let high = bytes.next().and_then(hex_value);
                let low = bytes.next().and_then(hex_value);
                match (high, low) {
                    (Some(high), Some(low)) => out.push(high << 4 | low),
                    _ => return Err(MessageError::MalformedEncoding),
                }
            }
            other => out.push(other),
        }
    }
    String::from_utf8(out).map_err(|_| MessageError::NotUtf8)
}

fn hex_value(byte: u8) -> Option<u8> {
    match byte {
        b'0'..=b'9' => Some(byte - b'0'),
        b'a'..=b'f' => Some(byte - b'a' + 10),
        b'A'..=b'F' => Some(byte - b'A' + 10),
        _ => None,
    }
}

/// Splits a URI into its scheme (lower-cased, without `:`) and its query (without `?`, and
/// without any fragment). The part between them is the receiving endpoint and is not ours to
/// judge.
pub(crate) fn split_uri(uri: &str) -> Result<(String, &str), MessageError> {
    if uri.len() > MAX_FORM_LEN {
        return Err(MessageError::TooLarge {
            len: uri.len(),
            limit: MAX_FORM_LEN,
        });
    }
    let (scheme, _) = uri
        .split_once(':')
        .ok_or(MessageError::InvalidParameter("URI"))?;
    let scheme_ok = scheme.bytes().enumerate().all(|(i, b)| {
        b.is_ascii_alphabetic()
            || (i > 0 && (b.is_ascii_digit() || matches!(b, b'+' | b'-' | b'.')))
    });
    if scheme.is_empty() || !scheme_ok {
        return Err(MessageError::InvalidParameter("URI"));
    }
    let query = match uri.split_once('?') {
        Some((_, rest)) => rest.split('#').next().unwrap_or_default(),
        None => "",
    };
    Ok((scheme.to_ascii_lowercase(), query))
}

/// Which parts an `https` URL may have beyond scheme and host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum UrlKind {
    /// An identifier (Credential Issuer Identifier, OAuth issuer): no query, no fragment.
    Identifier,
    /// An endpoint: query allowed, no fragment.
    Endpoint,
}

/// Checks that `url` is an absolute `https` URL with a host, no user information, no white
/// space or control characters, and (by `kind`) no query or fragment. The scheme is compared
/// exactly as the specifications compare identifiers: as a case-sensitive string.
pub(crate) fn check_https_url(
    url: &str,
    kind: UrlKind,
    field: &'static str,
) -> Result<(), MessageError> {
    let invalid = MessageError::NotHttpsUrl(field);
    let rest = url.strip_prefix("https://").ok_or(invalid.clone())?;
    if url.len() > 8 * 1024
        || url
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || c == '\\')
    {
        return Err(invalid);
    }
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = rest.get(..authority_end).unwrap_or_default();
    if authority.is_empty() || authority.contains('@') || authority.starts_with(':') {
        return Err(invalid);
    }
    if url.contains('#') || (kind == UrlKind::Identifier && url.contains('?')) {
        return Err(invalid);
    }
    Ok(())
}

/// The `error` and `error_description` character set of RFC 6749 §5.2 and OpenID4VCI §8.3.1.2:
/// `%x20-21 / %x23-5B / %x5D-7E` (printable ASCII without `"` and `\`).
pub(crate) fn check_error_chars(text: &str, field: &'static str) -> Result<(), MessageError> {
    let ok = text
        .bytes()
        .all(|b| matches!(b, 0x20..=0x21 | 0x23..=0x5b | 0x5d..=0x7e));
    if ok {
        Ok(())
    } else {
        Err(MessageError::InvalidCharacters(field))
    }
}

/// The "ASCII URL safe characters" OpenID4VP §5.2 requires of `nonce` and `state`: letters,
/// digits, `-`, `.`, `_`, `~`; and never empty.
pub(crate) fn check_url_safe(text: &str, field: &'static str) -> Result<(), MessageError> {
    let ok = !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    if ok {
        Ok(())
    } else {
        Err(MessageError::InvalidCharacters(field))
    }
}

/// Refuses an empty array or one with a repeated entry.
pub(crate) fn check_unique_non_empty<T: PartialEq>(
    items: &[T],
    field: &'static str,
) -> Result<(), MessageError> {
    check_non_empty(items, field)?;
    for (i, item) in items.iter().enumerate() {
        if items.iter().skip(i + 1).any(|other| other == item) {
            return Err(MessageError::DuplicateEntry(field));
        }
    }
    Ok(())
}

/// Refuses an empty array.
pub(crate) fn check_non_empty<T>(items: &[T], field: &'static str) -> Result<(), MessageError> {
    if items.is_empty() {
        Err(MessageError::EmptyArray(field))
    } else {
        Ok(())
    }
}

/// Refuses an empty string.
pub(crate) fn check_non_empty_str(text: &str, field: &'static str) -> Result<(), MessageError> {
    if text.is_empty() {
        Err(MessageError::InvalidParameter(field))
    } else {
        Ok(())
    }
}

/// Parses strict JSON (size, depth, duplicate names) into a raw serde type; the caller then
/// validates it into the public type, so each rule keeps its own [`MessageError`] variant.
pub(crate) fn parse_json<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> crate::Result<T> {
    if bytes.len() > MAX_JSON_LEN {
        return Err(MessageError::TooLarge {
            len: bytes.len(),
            limit: MAX_JSON_LEN,
        }
        .into());
    }
    Ok(crate::json::parse_as(bytes, MAX_JSON_LEN)?)
}

/// Serialises a message; our own types always serialise, so a failure yields `{}` rather than
/// a panic.
pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).unwrap_or_else(|_| "{}".to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rfc3986_2_1_percent_encoding_round_trips() {
        let text = "a b&c=d/é%+~";
        let encoded = form_encode([("k y", text)]);
        assert_eq!(encoded, "k%20y=a%20b%26c%3Dd%2F%C3%A9%25%2B~");
        let mut params = FormParams::parse(&encoded).unwrap();
        assert_eq!(params.take("k y").as_deref(), Some(text));
    }

    #[test]
    fn form_decoding_is_strict() {
        assert_eq!(
            FormParams::parse("a=%4").unwrap_err(),
            MessageError::MalformedEncoding
        );
        assert_eq!(
            FormParams::parse("a=%zz").unwrap_err(),
            MessageError::MalformedEncoding
        );
        assert_eq!(
            FormParams::parse("a").unwrap_err(),
            MessageError::MalformedEncoding
        );
        assert_eq!(
            FormParams::parse("a=%ff").unwrap_err(),
            MessageError::NotUtf8
        );
        assert_eq!(
            FormParams::parse("a=1&b=2&a=3").unwrap_err(),
            MessageError::DuplicateParameter
        );
        let big = "a=".to_owned() + &"x".repeat(MAX_FORM_LEN);
        assert!(matches!(
            FormParams::parse(&big).unwrap_err(),
            MessageError::TooLarge { .. }
        ));
        let mut ok = FormParams::parse("a=1+2&&b=").unwrap();
        assert_eq!(ok.take("a").as_deref(), Some("1 2"));
        assert_eq!(ok.take("b").as_deref(), Some(""));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
        #[test]
        fn rfc3986_2_1_any_text_round_trips(name in "\\PC{1,20}", value in "\\PC{0,40}") {
            let encoded = form_encode([(name.as_str(), value.as_str())]);
            let mut params = FormParams::parse(&encoded).unwrap();
            proptest::prop_assert_eq!(params.take(&name), Some(value));
        }

        #[test]
        fn form_parsing_never_panics(text in "[a-z=&%+0-9A-F]{0,60}") {
            let _ = FormParams::parse(&text);
        }
    }

    #[test]
    fn https_urls_are_checked() {
        let id = UrlKind::Identifier;
        assert!(check_https_url("https://issuer.example.com", id, "x").is_ok());
        assert!(check_https_url("https://issuer.example.com:8443/tenant", id, "x").is_ok());
        for bad in [
            "http://issuer.example.com",
            "https://",
            "https:///path",
            "https://user@issuer.example.com",
            "https://issuer.example.com/a b",
            "https://issuer.example.com/?q=1",
            "https://issuer.example.com/#f",
            "HTTPS://issuer.example.com",
        ] {
            assert!(check_https_url(bad, id, "x").is_err(), "{bad}");
        }
        assert!(check_https_url("https://e.com/p?q=1", UrlKind::Endpoint, "x").is_ok());
    }

    #[test]
    fn openid4vci_8_3_1_2_openid4vp_8_5_error_codes() {
        use Endpoint::{Authorization, Credential, Response, Token};
        let cases: &[(MessageError, Endpoint, &str)] = &[
            (
                MessageError::UnsupportedGrantType,
                Token,
                "unsupported_grant_type",
            ),
            (MessageError::InvalidGrant, Token, "invalid_grant"),
            (
                MessageError::MissingParameter("tx_code"),
                Token,
                "invalid_request",
            ),
            (MessageError::DuplicateParameter, Token, "invalid_request"),
            (MessageError::InvalidNonce, Credential, "invalid_nonce"),
            (MessageError::MissingNonce, Credential, "invalid_proof"),
            (MessageError::WrongProofType, Credential, "invalid_proof"),
            (MessageError::WrongAudience, Credential, "invalid_proof"),
            (MessageError::ProofTooOld, Credential, "invalid_proof"),
            (MessageError::IssuedInFuture, Credential, "invalid_proof"),
            (
                MessageError::InvalidProofClaim("iat"),
                Credential,
                "invalid_proof",
            ),
            (MessageError::ProofTypeCount, Credential, "invalid_proof"),
            (
                MessageError::InvalidParameter("proofs.jwt"),
                Credential,
                "invalid_proof",
            ),
            (
                MessageError::OneOfRequired("credential_identifier", "credential_configuration_id"),
                Credential,
                "invalid_credential_request",
            ),
            (
                MessageError::InvalidRequestUriMethod,
                Authorization,
                "invalid_request_uri_method",
            ),
            (
                MessageError::UnknownCredentialQuery,
                Authorization,
                "invalid_transaction_data",
            ),
            (
                MessageError::UnsupportedHashAlgorithm,
                Authorization,
                "invalid_transaction_data",
            ),
            (
                MessageError::MissingParameter("transaction_data.type"),
                Authorization,
                "invalid_transaction_data",
            ),
            (
                MessageError::ScopeNotSupported,
                Authorization,
                "invalid_scope",
            ),
            (
                MessageError::UnsupportedClientIdPrefix,
                Authorization,
                "invalid_request",
            ),
            (
                MessageError::X509HashMismatch,
                Authorization,
                "invalid_request",
            ),
            (
                MessageError::WrongClientIdPrefix,
                Authorization,
                "invalid_request",
            ),
            (
                MessageError::CertificateNotValid,
                Authorization,
                "invalid_request",
            ),
            (
                MessageError::UnsupportedResponseType,
                Authorization,
                "unsupported_response_type",
            ),
            (
                MessageError::TransactionDataHashMismatch,
                Response,
                "invalid_request",
            ),
        ];
        for (error, endpoint, code) in cases {
            assert_eq!(
                error.error_code(*endpoint),
                *code,
                "{error:?} at {endpoint:?}"
            );
            let wrapped = crate::Error::from(error.clone());
            assert_eq!(wrapped.error_code(*endpoint), *code);
        }
        let jose = crate::Error::from(crate::JoseError::InvalidSignature);
        assert_eq!(jose.error_code(Credential), "invalid_proof");
        assert_eq!(jose.error_code(Authorization), "invalid_request");
        let json = crate::Error::from(crate::JsonError::DuplicateMember);
        assert_eq!(json.error_code(Credential), "invalid_credential_request");
        assert_eq!(json.error_code(Token), "invalid_request");
        let untrusted = crate::Error::from(crate::TrustListError::UnknownEntity);
        assert_eq!(untrusted.error_code(Authorization), "access_denied");
    }

    #[test]
    fn rfc6749_5_2_error_characters() {
        assert!(check_error_chars("invalid_request", "error").is_ok());
        assert!(check_error_chars("say \"hi\"", "error").is_err());
        assert!(check_error_chars("back\\slash", "error").is_err());
        assert!(check_error_chars("é", "error").is_err());
    }
}
