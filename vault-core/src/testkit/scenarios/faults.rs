//! Faults of the database as the API sees them: a server that ends its sessions (it stopped,
//! restarted or failed over) is a 503 problem, never a 500, and the same vault recovers by
//! itself. `benches/faults/outage.sh` stops a real PostgreSQL under load.

use sqlx::{Connection, PgConnection};

use crate::testkit::{Backend, Ctx};

/// Ends every other session of the database at `url`, as a stopping server does (each gets
/// `57P01 terminating connection due to administrator command`), and waits until they are gone.
async fn end_every_session(url: &str) {
    // sqlx pings a connection as it goes back to the pool, in a task of its own after the
    // response: let that finish first, or it finds the ended session before the request does.
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    let mut admin = PgConnection::connect(url).await.expect("connect");
    sqlx::query(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
         WHERE datname = current_database() AND pid <> pg_backend_pid()",
    )
    .execute(&mut admin)
    .await
    .expect("pg_terminate_backend");
    for _ in 0..200 {
        let left: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM pg_stat_activity \
             WHERE datname = current_database() AND pid <> pg_backend_pid()",
        )
        .fetch_one(&mut admin)
        .await
        .expect("pg_stat_activity");
        if left == 0 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    let _ = admin.close().await;
}

/// PostgreSQL ends the session of the vault's one pooled connection right after a request used
/// it: the next request, which finds out, is 503 `service_unavailable` (it was a 500), and the
/// one after it succeeds on a new connection. SQLite has no server to end sessions: nothing to
/// try there.
pub async fn a_session_the_database_ends_is_503_then_recovers(ctx: Ctx) {
    if ctx.backend != Backend::Postgres {
        return;
    }
    // One connection, used within the last second (so not pinged before it is handed out).
    let h = ctx
        .start_with(|config| config.database.max_connections = 1)
        .await;
    let ada = h.register("ada").await;
    let list = || h.get("/api/resources").bearer(&ada.access);
    list().send().await.expect_status(200);
    h.post("/api/resources")
        .bearer(&ada.access)
        .json(serde_json::json!({"kind": "note", "title": "kept", "tags": ["t"]}))
        .send()
        .await
        .expect_status(201);

    end_every_session(&h.database.url).await;
    list()
        .send()
        .await
        .expect_problem(503, "service_unavailable");
    let page = list().send().await.expect_status(200).json();
    assert_eq!(page["results"][0]["title"], "kept", "recovered: {page}");

    // The same for a write.
    end_every_session(&h.database.url).await;
    h.post("/api/resources")
        .bearer(&ada.access)
        .json(serde_json::json!({"kind": "note", "title": "lost", "tags": ["t"]}))
        .send()
        .await
        .expect_problem(503, "service_unavailable");
    assert_eq!(
        list().send().await.expect_status(200).json()["count"],
        1,
        "the refused write wrote nothing"
    );
}
