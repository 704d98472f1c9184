//! Access tokens (JWT, HS256 pinned) and refresh tokens (opaque, 256 bits, stored hashed).

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hmac::{Hmac, Mac};
use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::config::Config;
use crate::error::{Error, Result};
use crate::principal::Role;
use crate::time::Timestamp;

/// `typ` of access tokens. The `jsonwebtoken` crate never checks `typ`; [`TokenCodec`] does.
pub const ACCESS_TYPE: &str = "access";

/// Refresh tokens start with this, so secret scanners and humans can tell them apart.
const REFRESH_PREFIX: &str = "vrt_";

/// The claims of an access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// User id.
    pub sub: Uuid,
    /// Expiry (seconds since the epoch).
    pub exp: i64,
    /// Issue time (seconds since the epoch).
    pub iat: i64,
    /// Unique token id.
    pub jti: Uuid,
    /// Always [`ACCESS_TYPE`].
    pub typ: String,
    /// Issuer.
    pub iss: String,
    /// Audience.
    pub aud: String,
    /// Role at issue time (the current role is re-read from the revocation cache).
    pub role: Role,
    /// The user's token version at issue time; a bump revokes the token.
    pub ver: i64,
    /// Not before (seconds since the epoch). Never issued; honoured if present.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub nbf: Option<i64>,
}

/// The JOSE header of a token being verified. Only `alg` matters; `crit` names extensions a
/// verifier must understand, and we understand none (RFC 7515 §4.1.11), so its presence
/// refuses the token. Other members are ignored.
#[derive(Deserialize)]
struct JoseHeader<'a> {
    #[serde(borrow)]
    alg: std::borrow::Cow<'a, str>,
    #[serde(default)]
    crit: Option<serde::de::IgnoredAny>,
}

/// The answer to every token that does not verify, short of a more useful one.
const INVALID: Error = Error::InvalidAccessToken("Token is invalid or expired.");

/// Length of an HS256 signature.
const SIGNATURE_LEN: usize = 32;

/// Decoded claims up to this size are verified without a heap allocation.
const PAYLOAD_BUFFER: usize = 768;

/// Signs and verifies access tokens; makes and hashes refresh tokens.
pub struct TokenCodec {
    encoding: EncodingKey,
    /// HMAC-SHA256 keyed with the secret, cloned per verification. `None` only if the MAC
    /// refused the key, which HMAC never does; then nothing verifies.
    mac: Option<Hmac<Sha256>>,
    leeway_secs: i64,
    header: Header,
    /// The first segment of every token [`Self::issue_access`] makes: a token carrying exactly
    /// these bytes has an HS256 header without `crit`, so it need not be decoded.
    issued_header: Option<String>,
    issuer: String,
    audience: String,
    access_ttl_secs: i64,
    /// Tokens whose signature held, by signature (see [`Self::verify_access`]).
    verified: quick_cache::sync::Cache<[u8; SIGNATURE_LEN], Arc<Verified>>,
}

/// A token whose signature held: what was signed, and its claims.
struct Verified {
    signing_input: Box<str>,
    claims: AccessClaims,
}

/// At most this many verified tokens are remembered (~0.5 KiB each).
const VERIFIED_CAPACITY: usize = 10_000;

