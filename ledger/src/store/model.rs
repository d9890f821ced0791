//! Model-based property test (threat catalogue L9): random sequences of account openings,
//! grants, top-ups, spends (and their retries, with the same or another body), refunds,
//! cancellations, closings and crashes — the store dropped and the SQLite file reopened, or a
//! transaction abandoned half-way — agree with an in-memory model after every step.

use std::collections::HashMap;

use proptest::prelude::*;
use service_kit::Db;

use super::conformance::{ledger_on, spend_request};
use super::*;
use crate::Ledger;

#[derive(Debug, Clone)]
enum Op {
    Open,
    Close(usize),
    Grant {
        account: usize,
        id: u8,
        amount: u64,
    },
    Topup {
        account: usize,
        year: u16,
        amount: u64,
        cap: u64,
    },
    Spend {
        account: usize,
        txn: u8,
        amount: u64,
        body: u8,
    },
    Cancel(u8),
    Refund {
        txn: u8,
        amount: u64,
    },
    Crash,
    /// A spend (or grant) whose transaction is dropped before commit.
    CrashInTx {
        account: usize,
        txn: u8,
        amount: u64,
        grant: bool,
    },
}

fn op() -> impl Strategy<Value = Op> {
    prop_oneof![
        2 => Just(Op::Open),
        1 => (0..4usize).prop_map(Op::Close),
        3 => (0..4usize, 0..4u8, 1..60u64).prop_map(|(account, id, amount)| Op::Grant { account, id, amount }),
        2 => (0..4usize, 2027..2030u16, 1..60u64, 1..90u64)
            .prop_map(|(account, year, amount, cap)| Op::Topup { account, year, amount, cap }),
        6 => (0..4usize, 0..10u8, 1..40u64, 0..2u8)
            .prop_map(|(account, txn, amount, body)| Op::Spend { account, txn, amount, body }),
        2 => (0..10u8).prop_map(Op::Cancel),
        2 => (0..10u8, 1..40u64).prop_map(|(txn, amount)| Op::Refund { txn, amount }),
        1 => Just(Op::Crash),
        1 => (0..4usize, 0..10u8, 1..40u64, any::<bool>())
            .prop_map(|(account, txn, amount, grant)| Op::CrashInTx { account, txn, amount, grant }),
    ]
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Account {
    closed: bool,
    balance: u64,
    granted: u64,
    spent: u64,
    refunded: u64,
}

#[derive(Debug, Default)]
struct Model {
    accounts: Vec<Account>,
    /// id → (account, kind tag, requested, cap, applied)
    grants: HashMap<String, (usize, Option<u64>, u64, u64)>,
    /// txn → (account, amount, body, state, returned)
    spends: HashMap<String, (usize, u64, u8, SpendState, u64)>,
}

impl Model {
    fn grant(&mut self, id: String, account: usize, amount: u64, cap: Option<u64>) -> String {
        if let Some(&(a, c, req, applied)) = self.grants.get(&id) {
            return if a == account && c == cap && req == amount {
                format!("granted {applied} replayed")
            } else {
                "conflict".into()
            };
        }
        let acc = &mut self.accounts[account];
        if acc.closed {
            return "account_closed".into();
        }
        let applied = match cap {
            None => amount,
            Some(cap) => amount.min(cap.saturating_sub(acc.balance)),
        };
        acc.balance += applied;
        acc.granted += applied;
        self.grants.insert(id, (account, cap, amount, applied));
        format!("granted {applied}")
    }

    fn spend(&mut self, txn: String, account: usize, amount: u64, body: u8) -> String {
        if let Some(&(_, _, b, _, _)) = self.spends.get(&txn) {
            return if b == body {
                "replayed".into()
            } else {
                "conflict".into()
            };
        }
        let acc = &mut self.accounts[account];
        if acc.closed {
            return "account_closed".into();
        }
        if acc.balance < amount {
            return "insufficient_credits".into();
        }
        acc.balance -= amount;
        acc.spent += amount;
        self.spends
            .insert(txn, (account, amount, body, SpendState::Captured, 0));
        "captured".into()
    }

    fn transition(&mut self, txn: &str, refund: Option<u64>) -> String {
        let Some(s) = self.spends.get_mut(txn) else {
            return "unknown_transaction".into();
        };
        match (s.3, refund) {
            (SpendState::Captured, Some(r)) if r > s.1 => "invalid_amount".into(),
            (SpendState::Captured, _) => {
                let back = refund.unwrap_or(s.1);
                s.3 = if refund.is_some() {
                    SpendState::Refunded
                } else {
                    SpendState::Cancelled
                };
                s.4 = back;
                let acc = &mut self.accounts[s.0];
                acc.balance += back;
                acc.refunded += back;
                format!("{} {back}", s.3)
            }
            (SpendState::Cancelled, None) => format!("cancelled {} replayed", s.4),
            (SpendState::Refunded, Some(r)) if r == s.4 => format!("refunded {r} replayed"),
            (SpendState::Refunded, Some(_)) => "conflict".into(),
            _ => "illegal_transition".into(),
        }
    }
}

fn describe_grant(r: Result<GrantOutcome, Error>) -> String {
    match r {
        Ok(g) if g.replayed => format!("granted {} replayed", g.applied),
        Ok(g) => format!("granted {}", g.applied),
        Err(e) => e.code().into(),
    }
}

fn describe_transition(r: Result<TransitionOutcome, Error>) -> String {
    match r {
        Ok(t) if t.replayed => format!("{} {} replayed", t.state, t.returned),
        Ok(t) => format!("{} {}", t.state, t.returned),
        Err(e) => e.code().into(),
    }
}

async fn run(ops: Vec<Op>) {
    let dir = tempfile::tempdir().unwrap();
    let url = dir.path().join("model.db").to_str().unwrap().to_owned();
    let mut db = Db::connect(&url).await.unwrap();
    let (mut ledger, _): (Ledger, _) = ledger_on(db.clone()).await;
    let mut model = Model::default();
    let mut refs: Vec<AccountRef> = Vec::new();
    for (step, op) in ops.into_iter().enumerate() {
        // Operations on an account index not opened yet are skipped.
        let account_ok = |a: usize| a < refs.len();
        match op {
            Op::Open => {
                refs.push(ledger.open_account().await.unwrap());
                model.accounts.push(Account::default());
            }
            Op::Close(a) if account_ok(a) => {
                ledger.close_account(&refs[a]).await.unwrap();
                model.accounts[a].closed = true;
            }
            Op::Grant {
                account,
                id,
                amount,
            } if account_ok(account) => {
                let got = describe_grant(
                    ledger
                        .grant(
                            &refs[account],
                            &format!("g{id}"),
                            Amount::new(amount).unwrap(),
                            "r",
                        )
                        .await,
                );
                let want = model.grant(format!("g{id}"), account, amount, None);
                assert_eq!(got, want, "step {step}: {op:?}");
            }
            Op::Topup {
                account,
                year,
                amount,
                cap,
            } if account_ok(account) => {
                let got = describe_grant(
                    ledger
                        .yearly_topup(
                            &refs[account],
                            year,
                            Amount::new(amount).unwrap(),
                            Amount::new(cap).unwrap(),
                        )
                        .await,
                );
                let id = format!("topup/{}/{year}", refs[account]);
                let want = model.grant(id, account, amount, Some(cap));
                assert_eq!(got, want, "step {step}: {op:?}");
            }
            Op::Spend {
                account,
                txn,
                amount,
                body,
            } if account_ok(account) => {
                let req = spend_request(&format!("t{txn}"), &refs[account], amount, body);
                let got = match ledger.spend(&req).await {
                    Ok(SpendOutcome::Captured(_)) => "captured".to_owned(),
                    Ok(SpendOutcome::Replayed(_)) => "replayed".to_owned(),
                    Err(e) => e.code().to_owned(),
                };
                let want = model.spend(format!("t{txn}"), account, amount, body);
                assert_eq!(got, want, "step {step}: {op:?}");
            }
            Op::Cancel(txn) => {
                let got = describe_transition(ledger.cancel(&format!("t{txn}")).await);
                assert_eq!(
                    got,
                    model.transition(&format!("t{txn}"), None),
                    "step {step}"
                );
            }
            Op::Refund { txn, amount } => {
                let got = describe_transition(
                    ledger
                        .refund(&format!("t{txn}"), Amount::new(amount).unwrap())
                        .await,
                );
                assert_eq!(
                    got,
                    model.transition(&format!("t{txn}"), Some(amount)),
                    "step {step}"
                );
            }
            Op::Crash => {
                drop(ledger);
                drop(db);
                db = Db::connect(&url).await.unwrap();
                ledger = ledger_on(db.clone()).await.0;
            }
            Op::CrashInTx {
                account,
                txn,
                amount,
                grant,
            } if account_ok(account) => {
                let mut tx = db.begin().await.unwrap();
                // Whatever it did inside, the transaction is abandoned: no effect.
                let _ = if grant {
                    let g = NewGrant {
                        id: format!("g{txn}"),
                        account: refs[account].clone(),
                        kind: GrantKind::OneOff,
                        amount: Amount::new(amount).unwrap(),
                        reason: "r".into(),
                    };
                    SqlStore::grant_in(&mut tx, &g, 0).await.map(|_| ())
                } else {
                    let req = spend_request(&format!("t{txn}"), &refs[account], amount, 0);
                    SqlStore::spend_in(&mut tx, &req, &Receipt("x".into()), 0)
                        .await
                        .map(|_| ())
                };
                drop(tx);
            }
            _ => {}
        }
        for (i, r) in refs.iter().enumerate() {
            let b = ledger.balance(r).await.unwrap();
            let m = model.accounts[i];
            assert_eq!(
                (
                    b.open,
                    b.balance.get(),
                    b.granted.get(),
                    b.spent.get(),
                    b.refunded.get()
                ),
                (!m.closed, m.balance, m.granted, m.spent, m.refunded),
                "step {step}: account {i}"
            );
        }
    }
    let report = ledger.check_invariants().await.unwrap();
    assert!(report.is_ok(), "{:?}", report.violations);
    let spent: u64 = model.accounts.iter().map(|a| a.spent).sum();
    assert_eq!(report.spent.get(), spent);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_sequences_agree_with_the_model(ops in proptest::collection::vec(op(), 1..60)) {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
        rt.block_on(run(ops));
    }
}
