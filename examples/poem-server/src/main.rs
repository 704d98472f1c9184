//! Vault's API served by poem: `cargo run --release -p vault-poem-server`.
//!
//! Zero set-up: a SQLite file `vault.db` in the working directory. Configuration by `VAULT_*`
//! environment variables (see `vault_core::cli`, or `--help`); `create-admin <username> <email>`
//! creates an administrator (password from `VAULT_ADMIN_PASSWORD`, typed without echo, or one
//! line of piped stdin). Exit codes: 0 done, 1 failed, 2 wrong command line.

use std::process::ExitCode;

use vault_core::cli::{self, Start};
use vault_core::server::Server;

#[tokio::main]
async fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args: Vec<String> = std::env::args().skip(1).collect();
    let command = match cli::parse_args(&args) {
        Ok(command) => command,
        Err(usage) => {
            eprintln!("error: {usage}\n\n{}", cli::usage());
            return ExitCode::from(cli::USAGE_EXIT_CODE);
        }
    };
    let (vault, bind) = match cli::start(command).await {
        Ok(Start::Serve { vault, bind }) => (vault, bind),
        Ok(Start::Done) => return ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {}", cli::describe(&error));
            return ExitCode::FAILURE;
        }
    };
    let listener = match tokio::net::TcpListener::bind(bind).await {
        Ok(listener) => listener,
        Err(error) => {
            eprintln!("error: cannot listen on {bind}: {error}");
            return ExitCode::FAILURE;
        }
    };
    if let Ok(addr) = listener.local_addr() {
        tracing::info!(
            backend = vault.database().backend_name(),
            "listening on http://{addr} (docs at http://{addr}/api/docs)"
        );
    }
    // Vault's server loop rather than `poem::Server`: it bounds how long a client may take
    // over a request's headers and between a body's bytes (`VAULT_HEADER_READ_TIMEOUT`,
    // `VAULT_BODY_IDLE_TIMEOUT`), which `poem::Server` cannot. On SIGTERM or Ctrl-C it refuses new
    // connections and gives the requests in flight `VAULT_SHUTDOWN_GRACE_SECONDS` (30) to finish.
    let server =
        Server::new(listener, &vault.config().http).with_graceful_shutdown(cli::shutdown_signal());
    let served = vault_poem::run(server, vault_poem::app(vault.clone())).await;
    vault.database().close().await;
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: server failed: {error}");
            ExitCode::FAILURE
        }
    }
}
