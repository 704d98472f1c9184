//! Tests of [`TokenCodec`]: every way to bend an access token, and the verified-token cache.

use super::*;
use crate::config::{CacheConfig, Secret};

const KEY: [u8; 32] = [42; 32];

fn config() -> Config {
    Config::new("sqlite::memory:", Secret::new(KEY.to_vec()))
}

fn codec() -> TokenCodec {
    TokenCodec::new(&config())
}

fn cached(codec: &TokenCodec) -> &VerifiedCache {
    codec.verified.as_ref().expect("the cache is on")
}

/// Every single-byte difference is seen, in the eight-byte words and in the tail, and
/// lengths must match.
#[test]
fn same_bytes_compares_every_byte() {
    let a: Vec<u8> = (0..=27u8).collect();
    assert!(same_bytes(&a, &a.clone()));
    assert!(same_bytes(b"", b""));
    for i in 0..a.len() {
        let mut b = a.clone();
        b[i] ^= 0x80;
        assert!(!same_bytes(&a, &b), "difference at byte {i}");
    }
    assert!(!same_bytes(&a, &a[..27]));
    assert!(!same_bytes(&a[..8], &a[..9]));
}

#[test]
fn round_trip() {
    let codec = codec();
    let id = Uuid::now_v7();
    let token = codec
        .issue_access(id, Role::Admin, 3, crate::time::now())
        .unwrap();
    let claims = codec.verify_access(&token).unwrap();
    assert_eq!((claims.sub, claims.role, claims.ver), (id, Role::Admin, 3));
    assert_eq!(claims.typ, "access");
    // Again, from the cache, with the same claims.
    assert_eq!(codec.verify_access(&token).unwrap(), claims);
}

#[test]
fn refuses_other_keys_algorithms_and_expired() {
    let codec = codec();
    let id = Uuid::now_v7();
    let now = crate::time::now();
    let other = TokenCodec::new(&Config::new("sqlite::memory:", Secret::new(vec![7; 32])));
    let foreign = other.issue_access(id, Role::User, 0, now).unwrap();
    assert!(codec.verify_access(&foreign).is_err());
    let old = now - chrono::Duration::hours(1);
    let expired = codec.issue_access(id, Role::User, 0, old).unwrap();
    assert!(matches!(
        codec.verify_access(&expired),
        Err(Error::InvalidAccessToken("Token is expired."))
    ));
    // alg: none with the same claims.
    let token = codec.issue_access(id, Role::User, 0, now).unwrap();
    let claims = token.split('.').nth(1).unwrap();
    let none = format!(
        "{}.{claims}.",
        URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#)
    );
    assert!(codec.verify_access(&none).is_err());
}

/// Signs arbitrary header and claims JSON with `algorithm` and `key`, whatever the header says.
fn forge_with(
    header: &str,
    claims: &serde_json::Value,
    key: &[u8],
    algorithm: Algorithm,
) -> String {
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(header),
        URL_SAFE_NO_PAD.encode(claims.to_string())
    );
    let signature =
        jsonwebtoken::crypto::sign(input.as_bytes(), &EncodingKey::from_secret(key), algorithm)
            .unwrap();
    format!("{input}.{signature}")
}

/// Signs arbitrary header and claims JSON with HMAC-SHA256 and `key`.
fn forge(header: &str, claims: &serde_json::Value, key: &[u8]) -> String {
    forge_with(header, claims, key, Algorithm::HS256)
}

fn claims_json(codec: &TokenCodec) -> serde_json::Value {
    let token = codec
        .issue_access(Uuid::now_v7(), Role::User, 1, crate::time::now())
        .unwrap();
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(payload).unwrap()).unwrap()
}

