//! What the example servers share: configuration from `VAULT_*` environment variables, the
//! dev-friendly JWT secret file, the `create-admin` subcommand and graceful shutdown. Hosts
//! with their own configuration system do not need this module.
//!
//! | variable | default | meaning |
//! |---|---|---|
//! | `VAULT_BIND` | `127.0.0.1:8000` | address:port to listen on |
//! | `VAULT_DATABASE_URL` | `sqlite://vault.db` | `sqlite://…` or `postgres://…` |
//! | `VAULT_JWT_SECRET` | generated, kept in a 0600 file beside the database (refused if group or others may read it) | HS256 secret, ≥ 32 bytes |
//! | `VAULT_THROTTLE_AUTH_IP` | `10/min` | register/token/refresh per client IP |
//! | `VAULT_THROTTLE_AUTH_USER` | `10/min` | failed logins per login name as typed, wrong current passwords per account |
//! | `VAULT_THROTTLE_ANON` | `100/min` | other requests per anonymous IP |
//! | `VAULT_THROTTLE_USER` | `1000/min` | other requests per user |
//! | `VAULT_TRUST_FORWARDED_FOR` | `false` | take client IPs from the last `X-Forwarded-For` entry (behind a proxy only) |
//! | `VAULT_HEADER_READ_TIMEOUT` | `10` | seconds a client may take to send a request's headers (also the idle keep-alive time) |
//! | `VAULT_BODY_IDLE_TIMEOUT` | `30` | seconds a request body may go without bytes before it is answered 408 |
//! | `VAULT_SHUTDOWN_GRACE_SECONDS` | `30` | seconds a shutdown (SIGTERM, Ctrl-C) waits for the requests in flight; `0` drops them at once |
//! | `VAULT_PUBLIC_URL` | none | public base URL for absolute pagination links |
//! | `VAULT_UPLOAD_MAX_BYTES` | `26214400` (25 MiB) | largest file upload |
//! | `VAULT_MAX_CONNECTIONS` | `10` | database connections in the pool (≥ 1) |
//! | `VAULT_HASH_PINNED` | `false` | keep the password-hashing threads on the last CPUs (Linux) |
//! | `VAULT_FILES_DIR` | `<database>.files` | local directory of file blobs |
//! | `VAULT_S3_BUCKET` | unset | store file blobs in this S3 bucket instead (feature `s3`) |
//! | `VAULT_S3_ENDPOINT`, `VAULT_S3_REGION` | AWS, `us-east-1` | S3-compatible endpoint (MinIO, …) and region |
//! | `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY` | instance role | S3 credentials |
//! | `VAULT_TIME_ZONE` | `UTC` | IANA time zone whose days the flashcards count (today's reviews, streaks, the daily new-card limit) |
//! | `VAULT_ADMIN_PASSWORD` | typed (no echo) or read from stdin | password for `create-admin` |

use std::io::{BufRead, IsTerminal as _, Write};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use crate::config::{Config, Rate, Secret};
use crate::error::{Error, Result};
use crate::principal::Role;
use crate::Vault;

/// Default listen address of the example servers.
pub const DEFAULT_BIND: &str = "127.0.0.1:8000";
/// Default database of the example servers: a SQLite file in the working directory.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://vault.db";

/// What the command line asked for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// Serve the API (no arguments).
    Serve,
    /// `create-admin <username> <email>`: create an administrator and exit.
    CreateAdmin {
        /// Username of the new admin.
        username: String,
        /// Email of the new admin.
        email: String,
    },
    /// `--help` or `-h`, anywhere: print [`usage`] on stdout and exit successfully.
    Help,
}

/// A command line [`parse_args`] refuses. Binaries print it and [`usage`] on stderr and exit
/// with [`USAGE_EXIT_CODE`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UsageError(pub String);

impl std::fmt::Display for UsageError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for UsageError {}

/// The exit code of a wrong invocation (the usual code for command-line misuse, distinct
/// from the 1 of a failure at run time).
pub const USAGE_EXIT_CODE: u8 = 2;

/// Parses the arguments after the program name.
///
/// # Errors
/// [`UsageError`] saying what is wrong: an unknown command or option, or `create-admin`
/// without exactly a username and an email.
pub fn parse_args(args: &[String]) -> std::result::Result<Command, UsageError> {
    if args.iter().any(|arg| arg == "--help" || arg == "-h") {
        return Ok(Command::Help);
    }
    match args {
        [] => Ok(Command::Serve),
        [cmd, rest @ ..] if cmd == "create-admin" => match rest {
            [username, email] if !username.starts_with('-') && !email.starts_with('-') => {
                Ok(Command::CreateAdmin {
                    username: username.clone(),
                    email: email.clone(),
                })
            }
            _ => Err(UsageError(
                "create-admin takes exactly two arguments: <username> <email>".into(),
            )),
        },
        [option, ..] if option.starts_with('-') => {
            Err(UsageError(format!("unknown option {option:?}")))
        }
        [cmd, ..] => Err(UsageError(format!("unknown command {cmd:?}"))),
    }
}

