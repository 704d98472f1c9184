//! Fresh databases for tests: a temporary SQLite file, or a new PostgreSQL database dropped
//! afterwards.

use std::str::FromStr;

use sqlx::postgres::PgConnectOptions;
use sqlx::{ConnectOptions, Connection};

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A temporary SQLite file.
    Sqlite,
    /// A fresh database on the server named by `VAULT_TEST_POSTGRES_URL`.
    Postgres,
}

/// The PostgreSQL server tests may use (`VAULT_TEST_POSTGRES_URL`), if any.
pub fn postgres_url() -> Option<String> {
    std::env::var("VAULT_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
}

/// The PostgreSQL server of a test that is running on PostgreSQL.
///
/// Such tests are ignored when the variable is unset at build time; one that runs anyway was
/// built with the variable and run without it, or run with `--ignored`. Passing it would hide
/// that nothing ran, so it fails.
///
/// # Panics
/// When `VAULT_TEST_POSTGRES_URL` is unset or blank.
pub(crate) fn required_postgres_url() -> String {
    postgres_url().unwrap_or_else(|| {
        panic!(
            "this PostgreSQL test runs but VAULT_TEST_POSTGRES_URL is not set: set it \
             (e.g. postgres://postgres@127.0.0.1:5432/postgres), or leave it unset for the whole \
             `cargo test` so that PostgreSQL tests are built as ignored"
        )
    })
}

/// A database that exists for one test. Dropping it deletes it.
pub struct TestDatabase {
    /// URL to connect to it.
    pub url: String,
    /// Its backend.
    pub backend: Backend,
    /// A private temporary directory (the SQLite file, blobs), removed with the database.
    pub dir: tempfile::TempDir,
    postgres: Option<(String, String)>,
}

impl TestDatabase {
    /// Creates a fresh, empty database.
    ///
    /// # Panics
    /// When the temporary directory or the PostgreSQL database cannot be created, or PostgreSQL
    /// is asked for without `VAULT_TEST_POSTGRES_URL`.
    pub async fn create(backend: Backend) -> Self {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temporary directory");
                let url = format!("sqlite://{}", dir.path().join("vault.db").display());
                Self {
                    url,
                    backend,
                    dir,
                    postgres: None,
                }
            }
            Backend::Postgres => {
                let admin_url = required_postgres_url();
                let name = format!("vault_test_{}", uuid::Uuid::now_v7().simple());
                let options =
                    PgConnectOptions::from_str(&admin_url).expect("valid VAULT_TEST_POSTGRES_URL");
                let mut admin = options
                    .connect()
                    .await
                    .expect("PostgreSQL at VAULT_TEST_POSTGRES_URL answers");
                sqlx::query(&format!("CREATE DATABASE \"{name}\""))
                    .execute(&mut admin)
                    .await
                    .expect("CREATE DATABASE");
                let _ = admin.close().await;
                let url = with_database(&admin_url, &name);
                Self {
                    url,
                    backend,
                    dir: tempfile::tempdir().expect("temporary directory"),
                    postgres: Some((admin_url, name)),
                }
            }
        }
    }
}

/// `url` with its database name replaced.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = match url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (url, None),
    };
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let base = match base[authority_end..].find('/') {
        Some(slash) => &base[..authority_end + slash],
        None => base,
    };
    match query {
        Some(query) => format!("{base}/{name}?{query}"),
        None => format!("{base}/{name}"),
    }
}

impl TestDatabase {
    /// Where this test's blobs go.
    pub fn files_dir(&self) -> std::path::PathBuf {
        self.dir.path().join("files")
    }

    /// How many blobs are stored (regular files under [`TestDatabase::files_dir`]).
    pub fn blob_count(&self) -> usize {
        fn count(dir: &std::path::Path) -> usize {
            std::fs::read_dir(dir)
                .map(|entries| {
                    entries
                        .filter_map(Result::ok)
                        .map(|e| {
                            let path = e.path();
                            if path.is_dir() {
                                count(&path)
                            } else {
                                1
                            }
                        })
                        .sum()
                })
                .unwrap_or(0)
        }
        count(&self.files_dir())
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some((admin_url, name)) = self.postgres.take() else {
            return;
        };
        // Drop runs inside the test's runtime; use a thread with its own to wait for the DROP.
        let dropper = std::thread::spawn(move || {
            let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            else {
                return;
            };
            runtime.block_on(async move {
                let Ok(options) = PgConnectOptions::from_str(&admin_url) else {
                    return;
                };
                if let Ok(mut admin) = options.connect().await {
                    let _ =
                        sqlx::query(&format!("DROP DATABASE IF EXISTS \"{name}\" WITH (FORCE)"))
                            .execute(&mut admin)
                            .await;
                    let _ = admin.close().await;
                }
            });
        });
        let _ = dropper.join();
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn replaces_the_database_name() {
        assert_eq!(
            super::with_database("postgres://u@h:5432/postgres", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            super::with_database("postgres://u@h:5432", "x"),
            "postgres://u@h:5432/x"
        );
        assert_eq!(
            super::with_database("postgres://h/db?sslmode=disable", "x"),
            "postgres://h/x?sslmode=disable"
        );
    }
}