impl std::fmt::Debug for TokenCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCodec")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl TokenCodec {
    /// A codec for the configured secret, issuer, audience and lifetimes.
    pub fn new(config: &Config) -> Self {
        let secret = config.auth.jwt_secret.expose();
        let encoding = EncodingKey::from_secret(secret);
        let header = Header::new(Algorithm::HS256);
        let issued_header = jsonwebtoken::encode(&header, &serde_json::json!({}), &encoding)
            .ok()
            .and_then(|token| token.split('.').next().map(str::to_owned));
        let access_ttl_secs = i64::try_from(config.auth.access_ttl.as_secs()).unwrap_or(i64::MAX);
        Self {
            encoding,
            mac: Hmac::<Sha256>::new_from_slice(secret).ok(),
            leeway_secs: i64::try_from(config.auth.jwt_leeway.as_secs()).unwrap_or(i64::MAX),
            header,
            issued_header,
            issuer: config.auth.jwt_issuer.clone(),
            audience: config.auth.jwt_audience.clone(),
            access_ttl_secs,
            // Entries are checked against the clock on every use (`exp`, `nbf`), so an expired
            // token's entry is dead weight until newer tokens push it out.
            verified: quick_cache::sync::Cache::new(VERIFIED_CAPACITY),
        }
    }

    /// Access-token lifetime in seconds.
    pub fn access_ttl_secs(&self) -> u64 {
        self.access_ttl_secs.unsigned_abs()
    }

    /// Issues an access token.
    ///
    /// # Errors
    /// [`Error::Internal`] if signing fails.
    pub fn issue_access(
        &self,
        user_id: Uuid,
        role: Role,
        version: i64,
        now: Timestamp,
    ) -> Result<String> {
        let iat = now.timestamp();
        let claims = AccessClaims {
            sub: user_id,
            exp: iat.saturating_add(self.access_ttl_secs),
            iat,
            jti: Uuid::now_v7(),
            typ: ACCESS_TYPE.into(),
            iss: self.issuer.clone(),
            aud: self.audience.clone(),
            role,
            ver: version,
            nbf: None,
        };
        jsonwebtoken::encode(&self.header, &claims, &self.encoding).map_err(Error::internal)
    }

    /// Verifies algorithm, signature, `exp`, `nbf`, `iss`, `aud` and `typ`, in that order.
    ///
    /// Exactly one algorithm is accepted, HS256 (RFC 8725 §3.1): `none`, other HMAC sizes and
    /// asymmetric algorithms are refused before the MAC is computed, and the claims are only
    /// parsed once the signature holds. This is a narrow verifier for the tokens
    /// [`Self::issue_access`] makes (compact serialization, three segments, unpadded base64url),
    /// written out rather than delegated to `jsonwebtoken` because verification runs on every
    /// authenticated request and the generic path parses the claims twice.
    ///
    /// Tokens that verified are remembered by signature (up to 10 000, each until it expires),
    /// as API gateways cache verified JWTs: a client sends the same token with every request
    /// for its lifetime. A remembered token is accepted again only if its signed bytes equal
    /// the remembered ones (constant-time comparison), and its times and claims are checked
    /// again on every use. Revocation is not this function's business: the caller checks the
    /// token version on every request.
    ///
    /// # Errors
    /// [`Error::InvalidAccessToken`] for any failure.
    pub fn verify_access(&self, token: &str) -> Result<AccessClaims> {
        let mut segments = token.split('.');
        let (Some(header), Some(payload), Some(signature), None) = (
            segments.next(),
            segments.next(),
            segments.next(),
            segments.next(),
        ) else {
            return Err(INVALID);
        };
        let mut expected = [0u8; SIGNATURE_LEN];
        match URL_SAFE_NO_PAD.decode_slice(signature, &mut expected) {
            Ok(SIGNATURE_LEN) => {}
            _ => return Err(INVALID),
        }
        // The signing input is the token up to the second dot.
        let signing_input = token
            .get(..token.len() - signature.len() - 1)
            .ok_or(INVALID)?;

        // A token seen before with this signature: if what it signs is byte for byte the same
        // (compared in constant time), the signature holds again; only the times may have
        // changed. A different signing input under a known signature is a forgery attempt and
        // takes the full path below, which refuses it.
        if let Some(seen) = self.verified.get(&expected) {
            if same_bytes(seen.signing_input.as_bytes(), signing_input.as_bytes()) {
                self.check_claims(&seen.claims)?;
                return Ok(seen.claims.clone());
            }
        }

        if self.issued_header.as_deref() != Some(header) {
            let header = URL_SAFE_NO_PAD.decode(header).map_err(|_| INVALID)?;
            let header: JoseHeader<'_> = serde_json::from_slice(&header).map_err(|_| INVALID)?;
            if header.alg != "HS256" || header.crit.is_some() {
                return Err(INVALID);
            }
        }
        let mut mac = self.mac.clone().ok_or(INVALID)?;
        mac.update(signing_input.as_bytes());
        // Constant-time comparison.
        mac.verify_slice(&expected).map_err(|_| INVALID)?;

        // Our claims fit the stack buffer unless the issuer and audience are very long.
        let mut small = [0u8; PAYLOAD_BUFFER];
        let large;
        let payload = match URL_SAFE_NO_PAD.decode_slice(payload, &mut small) {
            Ok(len) => small.get(..len).ok_or(INVALID)?,
            Err(base64::DecodeSliceError::OutputSliceTooSmall) => {
                large = URL_SAFE_NO_PAD.decode(payload).map_err(|_| INVALID)?;
                large.as_slice()
            }
            Err(base64::DecodeSliceError::DecodeError(_)) => return Err(INVALID),
        };
        let claims: AccessClaims = serde_json::from_slice(payload).map_err(|_| INVALID)?;
        self.check_claims(&claims)?;
        self.verified.insert(
            expected,
            Arc::new(Verified {
                signing_input: signing_input.into(),
                claims: claims.clone(),
            }),
        );
        Ok(claims)
    }

    /// The checks on signed claims: `exp` (with leeway), `nbf`, `iss`, `aud`, `typ`.
    fn check_claims(&self, claims: &AccessClaims) -> Result<()> {
        let now = crate::time::now().timestamp();
        if claims.exp < now.saturating_sub(self.leeway_secs) {
            return Err(Error::InvalidAccessToken("Token is expired."));
        }
        if claims
            .nbf
            .is_some_and(|nbf| nbf > now.saturating_add(self.leeway_secs))
            || claims.iss != self.issuer
            || claims.aud != self.audience
        {
            return Err(INVALID);
        }
        if claims.typ != ACCESS_TYPE {
            return Err(Error::InvalidAccessToken("Token has wrong type."));
        }
        Ok(())
    }

    /// A fresh refresh token and the SHA-256 to store for it.
    ///
    /// # Errors
    /// [`Error::Internal`] if the OS random generator fails.
    pub fn new_refresh() -> Result<(String, Vec<u8>)> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(Error::internal)?;
        let token = format!("{REFRESH_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
        let hash = Self::hash_refresh(&token);
        Ok((token, hash))
    }

    /// The stored form of a refresh token: its SHA-256. A database leak yields no usable token.
    pub fn hash_refresh(token: &str) -> Vec<u8> {
        Sha256::digest(token.as_bytes()).to_vec()
    }
}

