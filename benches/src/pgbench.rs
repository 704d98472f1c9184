//! The database's own ceiling for the `create` scenarios: `pgbench` committing the same rows
//! that `POST /api/resources` with three existing tags writes (one resource row, three tag
//! links, the triggers that keep the owner's counts), straight into Vault's tables, spread
//! over the same accounts, with prepared statements as Vault uses them.

use std::path::Path;
use std::process::{Command, Stdio};

use anyhow::{bail, Context, Result};

/// The tags every written resource carries (they exist before the measured load).
pub const TAGS: [&str; 3] = ["alpha", "beta", "gamma"];

/// The body of every `POST /api/resources` of the `create` scenarios.
pub fn create_body() -> String {
    serde_json::json!({
        "kind": "note",
        "title": "Written under load",
        "body": "A note written by the load bench, with a few words to index.",
        "tags": TAGS,
    })
    .to_string()
}

/// Makes the tables the pgbench script reads its accounts from: `bench_writers` numbers the
/// accounts whose names start with `prefix` from 1, `bench_writer_tags` holds each one's
/// [`TAGS`].
///
/// # Errors
/// When a statement fails, or an account lacks its tags.
pub async fn prepare(pool: &sqlx::PgPool, prefix: &str) -> Result<i64> {
    sqlx::query("DROP TABLE IF EXISTS bench_writers, bench_writer_tags")
        .execute(pool)
        .await?;
    sqlx::query(
        "CREATE TABLE bench_writers AS SELECT row_number() OVER (ORDER BY username) AS n, \
         id AS owner_id FROM users WHERE username LIKE $1 || '%'",
    )
    .bind(prefix)
    .execute(pool)
    .await?;
    sqlx::query(
        "CREATE TABLE bench_writer_tags AS SELECT w.n, t.id AS tag_id FROM bench_writers w \
         JOIN tags t ON t.owner_id = w.owner_id AND t.name = ANY($1)",
    )
    .bind(&TAGS[..])
    .execute(pool)
    .await?;
    let (writers, links): (i64, i64) = sqlx::query_as(
        "SELECT (SELECT count(*) FROM bench_writers), (SELECT count(*) FROM bench_writer_tags)",
    )
    .fetch_one(pool)
    .await?;
    if writers == 0 || links != writers * 3 {
        bail!("{writers} accounts with {links} tag links: expected 3 tags each");
    }
    Ok(writers)
}

/// The pgbench script: one transaction per resource, as Vault commits it.
fn script(writers: i64) -> String {
    format!(
        "\\set u random(1, {writers})\n\
         BEGIN;\n\
         INSERT INTO resources (id, owner_id, kind, title, body, tag_names, created_at, updated_at) \
         SELECT gen_random_uuid(), owner_id, 'note', 'Written by pgbench', \
         'A note written by pgbench, with a few words to index.', E'alpha\\nbeta\\ngamma', now(), now() \
         FROM bench_writers WHERE n = :u RETURNING id AS rid \\gset\n\
         INSERT INTO resource_tags (resource_id, tag_id) \
         SELECT CAST(:rid AS uuid), tag_id FROM bench_writer_tags WHERE n = :u;\n\
         END;\n"
    )
}

/// Runs the script on `url` with `clients` connections for `seconds` and returns the
/// committed transactions per second.
///
/// # Errors
/// When pgbench is missing or fails, or prints no rate.
pub fn run(url: &str, dir: &Path, writers: i64, clients: u32, seconds: u32) -> Result<f64> {
    let file = dir.join("create.pgbench");
    std::fs::write(&file, script(writers))?;
    let output = Command::new("pgbench")
        .args(["-n", "-M", "prepared", "-j", "2"])
        .arg(format!("-c{clients}"))
        .arg(format!("-T{seconds}"))
        .arg("-f")
        .arg(&file)
        .arg(url)
        .stdin(Stdio::null())
        .output()
        .context("starting pgbench (it comes with PostgreSQL's client tools)")?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    if !output.status.success() {
        bail!(
            "pgbench failed ({}): {stdout}{}",
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
    }
    tps(&stdout).with_context(|| format!("no rate in pgbench's output: {stdout}"))
}

/// The `tps = N` figure of pgbench's report.
fn tps(report: &str) -> Option<f64> {
    report
        .lines()
        .find_map(|line| line.strip_prefix("tps = "))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|number| number.parse().ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_rate_of_a_report() {
        let report = "number of transactions actually processed: 33000\n\
                      latency average = 9.7 ms\n\
                      initial connection time = 25.1 ms\n\
                      tps = 3301.914620 (without initial connection time)\n";
        assert_eq!(tps(report), Some(3301.914620));
        assert_eq!(tps("pgbench: error: connection failed\n"), None);
    }

    #[test]
    fn the_script_writes_one_resource_and_three_links_per_transaction() {
        let script = script(32);
        assert!(script.starts_with("\\set u random(1, 32)\n"));
        assert_eq!(script.matches("INSERT INTO").count(), 2);
        assert!(script.contains("\\gset"));
    }
}
