//! `kill -9` of the server in the middle of writes (`benches/faults/kill9.sh`).
//!
//! Clients write concurrently, two accounts shared between them: notes with tags, file
//! resources with an upload (multipart), deletions of what they created. A ledger keeps what
//! each request carried and how it ended: acknowledged (2xx), refused (another status) or
//! unknown (no answer: the server died with it). At a random moment the server gets SIGKILL.
//! With the server down, the database and the blob directory are checked against the ledger:
//!
//! - **no partial rows**: an acknowledged create exists, a refused one does not, an unknown one
//!   either does or does not; a row that exists has exactly the tags its request carried, in
//!   the link table and in its `tag_names` column alike; no row the driver did not ask for;
//! - **no missing blobs**: every `file_key` names a blob on disk of the row's `file_size`, and
//!   an acknowledged upload is attached with its size;
//! - **no orphan blobs**: every blob on disk is referenced by a row or queued in
//!   `blob_garbage` (leftover `.tmp` parts are counted apart; the store sweeps them);
//! - **maintained counts**: every `resource_counts.total` equals the owner's `COUNT(*)`;
//! - on SQLite, `PRAGMA integrity_check` is `ok`.
//!
//! Then the server starts again on the same database and files, answers `/health/ready`, and
//! the next round begins.

use std::collections::{BTreeSet, HashMap, HashSet};
use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde_json::json;
use sqlx::{FromRow, PgPool, SqlitePool};
use vault_core::testkit::{Backend, TestDatabase};

use super::{created_id, report, start_server, text_bytes, Check, Rng, Timed};
use crate::seed;

/// The tag names the notes draw theirs from.
const TAG_POOL: usize = 12;
/// Accounts the clients share.
const OWNERS: usize = 2;

/// What the script passes.
#[derive(Debug, Clone)]
pub struct Options {
    /// `axum` or `poem`.
    pub adapter: String,
    /// `sqlite` or `postgres`.
    pub database: String,
    /// How many times the server is killed.
    pub kills: usize,
    /// Concurrent clients.
    pub clients: usize,
    /// The load runs between these many milliseconds (at random) before each kill.
    pub before_kill_ms: (u64, u64),
}

/// How a request ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Outcome {
    /// 2xx.
    Acknowledged,
    /// Another status: nothing may have changed.
    Refused,
    /// No answer.
    Unknown,
}

impl Outcome {
    fn of(status: u16) -> Self {
        match status {
            0 => Self::Unknown,
            200..=299 => Self::Acknowledged,
            _ => Self::Refused,
        }
    }
}

/// What the driver asked for one title.
#[derive(Debug, Clone)]
struct Intent {
    tags: BTreeSet<String>,
    created: Outcome,
    /// The upload's size and outcome, for a file resource.
    upload: Option<(u64, Outcome)>,
    deleted: Option<Outcome>,
}

/// Every title the driver wrote, and what became of it.
type Ledger = Arc<Mutex<HashMap<String, Intent>>>;

