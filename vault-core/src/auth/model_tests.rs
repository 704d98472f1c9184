use super::*;

#[test]
fn usernames() {
    assert!(Username::parse("ada").is_ok());
    assert!(Username::parse("a.b-c_D9").is_ok());
    assert!(Username::parse(&"x".repeat(32)).is_ok());
    for bad in ["ab", "", "with space", "ünï", "a@b", &"x".repeat(33)] {
        assert!(Username::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn login_names() {
    assert!(LoginName::parse("a").is_ok());
    assert!(LoginName::parse(&"é".repeat(LOGIN_NAME_MAX)).is_ok());
    assert_eq!(
        LoginName::parse("").unwrap_err(),
        "This field may not be blank."
    );
    for long in [
        "x".repeat(LOGIN_NAME_MAX + 1),
        "é".repeat(LOGIN_NAME_MAX + 1),
        "x".repeat(1 << 20),
    ] {
        assert_eq!(
            LoginName::parse(&long).unwrap_err(),
            "Ensure this field has no more than 254 characters."
        );
    }
    // Every spelling the store matches to one account folds alike.
    let folded = |raw: &str| LoginName::parse(raw).unwrap().folded();
    assert_eq!(folded("Ada"), "ada");
    assert_eq!(folded(" ADA\t"), "ada");
    assert_eq!(folded("Ada@Example.COM"), folded("ada@example.com"));
    assert_ne!(folded("ada"), folded("ada@example.com"));
    // Non-ASCII spellings never reach the store: PostgreSQL's lower() would match the
    // Kelvin sign K to the account "kate", SQLite's would not.
    assert!(LoginName::parse("kate").unwrap().could_name_an_account());
    assert!(!LoginName::parse("\u{212A}ate")
        .unwrap()
        .could_name_an_account());
    assert!(!LoginName::parse("\u{130}da")
        .unwrap()
        .could_name_an_account());
}

#[test]
fn emails() {
    assert_eq!(
        Email::parse("Ada@Example.COM").unwrap().as_str(),
        "Ada@example.com"
    );
    assert!(Email::parse("a.b+tag@sub.example.org").is_ok());
    for bad in [
        "",
        "ada",
        "ada@",
        "@example.com",
        "ada@example",
        "a b@example.com",
        "ada@@example.com",
        "ada@exa_mple.com",
        ".ada@example.com",
        "ada@example.c0m",
    ] {
        assert!(Email::parse(bad).is_err(), "{bad}");
    }
}

#[test]
fn nul_and_control_characters_are_refused() {
    use crate::text::NUL_MESSAGE;
    for bad in ["ad\0a", "\0ada", "ada\u{1b}"] {
        assert!(Username::parse(bad).is_err(), "{bad:?}");
    }
    for bad in [
        "ada\0@example.com",
        "ada@exam\0ple.com",
        "ada@example.com\0",
    ] {
        assert!(Email::parse(bad).is_err(), "{bad:?}");
    }
    assert_eq!(
        Password::parse("sturdy-quokka\0-2931", "ada", "ada@example.com").unwrap_err(),
        NUL_MESSAGE
    );
    assert_eq!(parse_display_name("Ada\0").unwrap_err(), NUL_MESSAGE);
    for bad in ["Ada\nLovelace", "Ada\t", "\u{1b}[31mAda"] {
        assert!(parse_display_name(bad).is_err(), "{bad:?}");
    }
    assert_eq!(parse_display_name("  Ada L. ").unwrap(), "Ada L.");
}

#[test]
fn passwords() {
    assert!(Password::parse("sturdy-quokka-2931", "ada", "ada@example.com").is_ok());
    assert!(Password::parse("short", "ada", "ada@example.com").is_err());
    assert!(Password::parse(&"k".repeat(129), "ada", "ada@example.com").is_err());
    assert!(Password::parse("password123", "ada", "ada@example.com").is_err());
    assert!(Password::parse("12345678", "ada", "ada@example.com").is_err());
    assert!(Password::parse("qwertyuiop", "ada", "ada@example.com").is_err());
    assert!(Password::parse("lovelace-ada", "lovelace-ada", "x@example.com").is_err());
    assert!(Password::parse("ada@example.com", "ada", "ada@example.com").is_err());
    assert!(!format!(
        "{:?}",
        Password::parse("sturdy-quokka-2931", "a", "b").unwrap()
    )
    .contains("quokka"));
}
