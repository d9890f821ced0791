//! The pinned bindgen (this package's `uniffi-bindgen`), run in library mode on the cdylib
//! that `cargo test` built for these tests.

use std::path::{Path, PathBuf};
use std::process::Command;

/// The package's cdylib. Cargo builds the library's crate types together, so the test
/// executable's own directory (`target/<profile>/deps/`) holds it; the uplifted copy in
/// `target/<profile>/` exists only after a `cargo build` of the library itself.
pub fn cdylib() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap();
    let name = format!(
        "{}mobile_bindings{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let path = dir.join(&name);
    assert!(
        path.is_file(),
        "{name} is not beside the test executable in {}",
        dir.display()
    );
    path
}

/// Generates the bindings of `language` (`python`, `kotlin`, `swift`) into `out`, unformatted
/// (formatting would depend on which formatters happen to be installed).
pub fn generate(language: &str, out: &Path) {
    let output = Command::new(env!("CARGO_BIN_EXE_uniffi-bindgen"))
        .args(["generate", "--library"])
        .arg(cdylib())
        .args(["--language", language, "--no-format", "--out-dir"])
        .arg(out)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "uniffi-bindgen failed for {language}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
}
