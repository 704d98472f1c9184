//! The transport budgets (header-read and body-idle timeouts) of `vault_poem::run`, over a
//! real socket: the checks of `vault_core::testkit::transport`.

use vault_core::server::Server;
use vault_core::testkit::{transport, BoxFuture};
use vault_core::Vault;

fn run(server: Server, vault: Vault) -> BoxFuture<'static, std::io::Result<()>> {
    Box::pin(vault_poem::run(server, vault_poem::app(vault)))
}

#[tokio::test]
async fn half_sent_headers_are_cut_off() {
    transport::half_sent_headers_are_cut_off(run).await;
}

#[tokio::test]
async fn a_trickled_head_is_cut_off_at_the_deadline() {
    transport::a_trickled_head_is_cut_off_at_the_deadline(run).await;
}

#[tokio::test]
async fn idle_kept_alive_connections_are_closed() {
    transport::idle_kept_alive_connections_are_closed(run).await;
}

#[tokio::test]
async fn a_stalled_json_body_is_answered_408() {
    transport::a_stalled_json_body_is_answered_408(run).await;
}

#[tokio::test]
async fn a_stalled_upload_is_answered_408_and_leaves_nothing() {
    transport::a_stalled_upload_is_answered_408_and_leaves_nothing(run).await;
}

#[tokio::test]
async fn a_slow_steady_body_is_served() {
    transport::a_slow_steady_body_is_served(run).await;
}