/// Every way an attacker can bend a token, each refused; the untouched token accepted.
#[test]
fn refuses_every_bent_token() {
    let codec = codec();
    let key = KEY;
    let hs256 = r#"{"typ":"JWT","alg":"HS256"}"#;
    let good = claims_json(&codec);
    assert!(codec.verify_access(&forge(hs256, &good, &key)).is_ok());
    // The header may be serialized differently, as long as it says HS256.
    assert!(codec
        .verify_access(&forge(r#"{ "alg" : "HS256" }"#, &good, &key))
        .is_ok());

    let with = |field: &str, value: serde_json::Value| {
        let mut claims = good.clone();
        claims[field] = value;
        claims
    };
    let without = |field: &str| {
        let mut claims = good.clone();
        claims.as_object_mut().unwrap().remove(field);
        claims
    };
    let now = crate::time::now().timestamp();
    let bent = [
        ("other key", forge(hs256, &good, &[7u8; 32])),
        ("HS512 header", forge(r#"{"alg":"HS512"}"#, &good, &key)),
        (
            "HS384 with our key",
            forge_with(r#"{"alg":"HS384"}"#, &good, &key, Algorithm::HS384),
        ),
        (
            "HS512 with our key",
            forge_with(r#"{"alg":"HS512"}"#, &good, &key, Algorithm::HS512),
        ),
        // Key confusion: an asymmetric algorithm named, our secret used as an HMAC key.
        ("RS256 header", forge(r#"{"alg":"RS256"}"#, &good, &key)),
        ("ES256 header", forge(r#"{"alg":"ES256"}"#, &good, &key)),
        ("EdDSA header", forge(r#"{"alg":"EdDSA"}"#, &good, &key)),
        ("none", forge(r#"{"alg":"none"}"#, &good, &key)),
        ("lower-case alg", forge(r#"{"alg":"hs256"}"#, &good, &key)),
        ("no alg", forge(r#"{"typ":"JWT"}"#, &good, &key)),
        (
            "crit",
            forge(r#"{"alg":"HS256","crit":["exp"]}"#, &good, &key),
        ),
        (
            "empty crit",
            forge(r#"{"alg":"HS256","crit":[]}"#, &good, &key),
        ),
        (
            "crit not a list",
            forge(r#"{"alg":"HS256","crit":1}"#, &good, &key),
        ),
        // RFC 7515 §4.1.11: `crit`, when present, is a non-empty list; a `null` one is a
        // malformed header, not an absent member.
        (
            "crit null",
            forge(r#"{"alg":"HS256","crit":null}"#, &good, &key),
        ),
        (
            "crit twice, the last null",
            forge(r#"{"alg":"HS256","crit":["exp"],"crit":null}"#, &good, &key),
        ),
        (
            "crit naming a member it carries",
            forge(r#"{"alg":"HS256","crit":["b64"],"b64":"x"}"#, &good, &key),
        ),
        ("header not JSON", forge("HS256", &good, &key)),
        ("header a list", forge(r#"["HS256"]"#, &good, &key)),
        (
            "expired",
            forge(hs256, &with("exp", (now - 1).into()), &key),
        ),
        (
            "negative exp",
            forge(hs256, &with("exp", (-1).into()), &key),
        ),
        (
            "not yet valid",
            forge(hs256, &with("nbf", (now + 60).into()), &key),
        ),
        (
            "nbf as text",
            forge(hs256, &with("nbf", now.to_string().into()), &key),
        ),
        (
            "other issuer",
            forge(hs256, &with("iss", "evil".into()), &key),
        ),
        (
            "issuer list",
            forge(hs256, &with("iss", serde_json::json!(["vault"])), &key),
        ),
        (
            "other audience",
            forge(hs256, &with("aud", "evil".into()), &key),
        ),
        (
            "audience list",
            forge(hs256, &with("aud", serde_json::json!(["vault"])), &key),
        ),
        (
            "refresh type",
            forge(hs256, &with("typ", "refresh".into()), &key),
        ),
        ("no exp", forge(hs256, &without("exp"), &key)),
        ("no iat", forge(hs256, &without("iat"), &key)),
        ("no iss", forge(hs256, &without("iss"), &key)),
        ("no aud", forge(hs256, &without("aud"), &key)),
        ("no sub", forge(hs256, &without("sub"), &key)),
        ("no typ", forge(hs256, &without("typ"), &key)),
        ("no jti", forge(hs256, &without("jti"), &key)),
        ("no ver", forge(hs256, &without("ver"), &key)),
        ("no role", forge(hs256, &without("role"), &key)),
        (
            "sub not a UUID",
            forge(hs256, &with("sub", "root".into()), &key),
        ),
        (
            "exp as text",
            forge(hs256, &with("exp", "9999999999".into()), &key),
        ),
        (
            "exp as a fraction",
            forge(hs256, &with("exp", (now as f64 + 600.5).into()), &key),
        ),
        (
            "claims a list",
            forge(hs256, &serde_json::json!([good]), &key),
        ),
        // Signed with our key, but larger than any token this codec issues.
        (
            "huge claims",
            forge(hs256, &with("pad", "x".repeat(64 * 1024).into()), &key),
        ),
    ];
    for (what, token) in &bent {
        assert!(
            matches!(
                codec.verify_access(token),
                Err(Error::InvalidAccessToken(_))
            ),
            "{what} was accepted"
        );
    }

    let token = forge(hs256, &good, &key);
    let (input, signature) = token.rsplit_once('.').unwrap();
    let (header, payload) = input.split_once('.').unwrap();
    let mut flipped = URL_SAFE_NO_PAD.decode(signature).unwrap();
    flipped[0] ^= 1;
    let shapes = [
        format!("{input}.{}", URL_SAFE_NO_PAD.encode(&flipped)),
        format!("{input}.{}", &signature[..signature.len() - 2]),
        format!("{input}.{signature}AA"),
        format!("{input}."),
        format!("{input}.{signature}."),
        format!("{input}.{signature}.{signature}"),
        format!("{header}.{signature}"),
        format!("{header}.{payload}A.{signature}"),
        format!("{input}.{signature}="),
        format!(" {token}"),
        format!("{token} "),
        format!("{token}{}", "A".repeat(1 << 20)),
        input.to_string(),
        String::new(),
        "..".to_string(),
        ".".to_string(),
        "\u{0}.\u{0}.\u{0}".to_string(),
    ];
    for shape in &shapes {
        assert!(
            codec.verify_access(shape).is_err(),
            "{shape:?} was accepted"
        );
    }
    // Nothing refused was remembered: only the two good tokens are.
    assert_eq!(cached(&codec).len(), 2);
}

#[test]
fn leeway_extends_expiry() {
    let mut config = config();
    config.auth.jwt_leeway = std::time::Duration::from_secs(120);
    let lenient = TokenCodec::new(&config);
    let mut claims = claims_json(&lenient);
    claims["exp"] = (crate::time::now().timestamp() - 60).into();
    let token = forge(r#"{"alg":"HS256"}"#, &claims, &KEY);
    assert!(lenient.verify_access(&token).is_ok());
    // And again from the cache, with the same leeway.
    assert!(lenient.verify_access(&token).is_ok());
    assert!(matches!(
        codec().verify_access(&token),
        Err(Error::InvalidAccessToken("Token is expired."))
    ));
}

/// A leeway beyond the accepted maximum (a host that skipped `Config::validate`) is clamped,
/// never handed to `jsonwebtoken`, which subtracts it from the clock unchecked.
#[test]
fn an_absurd_leeway_is_clamped() {
    let mut config = config();
    config.auth.jwt_leeway = std::time::Duration::from_secs(u64::MAX);
    let codec = TokenCodec::new(&config);
    let mut claims = claims_json(&codec);
    claims["exp"] = (crate::time::now().timestamp() - 3600).into();
    let token = forge(r#"{"alg":"HS256"}"#, &claims, &KEY);
    assert!(matches!(
        codec.verify_access(&token),
        Err(Error::InvalidAccessToken("Token is expired."))
    ));
}

/// An attacker who saw a genuine token reuses its signature over other bytes: the
/// remembered signature vouches for nothing but the exact bytes it signed.
#[test]
fn a_remembered_signature_vouches_only_for_its_own_bytes() {
    let mut codec = codec();
    let genuine = codec
        .issue_access(Uuid::now_v7(), Role::User, 1, crate::time::now())
        .unwrap();
    let first = codec.verify_access(&genuine).unwrap();
    assert_eq!(cached(&codec).len(), 1);

    let signature = genuine.rsplit('.').next().unwrap();
    let mut claims = claims_json(&codec);
    claims["sub"] = first.sub.to_string().into();
    claims["role"] = "admin".into();
    let other_payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let header = genuine.split('.').next().unwrap();
    let none_header = URL_SAFE_NO_PAD.encode(r#"{"alg":"none"}"#);
    let genuine_payload = genuine.split('.').nth(1).unwrap();
    for forged in [
        format!("{header}.{other_payload}.{signature}"),
        format!("{none_header}.{genuine_payload}.{signature}"),
        format!("{header}.{genuine_payload}x.{signature}"),
        format!("{header}.{}.{signature}", &genuine_payload[1..]),
        format!("x{header}.{genuine_payload}.{signature}"),
    ] {
        assert!(
            matches!(
                codec.verify_access(&forged),
                Err(Error::InvalidAccessToken(_))
            ),
            "{forged}"
        );
    }
    // Nothing forged was remembered.
    assert_eq!(cached(&codec).len(), 1);
    // Without the key nothing can be verified afresh: the genuine token is now answered from
    // memory, with the same claims.
    codec.decoding = DecodingKey::from_secret(&[7; 32]);
    assert_eq!(codec.verify_access(&genuine).unwrap(), first);
    let fresh = codec
        .issue_access(Uuid::now_v7(), Role::User, 1, crate::time::now())
        .unwrap();
    assert!(codec.verify_access(&fresh).is_err());
}

/// A remembered token is still refused once it expires.
#[test]
fn remembered_tokens_still_expire() {
    let codec = codec();
    let mut claims = claims_json(&codec);
    claims["exp"] = (crate::time::now().timestamp() + 1).into();
    let token = forge(r#"{"alg":"HS256"}"#, &claims, &KEY);
    assert!(codec.verify_access(&token).is_ok());
    assert!(codec.verify_access(&token).is_ok());
    std::thread::sleep(std::time::Duration::from_millis(2100));
    assert!(matches!(
        codec.verify_access(&token),
        Err(Error::InvalidAccessToken("Token is expired."))
    ));
}

#[test]
fn long_issuer_and_audience_still_verify() {
    let mut config = config();
    config.auth.jwt_issuer = "i".repeat(768);
    config.auth.jwt_audience = "a".repeat(768);
    let codec = TokenCodec::new(&config);
    let id = Uuid::now_v7();
    let token = codec
        .issue_access(id, Role::User, 1, crate::time::now())
        .unwrap();
    assert!(token.len() > 2048);
    assert_eq!(codec.verify_access(&token).unwrap().sub, id);
    // The same claims under the default (short) issuer are refused.
    assert!(self::codec().verify_access(&token).is_err());
}

/// The worst case of the length bound: an issuer and audience whose every byte JSON escapes.
#[test]
fn escaped_issuer_and_audience_stay_within_the_length_bound() {
    let mut config = config();
    config.auth.jwt_issuer = "\u{1}".repeat(300);
    config.auth.jwt_audience = "\u{2}".repeat(300);
    let codec = TokenCodec::new(&config);
    let token = codec
        .issue_access(Uuid::now_v7(), Role::User, 1, crate::time::now())
        .unwrap();
    assert!(token.len() <= codec.max_token_len);
    assert!(codec.verify_access(&token).is_ok());
}

/// However many tokens verify, the cache holds no more bytes than its budget, and still
/// remembers recent ones.
#[test]
fn the_verified_token_cache_is_bounded_in_bytes() {
    let budget = 32 * 1024;
    let mut config = config();
    config.auth.verified_token_cache = CacheConfig::bounded(budget);
    let codec = TokenCodec::new(&config);
    let mut tokens = Vec::new();
    for _ in 0..500 {
        let token = codec
            .issue_access(Uuid::now_v7(), Role::User, 1, crate::time::now())
            .unwrap();
        codec.verify_access(&token).unwrap();
        tokens.push(token);
        assert!(cached(&codec).weight() <= budget);
    }
    let held = cached(&codec).len();
    assert!(held > 10 && held < 500, "{held} entries");
    // Each entry weighs at least the token it holds.
    assert!(cached(&codec).weight() >= (held * tokens[0].len()) as u64);
    // Every token still verifies, remembered or not.
    for token in &tokens {
        assert!(codec.verify_access(token).is_ok());
    }
}

#[test]
fn without_the_cache_every_token_is_verified_afresh() {
    let mut config = config();
    config.auth.verified_token_cache = CacheConfig::off();
    let mut codec = TokenCodec::new(&config);
    assert!(codec.verified.is_none());
    let token = codec
        .issue_access(Uuid::now_v7(), Role::User, 1, crate::time::now())
        .unwrap();
    assert!(codec.verify_access(&token).is_ok());
    assert!(codec.verify_access(&token).is_ok());
    // Nothing was remembered: with another key the same token is refused.
    codec.decoding = DecodingKey::from_secret(&[7; 32]);
    assert!(codec.verify_access(&token).is_err());
}

#[test]
fn refresh_tokens_are_long_random_and_hashed() {
    let (a, hash_a) = TokenCodec::new_refresh().unwrap();
    let (b, _) = TokenCodec::new_refresh().unwrap();
    assert_ne!(a, b);
    assert!(a.len() >= 4 + 43);
    assert_eq!(hash_a, TokenCodec::hash_refresh(&a));
    assert_eq!(hash_a.len(), 32);
}