/// Whether `a` and `b` hold the same bytes, in a time that depends only on their lengths:
/// eight bytes at a time, differences OR-ed together without branching, the result judged
/// once by `subtle` (byte-wise `ct_eq` costs a barrier per byte: ~3 000 instructions for a
/// token's signing input, on every authenticated request).
fn same_bytes(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let (a_words, b_words) = (a.chunks_exact(8), b.chunks_exact(8));
    let (a_rest, b_rest) = (a_words.remainder(), b_words.remainder());
    let word = |bytes: &[u8]| {
        let mut word = [0u8; 8];
        word.copy_from_slice(bytes);
        u64::from_ne_bytes(word)
    };
    let mut diff = 0u64;
    for (x, y) in a_words.zip(b_words) {
        diff |= word(x) ^ word(y);
    }
    for (x, y) in a_rest.iter().zip(b_rest) {
        diff |= u64::from(x ^ y);
    }
    bool::from(diff.ct_eq(&0))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn codec() -> TokenCodec {
        TokenCodec::new(&Config::new("sqlite::memory:", Secret::new(vec![42; 32])))
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
        assert!(codec.verify_access(&expired).is_err());
        // alg: none with the same claims.
        let token = codec.issue_access(id, Role::User, 0, now).unwrap();
        let claims = token.split('.').nth(1).unwrap();
        let none = format!(
            "{}.{claims}.",
            URL_SAFE_NO_PAD.encode(br#"{"alg":"none","typ":"JWT"}"#)
        );
        assert!(codec.verify_access(&none).is_err());
    }

    /// Signs arbitrary header and claims JSON with the codec's key (or another one).
    fn forge(header: &str, claims: &serde_json::Value, key: &[u8]) -> String {
        let input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
        mac.update(input.as_bytes());
        format!(
            "{input}.{}",
            URL_SAFE_NO_PAD.encode(mac.finalize().into_bytes())
        )
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
        let key = [42u8; 32];
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
            ("none", forge(r#"{"alg":"none"}"#, &good, &key)),
            ("lower-case alg", forge(r#"{"alg":"hs256"}"#, &good, &key)),
            ("no alg", forge(r#"{"typ":"JWT"}"#, &good, &key)),
            (
                "crit",
                forge(r#"{"alg":"HS256","crit":["exp"]}"#, &good, &key),
            ),
            ("header not JSON", forge("HS256", &good, &key)),
            (
                "expired",
                forge(hs256, &with("exp", (now - 1).into()), &key),
            ),
            (
                "not yet valid",
                forge(hs256, &with("nbf", (now + 60).into()), &key),
            ),
            (
                "other issuer",
                forge(hs256, &with("iss", "evil".into()), &key),
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
            ("no sub", forge(hs256, &without("sub"), &key)),
            ("no ver", forge(hs256, &without("ver"), &key)),
            (
                "exp as text",
                forge(hs256, &with("exp", "9999999999".into()), &key),
            ),
        ];
        for (what, token) in &bent {
            assert!(codec.verify_access(token).is_err(), "{what} was accepted");
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
            input.to_string(),
            String::new(),
            "..".to_string(),
        ];
        for shape in &shapes {
            assert!(
                codec.verify_access(shape).is_err(),
                "{shape:?} was accepted"
            );
        }
    }

    /// The narrow verifier and `jsonwebtoken`'s generic one agree on our own tokens.
    #[test]
    fn agrees_with_jsonwebtoken_on_issued_tokens() {
        let codec = codec();
        let token = codec
            .issue_access(Uuid::now_v7(), Role::Admin, 5, crate::time::now())
            .unwrap();
        let mut validation = jsonwebtoken::Validation::new(Algorithm::HS256);
        validation.set_issuer(&["vault"]);
        validation.set_audience(&["vault"]);
        let theirs = jsonwebtoken::decode::<AccessClaims>(
            &token,
            &jsonwebtoken::DecodingKey::from_secret(&[42; 32]),
            &validation,
        )
        .unwrap()
        .claims;
        assert_eq!(codec.verify_access(&token).unwrap(), theirs);
    }

    #[test]
    fn leeway_extends_expiry() {
        let mut config = Config::new("sqlite::memory:", Secret::new(vec![42; 32]));
        config.auth.jwt_leeway = std::time::Duration::from_secs(120);
        let lenient = TokenCodec::new(&config);
        let mut claims = claims_json(&lenient);
        claims["exp"] = (crate::time::now().timestamp() - 60).into();
        let token = forge(r#"{"alg":"HS256"}"#, &claims, &[42; 32]);
        assert!(lenient.verify_access(&token).is_ok());
        assert!(matches!(
            codec().verify_access(&token),
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
        assert_eq!(codec.verified.len(), 1);

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
        assert_eq!(codec.verified.len(), 1);
        // Without a key nothing can be verified afresh: the genuine token is now answered from
        // memory, with the same claims.
        codec.mac = None;
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
        let token = forge(r#"{"alg":"HS256"}"#, &claims, &[42; 32]);
        assert!(codec.verify_access(&token).is_ok());
        assert!(codec.verify_access(&token).is_ok());
        std::thread::sleep(std::time::Duration::from_millis(2100));
        assert!(matches!(
            codec.verify_access(&token),
            Err(Error::InvalidAccessToken("Token is expired."))
        ));
    }

    #[test]
    fn issued_tokens_carry_the_header_compared_without_decoding() {
        let codec = codec();
        let token = codec
            .issue_access(Uuid::now_v7(), Role::User, 0, crate::time::now())
            .unwrap();
        let first = token.split('.').next().unwrap();
        assert_eq!(codec.issued_header.as_deref(), Some(first));
        // Those bytes decode to an HS256 header without `crit`, as the slow path requires.
        let decoded = URL_SAFE_NO_PAD.decode(first).unwrap();
        let header: JoseHeader<'_> = serde_json::from_slice(&decoded).unwrap();
        assert_eq!(header.alg, "HS256");
        assert!(header.crit.is_none());
    }

    #[test]
    fn claims_larger_than_the_stack_buffer_still_verify() {
        let mut config = Config::new("sqlite::memory:", Secret::new(vec![42; 32]));
        config.auth.jwt_issuer = "i".repeat(PAYLOAD_BUFFER);
        config.auth.jwt_audience = "a".repeat(PAYLOAD_BUFFER);
        let codec = TokenCodec::new(&config);
        let id = Uuid::now_v7();
        let token = codec
            .issue_access(id, Role::User, 1, crate::time::now())
            .unwrap();
        assert!(token.split('.').nth(1).unwrap().len() > PAYLOAD_BUFFER * 4 / 3);
        assert_eq!(codec.verify_access(&token).unwrap().sub, id);
        // The same claims under the default (short) issuer are refused.
        assert!(
            TokenCodec::new(&Config::new("sqlite::memory:", Secret::new(vec![42; 32])))
                .verify_access(&token)
                .is_err()
        );
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
}