/// The help text: subcommands, how `create-admin` gets its password, the main environment
/// variables (all of them are in this module's documentation).
pub fn usage() -> String {
    let program = std::env::args_os()
        .next()
        .and_then(|arg0| {
            Path::new(&arg0)
                .file_name()
                .map(|name| name.to_string_lossy().into_owned())
        })
        .unwrap_or_else(|| "vault-server".to_string());
    format!(
        "\
Vault's HTTP API server.

usage:
  {program}                                  serve the API
  {program} create-admin <username> <email>  create an administrator, then exit
  {program} --help | -h                      print this help

create-admin takes the password from VAULT_ADMIN_PASSWORD when it is set; otherwise it asks
for it without echo when stdin is a terminal, or reads one line of stdin. It must pass the
same strength check as a registration.

environment (defaults in brackets):
  VAULT_BIND               address:port to listen on [{DEFAULT_BIND}]
  VAULT_DATABASE_URL       sqlite://... or postgres://... [{DEFAULT_DATABASE_URL}]
  VAULT_JWT_SECRET         HS256 secret, at least 32 bytes [generated into a 0600 file
                           beside the database]
  VAULT_PUBLIC_URL         public base URL for absolute pagination links
  VAULT_TRUST_FORWARDED_FOR
                           client IPs from X-Forwarded-For, behind a proxy only [false]
  VAULT_HEADER_READ_TIMEOUT, VAULT_BODY_IDLE_TIMEOUT
                           seconds for a request's headers [10], between body bytes [30]
  VAULT_SHUTDOWN_GRACE_SECONDS
                           seconds a shutdown waits for the requests in flight [30]
  VAULT_THROTTLE_AUTH_IP, VAULT_THROTTLE_AUTH_USER, VAULT_THROTTLE_ANON, VAULT_THROTTLE_USER
                           rate limits such as 10/min, or off
  VAULT_MAX_CONNECTIONS    database connections [10]
  VAULT_FILES_DIR          directory of uploaded files [<database>.files]
  VAULT_S3_BUCKET, VAULT_S3_ENDPOINT, VAULT_S3_REGION  files in S3 instead (feature s3)
  VAULT_TIME_ZONE          IANA time zone of the flashcards' days [UTC]
  VAULT_ADMIN_PASSWORD     password for create-admin
  RUST_LOG                 log filter [info]
"
    )
}

/// Server settings read from the environment.
#[derive(Debug)]
pub struct Settings {
    /// The S3 bucket for file blobs (`VAULT_S3_*`), if one is configured.
    pub s3_bucket: Option<String>,
    /// Where to listen.
    pub bind: SocketAddr,
    /// Vault's configuration.
    pub config: Config,
    /// Where the generated secret lives, when `VAULT_JWT_SECRET` was not set.
    pub secret_file: Option<PathBuf>,
}

