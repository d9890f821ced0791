#![no_main]
//! Strict JSON: `json::parse` never panics, and agrees with `serde_json::from_slice` on every
//! input without duplicate member names and within the depth limit. Whatever it refuses that
//! serde_json accepts must be a duplicate member or too deep.

use credential_formats::json::{self, JsonError, MAX_DEPTH};
use libfuzzer_sys::fuzz_target;
use serde_json::Value;

const LIMIT: usize = 1 << 20;

fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

fuzz_target!(|data: &[u8]| {
    let strict = json::parse(data, LIMIT);
    // serde_json's own recursion limit is 128; ours is lower, so it decides the depth question.
    let loose: Result<Value, _> = serde_json::from_slice(data);
    match (&strict, &loose) {
        (Ok(a), Ok(b)) => {
            assert_eq!(a, b, "strict and serde_json parse differently");
            assert!(depth(a) <= MAX_DEPTH, "accepted nesting over MAX_DEPTH");
        }
        (Ok(_), Err(_)) => panic!("strict parser accepted what serde_json refuses"),
        (Err(err), Ok(value)) => match err {
            JsonError::DuplicateMember | JsonError::TooDeep(_) => {}
            JsonError::NotUtf8 | JsonError::TooLarge { .. } => {
                panic!("refused valid small UTF-8 JSON as {err:?}")
            }
            other => panic!("refused valid JSON ({other:?}), depth {}", depth(value)),
        },
        (Err(_), Err(_)) => {}
    }
    // Duplicates: a refused duplicate must really be one (serde_json keeps the last).
    if let (Err(JsonError::DuplicateMember), Ok(_)) = (&strict, &loose) {
        assert!(std::str::from_utf8(data).is_ok());
    }
});
