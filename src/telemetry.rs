//! Structured logging with `tracing`, filtered by RUST_LOG (default `info`).

use tracing_subscriber::EnvFilter;

/// Installs the global subscriber: JSON lines on stderr, so stdout stays for command output.
pub fn init() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // A second call (tests spawning several apps) keeps the first subscriber.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .json()
        .flatten_event(true)
        .with_current_span(false)
        .try_init();
}
