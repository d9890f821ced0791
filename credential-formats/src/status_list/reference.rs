//! The `status` claim of a Referenced Token (§6.1, §6.2).

use super::StatusListError;
use serde_json::{Map, Value};

/// Longest `uri` we accept: a status list URL is short; this bounds what a token can make a
/// verifier fetch or store.
const MAX_URI_LEN: usize = 2048;

/// Which URI schemes a `uri` may use.
///
/// The `uri` of a Referenced Token is what a verifier will fetch, so it is attacker-chosen
/// input to an HTTP client. Production code accepts `https` only; tests and local
/// walk-throughs that serve status lists on loopback opt in to plain `http` to `127.0.0.1`,
/// `[::1]` or `localhost` explicitly. Neither policy replaces the fetcher's own SSRF rules
/// (resolved addresses, redirects), which live where the HTTP client does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum UriPolicy {
    /// `https://` only.
    #[default]
    HttpsOnly,
    /// `https://`, or `http://` to a loopback host (tests only).
    AllowLoopbackHttp,
}

/// A reference to an entry in a Status List Token: the `status_list` member of the `status`
/// claim, `{"idx": N, "uri": "https://…"}` (§6.2).
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct StatusReference {
    idx: u64,
    uri: String,
}

impl std::fmt::Debug for StatusReference {
    // `idx` is unique to one credential, a correlation handle: never in logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StatusReference").finish_non_exhaustive()
    }
}

impl StatusReference {
    /// A reference to index `idx` of the list at `uri` (https only).
    pub fn new(idx: u64, uri: impl Into<String>) -> Result<StatusReference, StatusListError> {
        StatusReference::new_with(idx, uri, UriPolicy::HttpsOnly)
    }

    /// Like [`StatusReference::new`], under an explicit [`UriPolicy`].
    pub fn new_with(
        idx: u64,
        uri: impl Into<String>,
        policy: UriPolicy,
    ) -> Result<StatusReference, StatusListError> {
        let uri = uri.into();
        check_uri(&uri, policy, "status_list uri")?;
        Ok(StatusReference { idx, uri })
    }

    /// `idx`: the index in the Status List.
    pub fn idx(&self) -> u64 {
        self.idx
    }

    /// `uri`: the Status List Token's URI, which must equal its `sub`.
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// Reads the value of a Referenced Token's `status` claim (https only).
    pub fn from_status_claim(status: &Value) -> Result<StatusReference, StatusListError> {
        StatusReference::from_status_claim_with(status, UriPolicy::HttpsOnly)
    }

    /// Reads the value of a `status` claim under an explicit [`UriPolicy`]. Other status
    /// mechanisms next to `status_list`, and members of `status_list` other than `idx` and
    /// `uri`, are ignored (§6.1 allows both).
    pub fn from_status_claim_with(
        status: &Value,
        policy: UriPolicy,
    ) -> Result<StatusReference, StatusListError> {
        let status = status
            .as_object()
            .ok_or(StatusListError::Invalid("status"))?;
        let list = status
            .get("status_list")
            .ok_or(StatusListError::Missing("status_list"))?
            .as_object()
            .ok_or(StatusListError::Invalid("status_list"))?;
        // A non-negative JSON integer only: not a string, not a float, not negative.
        let idx = list
            .get("idx")
            .ok_or(StatusListError::Missing("idx"))?
            .as_u64()
            .ok_or(StatusListError::Invalid("idx"))?;
        let uri = list
            .get("uri")
            .ok_or(StatusListError::Missing("uri"))?
            .as_str()
            .ok_or(StatusListError::Invalid("uri"))?;
        StatusReference::new_with(idx, uri, policy)
    }

    /// The `status` claim value: `{"status_list": {"idx": …, "uri": …}}`.
    pub fn to_status_claim(&self) -> Value {
        let mut list = Map::new();
        list.insert("idx".into(), Value::from(self.idx));
        list.insert("uri".into(), Value::from(self.uri.clone()));
        let mut status = Map::new();
        status.insert("status_list".into(), Value::Object(list));
        Value::Object(status)
    }
}

