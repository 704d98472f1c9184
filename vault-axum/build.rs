//! `cfg(vault_test_postgres)` when `VAULT_TEST_POSTGRES_URL` is set: the PostgreSQL half of the
//! conformance suite (expanded in this crate by `vault_core::conformance_tests!`, so evaluated
//! with this crate's cfgs) runs; otherwise libtest reports it as ignored.

fn main() {
    println!("cargo::rerun-if-env-changed=VAULT_TEST_POSTGRES_URL");
    println!("cargo::rustc-check-cfg=cfg(vault_test_postgres)");
    if std::env::var("VAULT_TEST_POSTGRES_URL").is_ok_and(|url| !url.trim().is_empty()) {
        println!("cargo::rustc-cfg=vault_test_postgres");
    }
}
