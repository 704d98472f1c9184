//! Starts the example server binary and calls it over real HTTP; checks its command line.

#[test]
fn serves_the_api_over_http() {
    vault_core::testkit::smoke::run_example_server(env!("CARGO_BIN_EXE_vault-axum-server"));
}

#[test]
fn help_and_wrong_invocations() {
    vault_core::testkit::smoke::check_command_line(env!("CARGO_BIN_EXE_vault-axum-server"));
}
