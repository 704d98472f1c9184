use std::collections::HashMap;
use std::time::Duration;

use super::*;

fn env(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| ((*k).into(), (*v).into()))
        .collect();
    move |name| map.get(name).cloned()
}

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|a| (*a).to_string()).collect()
}

#[test]
fn arguments() {
    assert_eq!(parse_args(&[]).unwrap(), Command::Serve);
    assert_eq!(
        parse_args(&args(&["create-admin", "root", "root@example.com"])).unwrap(),
        Command::CreateAdmin {
            username: "root".into(),
            email: "root@example.com".into()
        }
    );
    for help in [
        &["--help"][..],
        &["-h"],
        &["create-admin", "--help"],
        &["create-admin", "root", "-h"],
        &["serve", "--help"],
    ] {
        assert_eq!(parse_args(&args(help)).unwrap(), Command::Help, "{help:?}");
    }
    for (wrong, says) in [
        (&["serve"][..], "unknown command \"serve\""),
        (&["--verbose"], "unknown option \"--verbose\""),
        (&["create-admin"], "<username> <email>"),
        (&["create-admin", "root"], "<username> <email>"),
        (
            &["create-admin", "root", "root@example.com", "x"],
            "<username> <email>",
        ),
        (&["create-admin", "root", "--email"], "<username> <email>"),
    ] {
        let error = parse_args(&args(wrong)).unwrap_err();
        assert!(error.to_string().contains(says), "{wrong:?}: {error}");
    }
}

#[test]
fn usage_lists_the_subcommands_and_the_environment() {
    let text = usage();
    for expected in [
        "create-admin <username> <email>",
        "--help",
        "VAULT_ADMIN_PASSWORD",
        "VAULT_DATABASE_URL",
        "VAULT_JWT_SECRET",
        "VAULT_HEADER_READ_TIMEOUT",
        "VAULT_BODY_IDLE_TIMEOUT",
        "VAULT_SHUTDOWN_GRACE_SECONDS",
        "VAULT_TIME_ZONE",
        DEFAULT_BIND,
    ] {
        assert!(text.contains(expected), "{expected} missing from:\n{text}");
    }
}

#[test]
fn a_piped_password_is_one_line_without_its_ending() {
    let read = |input: &str| read_password_line(&mut std::io::Cursor::new(input));
    assert_eq!(read("secret words\n").unwrap(), "secret words");
    assert_eq!(read("secret words\r\nignored\n").unwrap(), "secret words");
    assert_eq!(read("no newline").unwrap(), "no newline");
    assert_eq!(
        read("\n").unwrap(),
        "",
        "an empty line is left to the strength check"
    );
    assert!(matches!(read(""), Err(Error::Config(m)) if m.contains("no password")));
}

#[test]
fn the_flashcards_time_zone_is_an_iana_name() {
    let secret = "x".repeat(40);
    let s = settings_from(env(&[("VAULT_JWT_SECRET", &secret)])).unwrap();
    assert_eq!(s.config.flashcards.time_zone, chrono_tz::Tz::UTC);
    let s = settings_from(env(&[
        ("VAULT_JWT_SECRET", &secret),
        ("VAULT_TIME_ZONE", "America/Sao_Paulo"),
    ]))
    .unwrap();
    assert_eq!(
        s.config.flashcards.time_zone,
        chrono_tz::Tz::America__Sao_Paulo
    );
    let Err(Error::Config(message)) = settings_from(env(&[
        ("VAULT_JWT_SECRET", &secret),
        ("VAULT_TIME_ZONE", "Nowhere/Special"),
    ])) else {
        panic!("an unknown time zone was accepted");
    };
    assert!(message.contains("VAULT_TIME_ZONE"), "{message}");
}

