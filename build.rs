//! Rebuild when a migration changes: `embed_migrations!` reads `migrations/` at
//! compile time, and cargo does not watch that folder on its own.
fn main() {
    println!("cargo:rerun-if-changed=migrations");
}
