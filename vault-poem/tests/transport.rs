//! The transport budgets (header-read and body-idle timeouts) of `vault_poem::run`, over a
//! real socket: the checks of `vault_core::testkit::transport`.

use vault_core::server::Server;
use vault_core::testkit::BoxFuture;
use vault_core::Vault;

fn run(server: Server, vault: Vault) -> BoxFuture<'static, std::io::Result<()>> {
    Box::pin(vault_poem::run(server, vault_poem::app(vault)))
}

vault_core::transport_tests!(run);