#[test]
fn settings_defaults_and_overrides() {
    let secret = "x".repeat(40);
    let s = settings_from(env(&[("VAULT_JWT_SECRET", &secret)])).unwrap();
    assert_eq!(s.bind.to_string(), DEFAULT_BIND);
    assert_eq!(s.config.database.url, DEFAULT_DATABASE_URL);
    assert!(s.secret_file.is_none());
    assert!(!s.config.auth.hashing.pinned, "pinning is opt-in");
    assert!(!s.config.http.trust_forwarded_for);
    for (flag, pinned) in [("true", true), ("1", true), ("on", true), ("false", false)] {
        let s = settings_from(env(&[
            ("VAULT_JWT_SECRET", &secret),
            ("VAULT_HASH_PINNED", flag),
            ("VAULT_TRUST_FORWARDED_FOR", flag),
        ]))
        .unwrap();
        assert_eq!(s.config.auth.hashing.pinned, pinned, "{flag}");
        assert_eq!(s.config.http.trust_forwarded_for, pinned, "{flag}");
    }
    let s = settings_from(env(&[
        ("VAULT_JWT_SECRET", &secret),
        ("VAULT_BIND", "0.0.0.0:9000"),
        ("VAULT_THROTTLE_AUTH_IP", "off"),
        ("VAULT_THROTTLE_USER", "5/s"),
        ("VAULT_MAX_CONNECTIONS", "32"),
    ]))
    .unwrap();
    assert_eq!(s.bind.port(), 9000);
    assert_eq!(s.config.database.max_connections, 32);
    assert_eq!(s.config.http.header_read_timeout, Duration::from_secs(10));
    assert_eq!(s.config.http.body_idle_timeout, Duration::from_secs(30));
    assert_eq!(s.config.http.shutdown_grace, Duration::from_secs(30));
    let timeouts = settings_from(env(&[
        ("VAULT_JWT_SECRET", &secret),
        ("VAULT_HEADER_READ_TIMEOUT", "3"),
        ("VAULT_BODY_IDLE_TIMEOUT", " 120 "),
        ("VAULT_SHUTDOWN_GRACE_SECONDS", "5"),
    ]))
    .unwrap();
    assert_eq!(timeouts.config.http.shutdown_grace, Duration::from_secs(5));
    let at_once = settings_from(env(&[
        ("VAULT_JWT_SECRET", &secret),
        ("VAULT_SHUTDOWN_GRACE_SECONDS", "0"),
    ]))
    .unwrap();
    assert_eq!(at_once.config.http.shutdown_grace, Duration::ZERO);
    for bad in ["-1", "1.5", "30s", "", "forever"] {
        let Err(Error::Config(message)) = settings_from(env(&[
            ("VAULT_JWT_SECRET", &secret),
            ("VAULT_SHUTDOWN_GRACE_SECONDS", bad),
        ])) else {
            panic!("VAULT_SHUTDOWN_GRACE_SECONDS={bad:?} was accepted");
        };
        assert!(
            message.contains("VAULT_SHUTDOWN_GRACE_SECONDS"),
            "{message}"
        );
    }
    assert_eq!(
        timeouts.config.http.header_read_timeout,
        Duration::from_secs(3)
    );
    assert_eq!(
        timeouts.config.http.body_idle_timeout,
        Duration::from_secs(120)
    );
    for name in ["VAULT_HEADER_READ_TIMEOUT", "VAULT_BODY_IDLE_TIMEOUT"] {
        for bad in ["0", "-1", "1.5", "10s", "", "forever"] {
            let Err(Error::Config(message)) =
                settings_from(env(&[("VAULT_JWT_SECRET", &secret), (name, bad)]))
            else {
                panic!("{name}={bad:?} was accepted");
            };
            assert!(message.contains(name), "{message}");
        }
    }
    for bad in ["0", "many", "-1"] {
        assert!(settings_from(env(&[
            ("VAULT_JWT_SECRET", &secret),
            ("VAULT_MAX_CONNECTIONS", bad)
        ]))
        .is_err());
    }
    assert_eq!(s.config.throttle.auth_ip, None);
    assert_eq!(s.config.throttle.user, Some("5/s".parse().unwrap()));
    assert!(settings_from(env(&[
        ("VAULT_JWT_SECRET", &secret),
        ("VAULT_THROTTLE_ANON", "lots")
    ]))
    .is_err());
    assert!(settings_from(env(&[("VAULT_JWT_SECRET", "short")])).is_err());
    assert!(settings_from(env(&[
        ("VAULT_JWT_SECRET", &secret),
        ("VAULT_BIND", "nope")
    ]))
    .is_err());
}

