//! The transport budgets (header-read and body-idle timeouts) of `vault_axum::run`, over a
//! real socket: the checks of `vault_core::testkit::transport`.

use vault_core::server::Server;
use vault_core::testkit::BoxFuture;
use vault_core::Vault;

fn run(server: Server, vault: Vault) -> BoxFuture<'static, std::io::Result<()>> {
    Box::pin(vault_axum::run(server, vault_axum::app(vault)))
}

vault_core::transport_tests!(run);
