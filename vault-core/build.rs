//! Rebuilds the crate when a migration is added: `sqlx::migrate!` embeds the migrations
//! directories at compile time, and cargo does not watch them by itself.
//!
//! Also turns the test servers' variables into cfgs, so that tests needing a server are
//! *ignored* (and counted as such) rather than passing without running: `VAULT_TEST_POSTGRES_URL`
//! gives `cfg(vault_test_postgres)`, `VAULT_TEST_S3_ENDPOINT` gives `cfg(vault_test_s3)`. Cargo
//! reruns this script, and recompiles, when either variable changes.

fn main() {
    println!("cargo::rerun-if-changed=migrations");
    for (var, cfg) in [
        ("VAULT_TEST_POSTGRES_URL", "vault_test_postgres"),
        ("VAULT_TEST_S3_ENDPOINT", "vault_test_s3"),
    ] {
        println!("cargo::rerun-if-env-changed={var}");
        println!("cargo::rustc-check-cfg=cfg({cfg})");
        if std::env::var(var).is_ok_and(|value| !value.trim().is_empty()) {
            println!("cargo::rustc-cfg={cfg}");
        }
    }
}