/// Runs the rounds and prints each check; true when every promise held in every round.
///
/// # Errors
/// When the server, the accounts or the database checks fail to run.
pub fn run(options: &Options) -> Result<bool> {
    let backend = match options.database.as_str() {
        "sqlite" => Backend::Sqlite,
        "postgres" => Backend::Postgres,
        other => bail!("unknown database {other:?}: sqlite or postgres"),
    };
    let binary = super::server_binary(&options.adapter)?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()?;
    let db = runtime.block_on(TestDatabase::create(backend));
    let dir = db.dir.path();
    let files = db.files_dir();
    let files_text = files.to_string_lossy().into_owned();
    let secret = super::secret();
    let env = [
        ("VAULT_DATABASE_URL", db.url.as_str()),
        ("VAULT_JWT_SECRET", secret.as_str()),
        ("VAULT_FILES_DIR", files_text.as_str()),
        ("VAULT_THROTTLE_AUTH_IP", "off"),
        ("VAULT_THROTTLE_AUTH_USER", "off"),
        ("VAULT_THROTTLE_ANON", "off"),
        ("VAULT_THROTTLE_USER", "off"),
    ];
    let ledger: Ledger = Arc::default();
    let mut tokens = Vec::new();
    let mut all_held = true;
    let mut rng = Rng::new(u64::from(std::process::id()));
    for round in 1..=options.kills {
        let server = start_server(&binary, dir, &env);
        let addr = server.addr;
        if tokens.is_empty() {
            tokens = (0..OWNERS)
                .map(|i| seed::register(addr, &format!("writer{i}")))
                .collect::<Result<Vec<_>>>()?;
        }
        let killed = Arc::new(AtomicBool::new(false));
        let epoch = Instant::now();
        let workers: Vec<_> = (0..options.clients)
            .map(|client| {
                let token = tokens[client % OWNERS].clone();
                let ledger = Arc::clone(&ledger);
                let killed = Arc::clone(&killed);
                let seed = rng.next_u64();
                thread::spawn(move || {
                    write_until_killed(addr, epoch, &token, &ledger, &killed, round, client, seed)
                })
            })
            .collect();
        let (low, high) = options.before_kill_ms;
        thread::sleep(Duration::from_millis(
            low + rng.below(high.saturating_sub(low) + 1),
        ));
        // Raised first: a request that fails from here on was cut by the kill. Dropping the
        // server sends SIGKILL and reaps it.
        killed.store(true, Ordering::Relaxed);
        let pid = server.pid();
        drop(server);
        let mut early_failures = 0;
        for worker in workers {
            early_failures += worker
                .join()
                .map_err(|_| anyhow!("a client thread panicked"))?;
        }
        println!(
            "\nround {round}: killed pid {pid} after {:.2} s",
            epoch.elapsed().as_secs_f64()
        );
        let checks = runtime.block_on(check(&db, &files, &ledger, early_failures))?;
        all_held &= report(&checks);
    }
    // The server comes back on what the last kill left.
    let server = start_server(&binary, dir, &env);
    let ready = seed_ready(server.addr);
    let restarted = Check {
        what: "the server starts again on the killed database and answers /health/ready".into(),
        held: ready,
        detail: if ready { "200" } else { "not ready" }.into(),
    };
    all_held &= report(&[restarted]);
    Ok(all_held)
}

/// Whether `/health/ready` answers 200.
fn seed_ready(addr: std::net::SocketAddr) -> bool {
    crate::client::Conn::connect(addr)
        .and_then(|mut conn| conn.send("GET", "/health/ready", None, None))
        .is_ok_and(|reply| reply.status == 200)
}