/// Reads [`Settings`] through `var` (normally `std::env::var`), creating the secret file if
/// needed.
///
/// # Errors
/// [`Error::Config`] for malformed values; I/O errors on the secret file.
pub fn settings_from(var: impl Fn(&str) -> Option<String>) -> Result<Settings> {
    let bind_text = var("VAULT_BIND").unwrap_or_else(|| DEFAULT_BIND.to_string());
    let bind: SocketAddr = bind_text
        .parse()
        .map_err(|_| Error::Config(format!("VAULT_BIND {bind_text:?} is not address:port")))?;
    let database_url =
        var("VAULT_DATABASE_URL").unwrap_or_else(|| DEFAULT_DATABASE_URL.to_string());
    let (secret, secret_file) = jwt_secret(&var, &database_url)?;
    let mut config = Config::new(database_url, secret);
    for (name, slot) in [
        ("VAULT_THROTTLE_AUTH_IP", &mut config.throttle.auth_ip),
        ("VAULT_THROTTLE_AUTH_USER", &mut config.throttle.auth_user),
        ("VAULT_THROTTLE_ANON", &mut config.throttle.anon),
        ("VAULT_THROTTLE_USER", &mut config.throttle.user),
    ] {
        if let Some(text) = var(name) {
            *slot = Rate::parse_limit(&text).map_err(|e| Error::Config(format!("{name}: {e}")))?;
        }
    }
    if let Some(flag) = var("VAULT_TRUST_FORWARDED_FOR") {
        config.http.trust_forwarded_for = is_on(&flag);
    }
    for (name, slot) in [
        (
            "VAULT_HEADER_READ_TIMEOUT",
            &mut config.http.header_read_timeout,
        ),
        (
            "VAULT_BODY_IDLE_TIMEOUT",
            &mut config.http.body_idle_timeout,
        ),
    ] {
        if let Some(text) = var(name) {
            *slot = seconds(name, &text, 1)?;
        }
    }
    if let Some(text) = var("VAULT_SHUTDOWN_GRACE_SECONDS") {
        config.http.shutdown_grace = seconds("VAULT_SHUTDOWN_GRACE_SECONDS", &text, 0)?;
    }
    if let Some(flag) = var("VAULT_HASH_PINNED") {
        config.auth.hashing.pinned = is_on(&flag);
    }
    config.http.public_base_url =
        var("VAULT_PUBLIC_URL").map(|u| u.trim_end_matches('/').to_string());
    if let Some(max) = var("VAULT_UPLOAD_MAX_BYTES") {
        config.resources.uploads.max_bytes = max.trim().parse().map_err(|_| {
            Error::Config(format!(
                "VAULT_UPLOAD_MAX_BYTES {max:?} is not a number of bytes"
            ))
        })?;
    }
    if let Some(max) = var("VAULT_MAX_CONNECTIONS") {
        config.database.max_connections = max.trim().parse().map_err(|_| {
            Error::Config(format!(
                "VAULT_MAX_CONNECTIONS {max:?} is not a number of connections"
            ))
        })?;
    }
    config.resources.blob_dir = var("VAULT_FILES_DIR").map(PathBuf::from);
    if let Some(zone) = var("VAULT_TIME_ZONE") {
        config.flashcards.time_zone = crate::config::FlashcardsConfig::parse_time_zone(&zone)
            .map_err(|e| Error::Config(format!("VAULT_TIME_ZONE: {e}")))?;
    }
    config.validate()?;
    Ok(Settings {
        s3_bucket: var("VAULT_S3_BUCKET").filter(|b| !b.is_empty()),
        bind,
        config,
        secret_file,
    })
}

/// A duration variable: whole seconds, at least `min`.
fn seconds(name: &str, text: &str, min: u64) -> Result<std::time::Duration> {
    match text.trim().parse::<u64>() {
        Ok(secs) if secs >= min => Ok(std::time::Duration::from_secs(secs)),
        _ => Err(Error::Config(format!(
            "{name} {text:?} is not a whole number of seconds (at least {min})"
        ))),
    }
}

/// Whether a flag variable says yes (`1`, `true`, `yes`, `on`); anything else is no.
fn is_on(flag: &str) -> bool {
    matches!(flag.trim(), "1" | "true" | "yes" | "on")
}

/// Where the generated secret of a database lives: beside a SQLite file
/// (`vault.db` → `vault.db.jwt-secret`), or `vault.jwt-secret` in the working directory.
pub fn secret_path(database_url: &str) -> PathBuf {
    let file = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .map(|rest| rest.split('?').next().unwrap_or_default())
        .filter(|path| !path.is_empty() && !path.starts_with(":memory:"));
    match file {
        Some(path) => PathBuf::from(format!("{path}.jwt-secret")),
        None => PathBuf::from("vault.jwt-secret"),
    }
}

/// The JWT secret as the example servers find it, for any program that wants the same zero
/// set-up: `VAULT_JWT_SECRET` read through `var` (normally `|name| std::env::var(name).ok()`),
/// or else the secret generated once into the file [`secret_path`] names for `database_url`
/// (see [`load_or_create_secret`]). The path is returned when the secret came from that file.
///
/// Generating the file logs a warning that names it and says to set `VAULT_JWT_SECRET` in
/// production.
///
/// # Errors
/// [`Error::Config`] when the file cannot be read or written or holds too short a secret. A
/// `VAULT_JWT_SECRET` that is too short is refused later, by [`Config::validate`].
pub fn jwt_secret(
    var: impl Fn(&str) -> Option<String>,
    database_url: &str,
) -> Result<(Secret, Option<PathBuf>)> {
    if let Some(secret) = var("VAULT_JWT_SECRET") {
        return Ok((Secret::new(secret.into_bytes()), None));
    }
    let path = secret_path(database_url);
    let (secret, created) = load_or_create(&path)?;
    if created {
        tracing::warn!(
            path = %path.display(),
            "VAULT_JWT_SECRET is not set: generated a JWT secret and stored it in this file \
             (mode 0600); keep it private, and set VAULT_JWT_SECRET in production"
        );
    }
    Ok((secret, Some(path)))
}

