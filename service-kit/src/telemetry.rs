//! Structured logs. Services log events and identifiers of their own making (request ids,
//! credential ids, counts), never personal data, tokens or keys.

use tracing_subscriber::EnvFilter;

/// Starts logging to standard error: JSON lines when `json`, else human-readable. The level
/// comes from `RUST_LOG` (default `info`). A second call does nothing.
pub fn init(json: bool) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = if json {
        builder.json().try_init()
    } else {
        builder.try_init()
    };
}