/// One client's writes until the kill; returns how many requests failed before it.
#[allow(clippy::too_many_arguments)]
fn write_until_killed(
    addr: std::net::SocketAddr,
    epoch: Instant,
    token: &str,
    ledger: &Ledger,
    killed: &AtomicBool,
    round: usize,
    client: usize,
    seed: u64,
) -> usize {
    let mut rng = Rng::new(seed);
    let mut http = Timed::new(addr, Duration::from_secs(30), epoch);
    let bearer = format!("Bearer {token}");
    let auth = [("authorization", bearer.as_str())];
    let mut mine: Vec<(String, String)> = Vec::new();
    let mut early_failures = 0;
    let record = |title: &str, change: &dyn Fn(&mut Intent)| {
        if let Ok(mut ledger) = ledger.lock() {
            if let Some(intent) = ledger.get_mut(title) {
                change(intent);
            }
        }
    };
    for n in 0.. {
        if killed.load(Ordering::Relaxed) {
            break;
        }
        let roll = rng.below(100);
        let status = if roll < 15 && !mine.is_empty() {
            let (title, id) =
                mine.swap_remove(usize::try_from(rng.below(mine.len() as u64)).unwrap_or(0));
            record(&title, &|intent| intent.deleted = Some(Outcome::Unknown));
            let (sample, _) = http.send(
                "delete",
                "DELETE",
                &format!("/api/resources/{id}"),
                &auth,
                None,
                b"",
            );
            record(&title, &|intent| {
                intent.deleted = Some(Outcome::of(sample.status));
            });
            sample.status
        } else {
            let file = roll >= 70;
            let title = format!("{}{round}-{client}-{n}", if file { "f" } else { "n" });
            let tags: BTreeSet<String> = (0..rng.below(5))
                .map(|_| format!("t{:02}", rng.below(TAG_POOL as u64)))
                .collect();
            let body = if file {
                json!({"kind": "file", "title": title, "tags": tags})
            } else {
                json!({"kind": "note", "title": title, "body": "x".repeat(200), "tags": tags})
            };
            if let Ok(mut ledger) = ledger.lock() {
                ledger.insert(
                    title.clone(),
                    Intent {
                        tags,
                        created: Outcome::Unknown,
                        upload: None,
                        deleted: None,
                    },
                );
            }
            let (sample, reply) = http.post_json("create", "/api/resources", &auth, &body);
            record(&title, &|intent| {
                intent.created = Outcome::of(sample.status)
            });
            match (created_id(reply.as_ref()), file) {
                (Some(id), true) if !killed.load(Ordering::Relaxed) => {
                    let size = 1024 + rng.below(256 * 1024);
                    let bytes = text_bytes(usize::try_from(size).unwrap_or(1024), rng.next_u64());
                    record(&title, &|intent| {
                        intent.upload = Some((size, Outcome::Unknown))
                    });
                    let upload = http.upload(&id, &auth, "notes.txt", &bytes);
                    record(&title, &|intent| {
                        intent.upload = Some((size, Outcome::of(upload.status)));
                    });
                    mine.push((title, id));
                    upload.status
                }
                (Some(id), _) => {
                    mine.push((title, id));
                    sample.status
                }
                (None, _) => sample.status,
            }
        };
        if status == 0 && !killed.load(Ordering::Relaxed) {
            early_failures += 1;
        }
    }
    early_failures
}

/// The killed server's database, read directly.
enum Db {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

impl Db {
    async fn rows<T>(&self, sql: &str) -> Result<Vec<T>>
    where
        T: Send + Unpin,
        T: for<'r> FromRow<'r, sqlx::sqlite::SqliteRow>,
        T: for<'r> FromRow<'r, sqlx::postgres::PgRow>,
    {
        match self {
            Self::Sqlite(pool) => sqlx::query_as::<_, T>(sql).fetch_all(pool).await,
            Self::Postgres(pool) => sqlx::query_as::<_, T>(sql).fetch_all(pool).await,
        }
        .with_context(|| sql.to_string())
    }