/// Reads the secret at `path`, or creates it (48 random bytes, base64url, mode 0600) if absent.
/// Creating it logs a warning that names the file.
///
/// # Errors
/// [`Error::Config`] when the file cannot be read or written or holds too short a secret.
pub fn load_or_create_secret(path: &Path) -> Result<Secret> {
    let (secret, created) = load_or_create(path)?;
    if created {
        tracing::warn!(
            path = %path.display(),
            "generated a JWT secret and stored it in this file (mode 0600); keep it private"
        );
    }
    Ok(secret)
}

/// [`load_or_create_secret`] without its warning (each caller words its own), and whether the
/// file was created.
fn load_or_create(path: &Path) -> Result<(Secret, bool)> {
    use base64::Engine as _;
    let io_error =
        |e: std::io::Error| Error::Config(format!("JWT secret file {}: {e}", path.display()));
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    match options.open(path) {
        Ok(mut file) => {
            let mut bytes = [0u8; 48];
            getrandom::fill(&mut bytes).map_err(Error::internal)?;
            let text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes);
            file.write_all(text.as_bytes()).map_err(io_error)?;
            file.sync_all().map_err(io_error)?;
            Ok((Secret::new(text.into_bytes()), true))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let secret = read_existing_secret(path)?;
            tracing::info!(path = %path.display(), "using the JWT secret stored in this file");
            Ok((secret, false))
        }
        Err(e) => Err(io_error(e)),
    }
}

/// The most bytes a secret file may hold: a generated one has 64, a hand-written one a few
/// hundred at most. Anything longer is not a secret file.
const MAX_SECRET_FILE_BYTES: u64 = 4096;

/// Reads the secret file that exists at `path`, refusing one that others may read.
///
/// A secret file that group or others can read or write (any of the mode bits `0o077`, as
/// `0644` from a copy or an editor) is refused rather than used with a warning: whoever can
/// read it can sign access tokens for any account, and a warning in a log nobody reads keeps
/// that open. The error says how to fix it (`chmod 600`, or `VAULT_JWT_SECRET`). Mode and
/// contents come from one open file, so the file cannot be swapped between the check and the
/// read; it must be a regular file of at most [`MAX_SECRET_FILE_BYTES`].
fn read_existing_secret(path: &Path) -> Result<Secret> {
    use std::io::Read as _;
    let shown = path.display();
    let io_error = |e: std::io::Error| Error::Config(format!("JWT secret file {shown}: {e}"));
    let file = std::fs::File::open(path).map_err(io_error)?;
    let meta = file.metadata().map_err(io_error)?;
    if !meta.is_file() {
        return Err(Error::Config(format!(
            "JWT secret file {shown} is not a regular file"
        )));
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(Error::Config(format!(
                "JWT secret file {shown} has mode {mode:04o}: group and others may use it, and \
                 whoever reads it can sign tokens for any account. Run `chmod 600 {shown}` \
                 (and check who read it), or set VAULT_JWT_SECRET instead"
            )));
        }
    }
    let mut bytes = Vec::new();
    file.take(MAX_SECRET_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(io_error)?;
    if bytes.len() as u64 > MAX_SECRET_FILE_BYTES {
        return Err(Error::Config(format!(
            "JWT secret file {shown} is larger than {MAX_SECRET_FILE_BYTES} bytes"
        )));
    }
    let text = String::from_utf8(bytes)
        .map_err(|_| Error::Config(format!("JWT secret file {shown} is not UTF-8 text")))?;
    let text = text.trim();
    if text.len() < 32 {
        return Err(Error::Config(format!(
            "JWT secret file {shown} holds fewer than 32 bytes"
        )));
    }
    Ok(Secret::new(text.as_bytes().to_vec()))
}

/// What [`start`] leaves to the server binary.
#[derive(Debug)]
pub enum Start {
    /// Serve `vault` on `bind`.
    Serve {
        /// The opened vault.
        vault: Vault,
        /// Where to listen.
        bind: SocketAddr,
    },
    /// A subcommand ran, or the help was printed; exit successfully.
    Done,
}