#[test]
fn secret_file_is_created_once_with_0600() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db.jwt-secret");
    let first = load_or_create_secret(&path).unwrap();
    let second = load_or_create_secret(&path).unwrap();
    assert_eq!(first.expose(), second.expose());
    assert!(first.expose().len() >= 32);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
    }
    assert_eq!(
        secret_path("sqlite://data/vault.db?mode=rwc"),
        PathBuf::from("data/vault.db.jwt-secret")
    );
    assert_eq!(
        secret_path("postgres://h/db"),
        PathBuf::from("vault.jwt-secret")
    );
}

/// A secret file others may read is refused, with the fix in the message; so is anything
/// that is not a small regular text file. Nothing is rewritten.
#[cfg(unix)]
#[test]
fn a_secret_file_others_can_read_is_refused() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("vault.db.jwt-secret");
    let secret = load_or_create_secret(&path).unwrap();
    let set_mode = |mode: u32| {
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
    };
    for mode in [0o644, 0o640, 0o604, 0o620, 0o602, 0o610, 0o666, 0o777] {
        set_mode(mode);
        let Err(Error::Config(message)) = load_or_create_secret(&path) else {
            panic!("mode {mode:o} was accepted");
        };
        assert!(message.contains(&format!("{mode:04o}")), "{message}");
        assert!(message.contains("chmod 600"), "{message}");
        assert!(message.contains("VAULT_JWT_SECRET"), "{message}");
        assert!(
            !message.contains(std::str::from_utf8(secret.expose()).unwrap()),
            "the message shows the secret: {message}"
        );
        let mode_now = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode_now, mode, "the file was changed");
    }
    // The owner alone, read-write or read-only: used.
    for mode in [0o600, 0o400] {
        set_mode(mode);
        let again = load_or_create_secret(&path).unwrap();
        assert_eq!(again.expose(), secret.expose(), "mode {mode:o}");
    }
    // The same rule on the example servers' path.
    set_mode(0o644);
    let url = format!("sqlite://{}", dir.path().join("vault.db").display());
    assert!(matches!(jwt_secret(env(&[]), &url), Err(Error::Config(_))));

    let big = dir.path().join("big.jwt-secret");
    std::fs::write(&big, "x".repeat(5000)).unwrap();
    std::fs::set_permissions(&big, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(matches!(load_or_create_secret(&big), Err(Error::Config(m)) if m.contains("larger")));
    let binary = dir.path().join("binary.jwt-secret");
    std::fs::write(&binary, [0xffu8; 40]).unwrap();
    std::fs::set_permissions(&binary, std::fs::Permissions::from_mode(0o600)).unwrap();
    assert!(matches!(load_or_create_secret(&binary), Err(Error::Config(m)) if m.contains("UTF-8")));
    let directory = dir.path().join("dir.jwt-secret");
    std::fs::create_dir(&directory).unwrap();
    assert!(load_or_create_secret(&directory).is_err());
}

#[test]
fn jwt_secret_prefers_the_variable_and_else_keeps_one_beside_the_database() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/app.db", dir.path().display());
    let file = dir.path().join("app.db.jwt-secret");
    let given = "y".repeat(40);
    let (secret, from_file) = jwt_secret(env(&[("VAULT_JWT_SECRET", &given)]), &url).unwrap();
    assert_eq!(secret.expose(), given.as_bytes());
    assert_eq!(from_file, None);
    assert!(!file.exists(), "no file when the variable is set");
    let (first, from_file) = jwt_secret(env(&[]), &url).unwrap();
    assert_eq!(from_file.as_deref(), Some(file.as_path()));
    let (second, _) = jwt_secret(env(&[]), &url).unwrap();
    assert_eq!(
        first.expose(),
        second.expose(),
        "generated once, then reused"
    );
}