    async fn close(self) {
        match self {
            Self::Sqlite(pool) => pool.close().await,
            Self::Postgres(pool) => pool.close().await,
        }
    }
}

/// A resource as the checks read it: title, `tag_names`, `file_key`, `file_size`.
type Row = (String, String, Option<String>, Option<i64>);

/// The checks of one kill.
async fn check(
    db: &TestDatabase,
    files: &Path,
    ledger: &Ledger,
    early_failures: usize,
) -> Result<Vec<Check>> {
    let pool = match db.backend {
        Backend::Sqlite => Db::Sqlite(SqlitePool::connect(&db.url).await?),
        Backend::Postgres => Db::Postgres(PgPool::connect(&db.url).await?),
    };
    let rows: Vec<Row> = pool
        .rows("SELECT title, tag_names, file_key, file_size FROM resources")
        .await?;
    let links: Vec<(String, String)> = pool
        .rows(
            "SELECT r.title, t.name FROM resources r \
             JOIN resource_tags rt ON rt.resource_id = r.id JOIN tags t ON t.id = rt.tag_id",
        )
        .await?;
    let garbage: Vec<(String,)> = pool.rows("SELECT key FROM blob_garbage").await?;
    let wrong_counts: Vec<(i64,)> = pool
        .rows(
            "SELECT count(*) FROM resource_counts c WHERE c.total <> \
             (SELECT count(*) FROM resources r WHERE r.owner_id = c.owner_id)",
        )
        .await?;
    let uncounted: Vec<(i64,)> = pool
        .rows(
            "SELECT count(*) FROM (SELECT DISTINCT owner_id FROM resources) o WHERE NOT EXISTS \
             (SELECT 1 FROM resource_counts c WHERE c.owner_id = o.owner_id)",
        )
        .await?;
    let integrity: Option<String> = match &pool {
        Db::Sqlite(_) => Some(
            pool.rows::<(String,)>("PRAGMA integrity_check")
                .await?
                .into_iter()
                .map(|(line,)| line)
                .collect::<Vec<_>>()
                .join("; "),
        ),
        Db::Postgres(_) => None,
    };
    pool.close().await;

    let ledger = ledger
        .lock()
        .map_err(|_| anyhow!("a client thread panicked holding the ledger"))?
        .clone();
    let mut linked: HashMap<&str, BTreeSet<String>> = HashMap::new();
    for (title, tag) in &links {
        linked
            .entry(title.as_str())
            .or_default()
            .insert(tag.clone());
    }
    let present: HashMap<&str, &Row> = rows.iter().map(|row| (row.0.as_str(), row)).collect();

    let mut partial = Vec::new();
    let mut presence = Vec::new();
    let mut files_wrong = Vec::new();
    let (mut acknowledged, mut unknown) = (0, 0);
    for (title, intent) in &ledger {
        match intent.created {
            Outcome::Acknowledged => acknowledged += 1,
            Outcome::Unknown => unknown += 1,
            Outcome::Refused => {}
        }
        let row = present.get(title.as_str());
        let may_exist = match (intent.created, intent.deleted) {
            (Outcome::Refused, _) | (_, Some(Outcome::Acknowledged)) => Some(false),
            (Outcome::Acknowledged, None | Some(Outcome::Refused)) => Some(true),
            _ => None,
        };
        if may_exist.is_some_and(|must| must != row.is_some()) {
            presence.push(format!(
                "{title}: created {:?}, deleted {:?}, present {}",
                intent.created,
                intent.deleted,
                row.is_some()
            ));
        }
        let Some((_, tag_names, file_key, file_size)) = row else {
            continue;
        };
        let listed: BTreeSet<String> = tag_names
            .split('\n')
            .filter(|name| !name.is_empty())
            .map(str::to_string)
            .collect();
        let joined = linked.get(title.as_str()).cloned().unwrap_or_default();
        if listed != intent.tags || joined != intent.tags {
            partial.push(format!(
                "{title}: sent {:?}, linked {joined:?}, tag_names {listed:?}",
                intent.tags
            ));
        }
        let attached = file_key.as_ref().map(|_| file_size.unwrap_or(-1));
        let fine = match intent.upload {
            None | Some((_, Outcome::Refused)) => attached.is_none(),
            Some((size, Outcome::Acknowledged)) => attached == i64::try_from(size).ok(),
            Some((size, Outcome::Unknown)) => {
                attached.is_none() || attached == i64::try_from(size).ok()
            }
        };
        if !fine {
            files_wrong.push(format!(
                "{title}: upload {:?}, attached size {attached:?}",
                intent.upload
            ));
        }
    }
    let strangers: Vec<&str> = rows
        .iter()
        .map(|row| row.0.as_str())
        .filter(|title| !ledger.contains_key(*title))
        .collect();

    let on_disk = blobs_on_disk(files)?;
    let referenced: HashMap<&str, i64> = rows
        .iter()
        .filter_map(|row| row.2.as_deref().map(|key| (key, row.3.unwrap_or(-1))))
        .collect();
    let queued: HashSet<&str> = garbage.iter().map(|(key,)| key.as_str()).collect();
    let missing: Vec<String> = referenced
        .iter()
        .filter(|(key, size)| {
            on_disk
                .get(**key)
                .is_none_or(|len| i64::try_from(*len).ok() != Some(**size))
        })
        .map(|(key, size)| format!("{key} ({size} bytes)"))
        .collect();
    let orphans: Vec<&String> = on_disk
        .keys()
        .filter(|key| !referenced.contains_key(key.as_str()) && !queued.contains(key.as_str()))
        .collect();
    let parts = count_files(&files.join(".tmp"));

    let first = |list: &[String]| list.iter().take(3).cloned().collect::<Vec<_>>().join("; ");
    let mut checks = vec![
        Check {
            what: "no request failed before the kill".into(),
            held: early_failures == 0,
            detail: format!("{early_failures} failed"),
        },
        Check {
            what: "rows exist exactly as acknowledged (none refused or deleted, none unasked)"
                .into(),
            held: presence.is_empty() && strangers.is_empty(),
            detail: format!(
                "{} rows; {acknowledged} creates acknowledged, {unknown} cut by the kill; {} \
                 wrong, {} unasked {}",
                rows.len(),
                presence.len(),
                strangers.len(),
                first(&presence)
            ),
        },
        Check {
            what: "no partial rows: each has exactly its request's tags".into(),
            held: partial.is_empty(),
            detail: format!("{} partial {}", partial.len(), first(&partial)),
        },
        Check {
            what: "uploads attached as acknowledged".into(),
            held: files_wrong.is_empty(),
            detail: format!("{} wrong {}", files_wrong.len(), first(&files_wrong)),
        },
        Check {
            what: "no missing blobs (each file_key on disk, of its size)".into(),
            held: missing.is_empty(),
            detail: format!(
                "{} referenced, {} missing {}",
                referenced.len(),
                missing.len(),
                first(&missing)
            ),
        },
        Check {
            what: "no orphan blobs (each blob referenced or queued in blob_garbage)".into(),
            held: orphans.is_empty(),
            detail: format!(
                "{} blobs on disk, {} queued for collection, {} orphans; {parts} partial \
                 uploads in .tmp",
                on_disk.len(),
                garbage.len(),
                orphans.len()
            ),
        },
        Check {
            what: "resource_counts equal COUNT(*) per owner".into(),
            held: wrong_counts.first().is_some_and(|(n,)| *n == 0)
                && uncounted.first().is_some_and(|(n,)| *n == 0),
            detail: format!(
                "{} wrong totals, {} owners without a row",
                wrong_counts.first().map_or(-1, |(n,)| *n),
                uncounted.first().map_or(-1, |(n,)| *n)
            ),
        },
    ];
    if let Some(integrity) = integrity {
        checks.push(Check {
            what: "SQLite integrity_check".into(),
            held: integrity == "ok",
            detail: integrity,
        });
    }
    Ok(checks)
}

/// Every blob under `root` (outside `.tmp`) by key, with its length.
fn blobs_on_disk(root: &Path) -> Result<HashMap<String, u64>> {
    fn walk(root: &Path, dir: &Path, found: &mut HashMap<String, u64>) -> Result<()> {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return Ok(());
        };
        for entry in entries {
            let entry = entry?;
            let path = entry.path();
            if path.file_name().is_some_and(|n| n == ".tmp") {
                continue;
            }
            let meta = entry.metadata()?;
            if meta.is_dir() {
                walk(root, &path, found)?;
            } else {
                let key = path
                    .strip_prefix(root)?
                    .to_string_lossy()
                    .replace(std::path::MAIN_SEPARATOR, "/");
                found.insert(key, meta.len());
            }
        }
        Ok(())
    }
    let mut found = HashMap::new();
    walk(root, root, &mut found)?;
    Ok(found)
}

/// Regular files directly in `dir` (0 when it does not exist).
fn count_files(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .map(|entries| entries.filter_map(Result::ok).count())
        .unwrap_or(0)
}
