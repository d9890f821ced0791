//! The bindgen pinned to this crate's uniffi (the version in the lockfile), so the bindings
//! always match the scaffolding compiled into the library. See the crate's README for the
//! command lines.

fn main() {
    uniffi::uniffi_bindgen_main()
}
