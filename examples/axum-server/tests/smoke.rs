//! Starts the example server binary and calls it over real HTTP.

#[test]
fn serves_the_api_over_http() {
    vault_core::testkit::smoke::run_example_server(env!("CARGO_BIN_EXE_vault-axum-server"));
}
