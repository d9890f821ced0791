//! The wallet receiving credentials from the real issuer, over TLS on loopback.
#![allow(clippy::unwrap_used, clippy::expect_used, unreachable_pub)]

use std::sync::Arc;

use credential_formats::time::SystemClock;
use issuer::LocalIssuer;
use tempfile::TempDir;
use wallet_core::{DefaultTransport, Error, Wallet, WalletConfig};
use zeroize::Zeroizing;

mod backpack;
mod credits;
mod notices;

struct Stack {
    local: LocalIssuer,
    dir: TempDir,
}

impl std::ops::Deref for Stack {
    type Target = LocalIssuer;
    fn deref(&self) -> &LocalIssuer {
        &self.local
    }
}

impl Stack {
    async fn start() -> Stack {
        let dir = tempfile::tempdir().unwrap();
        let local = LocalIssuer::start(dir.path()).await.unwrap();
        Stack { local, dir }
    }

    fn wallet(&self, name: &str) -> Wallet {
        let anchor = issuer::trust::public_jwk_from_file(&self.anchor).unwrap();
        Wallet::open(
            &self.dir.path().join(name),
            Zeroizing::new([7u8; 32]),
            None,
            Arc::new(DefaultTransport::trusting_only(self.ca_pem.as_bytes()).unwrap()),
            WalletConfig::new(self.trust_list_url.clone(), anchor),
            Arc::new(SystemClock),
        )
        .unwrap()
    }

    async fn offer(&self, configurations: &[&str]) -> (String, String) {
        self.local
            .offer_to_demo_citizen(configurations)
            .await
            .unwrap()
    }
}

#[tokio::test]
async fn a_wallet_receives_a_pid_and_a_batch_of_attestations_and_keeps_them_together() {
    let stack = Stack::start().await;
    let wallet = stack.wallet("wallet.db");
    let (uri, tx_code) = stack
        .offer(&["pid_sd_jwt", "person_attestation_sd_jwt"])
        .await;
    let session = wallet.receive_offer(&uri).await.unwrap();
    let summary = session.summary().clone();
    assert_eq!(summary.issuer_name, "State issuer (development)");
    assert_eq!(summary.credentials.len(), 2);
    assert_eq!(summary.credentials[1].1[0], "Person attestation");
    assert_eq!(summary.tx_code.as_ref().unwrap().0, Some(6));
    let ids = session.accept(Some(&tx_code)).await.unwrap();
    assert_eq!(ids.len(), 1 + 10);

    let stored = wallet.credentials().unwrap();
    assert_eq!(stored.len(), 11);
    let attestations: Vec<_> = stored
        .iter()
        .filter(|c| c.vct == "urn:be:identity:person-attestation:1")
        .collect();
    assert_eq!(attestations.len(), 10);
    let batch = &attestations[0].batch_id;
    assert!(
        attestations
            .iter()
            .all(|c| &c.batch_id == batch && c.single_use && !c.used)
    );
    assert_eq!(wallet.unused_copies(batch).unwrap(), 10);
    // Each copy has its own holder key.
    let aliases: std::collections::BTreeSet<_> =
        attestations.iter().map(|c| &c.key_alias).collect();
    assert_eq!(aliases.len(), 10);
    assert_eq!(attestations[0].claims["age_over_18"], true);
    let pid = stored.iter().find(|c| c.vct == "urn:eudi:pid:1").unwrap();
    assert_eq!(pid.claims["family_name"], "Peeters");

    let log = wallet.log().unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].1["kind"], "issuance");
    assert_eq!(log[0].1["count"], 11);
    // The log names types, never claim values.
    assert!(!log[0].1.to_string().contains("Peeters"));
}