/// Runs `command` (from [`parse_args`]): prints the help (touching nothing else), or reads
/// the environment, opens the vault and serves or runs `create-admin`.
///
/// # Errors
/// Configuration, database and validation errors (a weak admin password among them), ready
/// to print.
pub async fn start(command: Command) -> Result<Start> {
    let admin = match command {
        Command::Help => {
            print!("{}", usage());
            return Ok(Start::Done);
        }
        Command::Serve => None,
        Command::CreateAdmin { username, email } => Some((username, email)),
    };
    let settings = settings_from(|name| std::env::var(name).ok())?;
    let mut builder = Vault::builder(settings.config);
    if let Some(bucket) = settings.s3_bucket {
        builder = builder.blob_store(s3_store(bucket)?);
    }
    let vault = builder.build().await?;
    match admin {
        None => Ok(Start::Serve {
            vault,
            bind: settings.bind,
        }),
        Some((username, email)) => {
            let created = create_admin(&vault, &username, &email).await;
            vault.database().close().await;
            let user = created?;
            println!("created admin {} ({})", user.username, user.id);
            Ok(Start::Done)
        }
    }
}

/// `create-admin`: the password from `VAULT_ADMIN_PASSWORD`, else typed without echo on a
/// terminal, else one line of stdin; checked like a registration's.
async fn create_admin(vault: &Vault, username: &str, email: &str) -> Result<crate::auth::User> {
    let password = match std::env::var("VAULT_ADMIN_PASSWORD") {
        Ok(password) => password,
        Err(_) if std::io::stdin().is_terminal() => prompt_password()?,
        Err(_) => read_password_line(&mut std::io::stdin().lock())?,
    };
    vault
        .auth()
        .create_user(username, email, &password, Role::Admin)
        .await
}

#[cfg(feature = "s3")]
fn s3_store(bucket: String) -> Result<std::sync::Arc<dyn crate::blob::BlobStore>> {
    let var = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
    let mut config = crate::blob::S3Config::new(bucket);
    if let Some(region) = var("VAULT_S3_REGION") {
        config.region = region;
    }
    config.endpoint = var("VAULT_S3_ENDPOINT");
    config.allow_http = config
        .endpoint
        .as_deref()
        .is_some_and(|e| e.starts_with("http://"));
    config.access_key_id = var("AWS_ACCESS_KEY_ID");
    config.secret_access_key = var("AWS_SECRET_ACCESS_KEY").map(|s| Secret::new(s.into_bytes()));
    tracing::info!(bucket = %config.bucket, endpoint = ?config.endpoint, "file blobs in S3");
    Ok(std::sync::Arc::new(crate::blob::S3BlobStore::new(config)?))
}

#[cfg(not(feature = "s3"))]
fn s3_store(_bucket: String) -> Result<std::sync::Arc<dyn crate::blob::BlobStore>> {
    Err(Error::Config(
        "VAULT_S3_BUCKET is set but this build has no S3 support: rebuild with `--features s3`"
            .into(),
    ))
}

/// Asks for the password twice on the terminal, without echo: a typo cannot be seen, so it
/// is caught by the second entry instead.
fn prompt_password() -> Result<String> {
    let read = |prompt: &str| {
        rpassword::prompt_password(prompt)
            .map_err(|e| Error::Config(format!("reading the password from the terminal: {e}")))
    };
    let password = read("password for the new admin: ")?;
    if read("the same password again: ")? != password {
        return Err(Error::Config(
            "the two passwords differ; nothing was created".into(),
        ));
    }
    Ok(password)
}

/// One line of `input` (piped stdin), without its line ending. No prompt: nobody reads it.
fn read_password_line(input: &mut impl BufRead) -> Result<String> {
    let mut line = String::new();
    let read = input
        .read_line(&mut line)
        .map_err(|e| Error::Config(format!("reading the password from stdin: {e}")))?;
    if read == 0 {
        return Err(Error::Config(
            "no password: stdin ended before a line; set VAULT_ADMIN_PASSWORD or pipe the \
             password on stdin"
                .into(),
        ));
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_string())
}

/// Describes an error for the terminal, including field errors.
pub fn describe(error: &Error) -> String {
    match error {
        Error::Validation(fields) | Error::Conflict(fields) => {
            let detail = serde_json::to_string(fields).unwrap_or_default();
            format!("{}: {detail}", error.to_problem().detail)
        }
        Error::Config(text) | Error::Unavailable(text) | Error::Internal(text) => text.clone(),
        other => other.to_problem().detail,
    }
}

/// Resolves when the process receives SIGINT (Ctrl-C) or SIGTERM.
pub async fn shutdown_signal() {
    let interrupt = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => {},
        () = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}

#[cfg(test)]
#[path = "cli_tests.rs"]
mod tests;
