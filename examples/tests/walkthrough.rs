//! The README's main job must keep working: run the walk-through as a user does and check
//! what it says happened.

#[test]
fn issue_present_verify_runs_and_discloses_only_the_age() {
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_issue-present-verify"))
        .output()
        .expect("the walk-through binary runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "walk-through failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let line = |label: &str| {
        stdout
            .lines()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("no line {label:?} in:\n{stdout}"))
            .to_owned()
    };
    assert!(line("verified disclosed claims").ends_with(r#"["age_over_18"]"#));
    assert!(line("person_handle seen").ends_with("false"));
    for refusal in [
        "replayed for another nonce",
        "presented to another verifier",
        "key binding stripped",
        "after revocation",
    ] {
        assert!(line(refusal).contains("refused:"), "{refusal}");
    }
    assert!(stdout.contains("Done: the verifier learned that the holder is over 18"));
}