#[tokio::test]
async fn a_wrong_tx_code_stores_nothing_and_the_right_one_still_works() {
    let stack = Stack::start().await;
    let wallet = stack.wallet("wallet.db");
    let (uri, tx_code) = stack.offer(&["person_attestation_sd_jwt"]).await;
    let wrong = if tx_code == "000000" {
        "111111"
    } else {
        "000000"
    };
    let err = wallet
        .receive_offer(&uri)
        .await
        .unwrap()
        .accept(Some(wrong))
        .await
        .unwrap_err();
    assert_eq!(err, Error::Refused("invalid_grant".into()));
    assert!(wallet.credentials().unwrap().is_empty());
    let ids = wallet
        .receive_offer(&uri)
        .await
        .unwrap()
        .accept(Some(&tx_code))
        .await
        .unwrap();
    assert_eq!(ids.len(), 10);
}

#[tokio::test]
async fn a_wallet_anchored_elsewhere_trusts_neither_the_list_nor_the_issuer() {
    let stack = Stack::start().await;
    let other = credential_formats::crypto::SecretKey::generate(
        credential_formats::crypto::SignatureAlgorithm::Es256,
    )
    .unwrap();
    let wallet = Wallet::open(
        &stack.dir.path().join("other.db"),
        Zeroizing::new([9u8; 32]),
        None,
        Arc::new(DefaultTransport::trusting_only(stack.ca_pem.as_bytes()).unwrap()),
        WalletConfig::new(
            stack.trust_list_url.clone(),
            credential_formats::jose::Jwk::new(other.public_key()),
        ),
        Arc::new(SystemClock),
    )
    .unwrap();
    let (uri, _) = stack.offer(&["pid_sd_jwt"]).await;
    let err = wallet.receive_offer(&uri).await.unwrap_err();
    assert!(matches!(err, Error::Untrusted(_)), "{err:?}");
}

#[tokio::test]
async fn a_server_whose_certificate_is_not_trusted_is_not_talked_to() {
    let stack = Stack::start().await;
    let anchor = issuer::trust::public_jwk_from_file(&stack.anchor).unwrap();
    let wallet = Wallet::open(
        &stack.dir.path().join("plain.db"),
        Zeroizing::new([9u8; 32]),
        None,
        // The platform's roots only: the development CA is not among them.
        Arc::new(DefaultTransport::new().unwrap()),
        WalletConfig::new(stack.trust_list_url.clone(), anchor),
        Arc::new(SystemClock),
    )
    .unwrap();
    let (uri, _) = stack.offer(&["pid_sd_jwt"]).await;
    let err = wallet.receive_offer(&uri).await.unwrap_err();
    assert!(matches!(err, Error::Transport(_)), "{err:?}");
}

#[tokio::test]
async fn a_trust_list_older_than_one_accepted_before_is_refused_after_a_restart() {
    let stack = Stack::start().await;
    let path = stack.dir.path().join("rollback.db");
    {
        // As if a list with sequence 5 had been accepted in an earlier run.
        let mut store = wallet_core::Store::open(&path, Zeroizing::new([7u8; 32])).unwrap();
        store.put_setting("trust_list_sequence", b"5").unwrap();
    }
    let anchor = issuer::trust::public_jwk_from_file(&stack.anchor).unwrap();
    let wallet = Wallet::open(
        &path,
        Zeroizing::new([7u8; 32]),
        None,
        Arc::new(DefaultTransport::trusting_only(stack.ca_pem.as_bytes()).unwrap()),
        WalletConfig::new(stack.trust_list_url.clone(), anchor),
        Arc::new(SystemClock),
    )
    .unwrap();
    let (uri, _) = stack.offer(&["pid_sd_jwt"]).await;
    // The stack serves sequence 1.
    let err = wallet.receive_offer(&uri).await.unwrap_err();
    assert!(matches!(err, Error::Untrusted(_)), "{err:?}");
}

#[tokio::test]
async fn the_accepted_sequence_is_remembered() {
    let stack = Stack::start().await;
    let wallet = stack.wallet("remember.db");
    let (uri, _) = stack.offer(&["pid_sd_jwt"]).await;
    wallet.receive_offer(&uri).await.unwrap();
    drop(wallet);
    let store = wallet_core::Store::open(
        &stack.dir.path().join("remember.db"),
        Zeroizing::new([7u8; 32]),
    )
    .unwrap();
    assert_eq!(
        &store.setting("trust_list_sequence").unwrap().unwrap()[..],
        b"1"
    );
}

