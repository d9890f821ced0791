//! The Kotlin and Swift sources committed under `mobile-bindings/generated/` are exactly
//! what this build's bindgen makes of this build's cdylib: an app building from the
//! repository gets bindings that match the library.

use std::path::{Path, PathBuf};

use crate::bindgen;

const BLESS: &str = "MOBILE_BINDINGS_BLESS";

fn committed() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("generated")
}

/// Every file under `dir`, relative to it, sorted.
fn files(dir: &Path) -> Vec<PathBuf> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                walk(root, &path, out);
            } else {
                out.push(path.strip_prefix(root).unwrap().to_owned());
            }
        }
    }
    let mut out = Vec::new();
    if dir.is_dir() {
        walk(dir, dir, &mut out);
    }
    out.sort();
    out
}

#[test]
fn the_committed_kotlin_and_swift_bindings_are_what_this_build_generates() {
    let fresh = tempfile::tempdir().unwrap();
    for language in ["kotlin", "swift"] {
        bindgen::generate(language, &fresh.path().join(language));
    }
    if std::env::var_os(BLESS).is_some() {
        for language in ["kotlin", "swift"] {
            let target = committed().join(language);
            let _ = std::fs::remove_dir_all(&target);
            for file in files(&fresh.path().join(language)) {
                let to = target.join(&file);
                std::fs::create_dir_all(to.parent().unwrap()).unwrap();
                std::fs::copy(fresh.path().join(language).join(&file), to).unwrap();
            }
        }
    }
    let regenerate = format!(
        "regenerate them with `{BLESS}=1 cargo test -p mobile-bindings --features cli --test \
         bindings generated` and commit the result"
    );
    for language in ["kotlin", "swift"] {
        let (want, have) = (fresh.path().join(language), committed().join(language));
        assert_eq!(
            files(&want),
            files(&have),
            "the files of mobile-bindings/generated/{language} differ from what the bindgen makes: {regenerate}"
        );
        for file in files(&want) {
            let same = std::fs::read(want.join(&file)).unwrap()
                == std::fs::read(have.join(&file)).unwrap();
            assert!(
                same,
                "mobile-bindings/generated/{language}/{} is not what this build generates \
                 (the Rust API changed, or uniffi did): {regenerate}",
                file.display()
            );
        }
    }
}
