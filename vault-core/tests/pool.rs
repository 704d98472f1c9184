//! The connection pool's health checks (`vault_core::db::PING_IF_IDLE`): a connection that sat
//! idle is pinged before use, so a dead one is replaced instead of failing a request; one used
//! moments ago is trusted without the extra round trip.
//!
//! PostgreSQL only: ignored unless `VAULT_TEST_POSTGRES_URL` is set.

use std::time::Duration;

use sqlx::Connection as _;
use vault_core::db::PING_IF_IDLE;
use vault_core::testkit::{Backend, TestDatabase};
use vault_core::Database;

/// Terminates backend `pid` from a connection of its own.
async fn kill(url: &str, pid: i32) {
    let mut admin = sqlx::PgConnection::connect(url)
        .await
        .expect("second connection");
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .execute(&mut admin)
        .await
        .expect("terminate");
}

async fn backend_pid(pool: &sqlx::PgPool) -> sqlx::Result<i32> {
    sqlx::query_scalar("SELECT pg_backend_pid()")
        .fetch_one(pool)
        .await
}

#[tokio::test]
#[cfg_attr(not(vault_test_postgres), ignore = "needs VAULT_TEST_POSTGRES_URL")]
async fn postgres_idle_connections_are_pinged_recent_ones_trusted() {
    let test_db = TestDatabase::create(Backend::Postgres).await;
    // One connection, so that every statement below goes through the same pooled connection.
    let database = Database::connect(&test_db.url, 1)
        .await
        .expect("test database answers");
    let Database::Postgres(pool) = &database else {
        panic!("a PostgreSQL database");
    };
    // Killed right after use: the pool hands the connection out unchecked, the statement
    // finds it dead, and the pool replaces it for the next one.
    let first = backend_pid(pool).await.expect("first statement");
    kill(&test_db.url, first).await;
    let failed = backend_pid(pool).await;
    assert!(failed.is_err(), "a recently used connection is not pinged");
    let second = backend_pid(pool).await.expect("a fresh connection");
    assert_ne!(second, first);

    // Killed, then idle past the threshold: the ping finds it dead before any statement runs.
    kill(&test_db.url, second).await;
    tokio::time::sleep(PING_IF_IDLE + Duration::from_millis(200)).await;
    let third = backend_pid(pool)
        .await
        .expect("an idle dead connection is replaced, not handed out");
    assert_ne!(third, second);
    database.close().await;
    drop(test_db);
}