/// Checks that `uri` is an absolute `https` URI with a host and nothing that makes one URL
/// look like another: no user information, no white space or control characters, no
/// fragment.
pub(super) fn check_uri(
    uri: &str,
    policy: UriPolicy,
    what: &'static str,
) -> Result<(), StatusListError> {
    let insecure = StatusListError::InsecureUri(what);
    if uri.len() > MAX_URI_LEN
        || uri
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || matches!(c, '#' | '\\'))
    {
        return Err(insecure);
    }
    let (rest, https) = if let Some(rest) = uri.strip_prefix("https://") {
        (rest, true)
    } else if let Some(rest) = uri.strip_prefix("http://") {
        (rest, false)
    } else {
        return Err(insecure);
    };
    let authority = rest.split(['/', '?']).next().unwrap_or_default();
    if authority.is_empty() || authority.contains('@') {
        return Err(insecure);
    }
    let host = match authority.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or_default(),
        None => authority.split(':').next().unwrap_or_default(),
    };
    if host.is_empty() {
        return Err(insecure);
    }
    if https {
        return Ok(());
    }
    let loopback = host.eq_ignore_ascii_case("localhost")
        || host == "::1"
        || host
            .parse::<std::net::Ipv4Addr>()
            .is_ok_and(|ip| ip.is_loopback());
    if policy == UriPolicy::AllowLoopbackHttp && loopback {
        Ok(())
    } else {
        Err(insecure)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn status_list_14_6_2_example_referenced_token() {
        let text = include_str!("../../../spec/vectors/status-list-14-6.2-referenced-token.txt");
        let payload = text.split("\n.\n").nth(1).unwrap();
        let claims: Value = serde_json::from_str(payload).unwrap();
        let reference = StatusReference::from_status_claim(&claims["status"]).unwrap();
        assert_eq!(reference.idx(), 0);
        assert_eq!(reference.uri(), "https://example.com/statuslists/1");
        assert_eq!(reference.to_status_claim(), claims["status"]);
    }

    #[test]
    fn status_list_14_6_2_idx_must_be_a_non_negative_integer() {
        for idx in [json!(-1), json!(1.5), json!("3"), json!(null), json!(1e3)] {
            let claim = json!({"status_list": {"idx": idx, "uri": "https://e.example/1"}});
            assert_eq!(
                StatusReference::from_status_claim(&claim),
                Err(StatusListError::Invalid("idx")),
                "{idx}"
            );
        }
        let claim = json!({"status_list": {"uri": "https://e.example/1"}});
        assert_eq!(
            StatusReference::from_status_claim(&claim),
            Err(StatusListError::Missing("idx"))
        );
    }

    #[test]
    fn status_list_14_6_2_uri_must_be_a_string_and_https() {
        let claim = json!({"status_list": {"idx": 1, "uri": 7}});
        assert_eq!(
            StatusReference::from_status_claim(&claim),
            Err(StatusListError::Invalid("uri"))
        );
        for uri in [
            "http://example.com/1",
            "ftp://example.com/1",
            "https://",
            "https://:443/1",
            "https://user@example.com/1",
            "https://example.com/1#frag",
            "https://exa mple.com/1",
            "//example.com/1",
            "http://127.0.0.1:8080/1",
        ] {
            let claim = json!({"status_list": {"idx": 1, "uri": uri}});
            assert!(
                matches!(
                    StatusReference::from_status_claim(&claim),
                    Err(StatusListError::InsecureUri(_))
                ),
                "{uri}"
            );
        }
    }

    #[test]
    fn debug_output_hides_the_index() {
        let reference = StatusReference::new(123_456_789, "https://e.example/1").unwrap();
        assert!(!format!("{reference:?}").contains("123456789"));
    }

    #[test]
    fn loopback_http_only_when_the_caller_opts_in() {
        for uri in [
            "http://127.0.0.1:8080/statuslists/1",
            "http://localhost/1",
            "http://[::1]:3000/1",
        ] {
            assert!(StatusReference::new_with(1, uri, UriPolicy::AllowLoopbackHttp).is_ok());
            assert!(StatusReference::new(1, uri).is_err());
        }
        for uri in [
            "http://10.0.0.1/1",
            "http://example.com/1",
            "http://127.0.0.1@evil/1",
        ] {
            assert!(StatusReference::new_with(1, uri, UriPolicy::AllowLoopbackHttp).is_err());
        }
    }

    #[test]
    fn status_claim_must_hold_a_status_list_object() {
        assert_eq!(
            StatusReference::from_status_claim(&json!({"other": {}})),
            Err(StatusListError::Missing("status_list"))
        );
        assert_eq!(
            StatusReference::from_status_claim(&json!([])),
            Err(StatusListError::Invalid("status"))
        );
        // Other mechanisms and extra members are allowed (§6.1).
        let claim = json!({"status_list": {"idx": 9, "uri": "https://e.example/1", "x": 1},
                           "other_mechanism": {}});
        assert_eq!(StatusReference::from_status_claim(&claim).unwrap().idx(), 9);
    }
}