#[tokio::test]
async fn a_batch_with_few_copies_left_is_running_low() {
    let stack = Stack::start().await;
    let anchor = issuer::trust::public_jwk_from_file(&stack.anchor).unwrap();
    let mut config = WalletConfig::new(stack.trust_list_url.clone(), anchor);
    config.copies = 2;
    let wallet = Wallet::open(
        &stack.dir.path().join("few.db"),
        Zeroizing::new([7u8; 32]),
        None,
        Arc::new(DefaultTransport::trusting_only(stack.ca_pem.as_bytes()).unwrap()),
        config,
        Arc::new(SystemClock),
    )
    .unwrap();
    let (uri, tx_code) = stack
        .offer(&["pid_sd_jwt", "person_attestation_sd_jwt"])
        .await;
    let ids = wallet
        .receive_offer(&uri)
        .await
        .unwrap()
        .accept(Some(&tx_code))
        .await
        .unwrap();
    assert_eq!(ids.len(), 1 + 2);
    let low = wallet.running_low().unwrap();
    assert_eq!(low.len(), 1, "the PID is not single-use");
    assert_eq!(low[0].0.vct, "urn:be:identity:person-attestation:1");
    assert_eq!(low[0].1, 2);
}

#[tokio::test]
async fn the_trust_list_is_kept_for_offline_use_and_refreshed_after_an_hour() {
    use credential_formats::time::{Clock, FixedClock};
    let stack = Stack::start().await;
    let anchor = issuer::trust::public_jwk_from_file(&stack.anchor).unwrap();
    let open = |clock: Arc<dyn Clock>, url: String| {
        Wallet::open(
            &stack.dir.path().join("offline.db"),
            Zeroizing::new([7u8; 32]),
            None,
            Arc::new(DefaultTransport::trusting_only(stack.ca_pem.as_bytes()).unwrap()),
            WalletConfig::new(url, anchor.clone()),
            clock,
        )
        .unwrap()
    };
    let now = SystemClock.now();
    let online = open(Arc::new(FixedClock(now)), stack.trust_list_url.clone());
    let sequence = online.trust_list().await.unwrap().sequence();
    drop(online);

    // Reopened with the trust list out of reach (a closed port): the kept list serves.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let unreachable = format!(
        "https://localhost:{}/trust-list",
        listener.local_addr().unwrap().port()
    );
    drop(listener);
    let offline = open(Arc::new(FixedClock(now + 60)), unreachable.clone());
    assert_eq!(offline.trust_list().await.unwrap().sequence(), sequence);
    drop(offline);

    // Past its validity the kept list is not used, and with nothing to fetch there is no
    // trust list at all.
    let far = open(Arc::new(FixedClock(now + 400 * 86_400)), unreachable);
    assert!(matches!(far.trust_list().await, Err(Error::Transport(_))));
    drop(far);

    // Within the hour the kept list is used without fetching: a URL serving something that
    // is not a trust list goes unnoticed. After the hour the wallet fetches, and what it gets
    // does not verify: an error, not the kept list.
    let not_a_list = format!("{}/.well-known/jwt-vc-issuer", stack.base);
    let soon = open(Arc::new(FixedClock(now + 120)), not_a_list.clone());
    assert_eq!(soon.trust_list().await.unwrap().sequence(), sequence);
    drop(soon);
    let later = open(
        Arc::new(FixedClock(now + wallet_core::TRUST_REFRESH + 1)),
        not_a_list,
    );
    assert!(matches!(later.trust_list().await, Err(Error::Untrusted(_))));
    drop(later);
    let refreshed = open(
        Arc::new(FixedClock(now + wallet_core::TRUST_REFRESH + 2)),
        stack.trust_list_url.clone(),
    );
    assert_eq!(refreshed.trust_list().await.unwrap().sequence(), sequence);
}
