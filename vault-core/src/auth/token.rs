//! Access tokens (JWT, HS256 pinned) and refresh tokens (opaque, 256 bits, stored hashed).

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::errors::ErrorKind;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use uuid::Uuid;

use crate::config::{AuthConfig, Config};
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

/// The answer to every token that does not verify, short of a more useful one.
const INVALID: Error = Error::InvalidAccessToken("Token is invalid or expired.");

/// The answer to a token whose `exp` has passed.
const EXPIRED: Error = Error::InvalidAccessToken("Token is expired.");

/// Signs and verifies access tokens; makes and hashes refresh tokens.
pub struct TokenCodec {
    encoding: EncodingKey,
    decoding: DecodingKey,
    /// What `jsonwebtoken` checks: HS256 only, `exp`/`iss`/`aud`/`sub` present, `exp` and
    /// `nbf` against the clock with our leeway, issuer and audience ours.
    validation: Validation,
    leeway_secs: i64,
    header: Header,
    issuer: String,
    audience: String,
    access_ttl_secs: i64,
    /// Longer tokens cannot have been issued with this issuer and audience; they are refused
    /// before any decoding.
    max_token_len: usize,
    /// Tokens that verified, by signature (see [`Self::verify_access`]); `None` when the
    /// verified-token cache is off.
    verified: Option<VerifiedCache>,
}

type VerifiedCache = quick_cache::sync::Cache<Box<str>, Arc<Verified>, VerifiedWeight>;

/// A token that verified: what was signed, its claims, and what the entry weighs in the cache.
struct Verified {
    signing_input: Box<str>,
    claims: AccessClaims,
    bytes: u64,
}

/// Bytes a verified-token entry costs beyond its strings: the entry itself, its `Arc`, and
/// the cache's slot and index for it.
const ENTRY_OVERHEAD: usize = std::mem::size_of::<Verified>() + 128;

/// An average entry, for sizing the cache's index: a ~400-byte token and its claims.
const TYPICAL_ENTRY: u64 = 700;

/// Weighs verified-token entries by the bytes they hold.
#[derive(Clone)]
struct VerifiedWeight;

impl quick_cache::Weighter<Box<str>, Arc<Verified>> for VerifiedWeight {
    fn weight(&self, _signature: &Box<str>, verified: &Arc<Verified>) -> u64 {
        verified.bytes
    }
}

impl Verified {
    fn new(signature: &str, signing_input: &str, claims: AccessClaims) -> Self {
        let strings = signature.len()
            + signing_input.len()
            + claims.typ.len()
            + claims.iss.len()
            + claims.aud.len();
        Self {
            signing_input: signing_input.into(),
            claims,
            bytes: u64::try_from(strings + ENTRY_OVERHEAD).unwrap_or(u64::MAX),
        }
    }
}

impl std::fmt::Debug for TokenCodec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenCodec")
            .field("issuer", &self.issuer)
            .field("audience", &self.audience)
            .finish_non_exhaustive()
    }
}

impl TokenCodec {
    /// A codec for the configured secret, issuer, audience, lifetimes and cache.
    pub fn new(config: &Config) -> Self {
        let auth = &config.auth;
        let secret = auth.jwt_secret.expose();
        // `jsonwebtoken` subtracts the leeway from the clock in `u64`; never let it get close.
        let leeway = auth.jwt_leeway.min(AuthConfig::MAX_LEEWAY);
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        // The crate checks the presence of these; `iat` it ignores, but `AccessClaims` does
        // not deserialize without it (nor without `jti`, `typ`, `role` or `ver`).
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.set_issuer(&[&auth.jwt_issuer]);
        validation.set_audience(&[&auth.jwt_audience]);
        validation.leeway = leeway.as_secs();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        validation.validate_aud = true;
        // Issued claims are ~300 bytes plus the issuer and audience, each byte of which JSON
        // escaping and base64 grow to at most 8.
        let max_token_len = 1024 + 8 * (auth.jwt_issuer.len() + auth.jwt_audience.len());
        let verified = auth.verified_token_cache.budget().map(|bytes| {
            let items = usize::try_from(bytes / TYPICAL_ENTRY).unwrap_or(usize::MAX);
            quick_cache::sync::Cache::with_weighter(items.max(1), bytes, VerifiedWeight)
        });
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            leeway_secs: whole_seconds(leeway),
            header: Header::new(Algorithm::HS256),
            issuer: auth.jwt_issuer.clone(),
            audience: auth.jwt_audience.clone(),
            access_ttl_secs: whole_seconds(auth.access_ttl),
            max_token_len,
            verified,
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

    /// Verifies an access token with `jsonwebtoken`: algorithm HS256 and nothing else
    /// (RFC 8725 §3.1), signature, `exp`, `iat`, `iss`, `aud` and `sub` present, `exp` and
    /// `nbf` against the clock (with `jwt_leeway`), issuer and audience ours; then what the
    /// crate leaves to us: no `crit` header member (it names extensions a verifier must
    /// understand, and we understand none: RFC 7515 §4.1.11) and `typ` [`ACCESS_TYPE`].
    ///
    /// Tokens that verified are remembered by signature, within the byte budget of
    /// `auth.verified_token_cache`, as API gateways cache verified JWTs: a client sends the
    /// same token with every request for its lifetime. A remembered token is accepted again
    /// only if its signed bytes equal the remembered ones (constant-time comparison), and its
    /// times are checked again on every use. Revocation is not this function's business: the
    /// caller checks the token version on every request.
    ///
    /// # Errors
    /// [`Error::InvalidAccessToken`] for any failure.
    pub fn verify_access(&self, token: &str) -> Result<AccessClaims> {
        if token.len() > self.max_token_len {
            return Err(INVALID);
        }
        let (signing_input, signature) = token.rsplit_once('.').ok_or(INVALID)?;

        // A token seen before with this signature: if what it signs is byte for byte the same
        // (compared in constant time), the signature holds again; only the times may have
        // changed. A different signing input under a known signature is a forgery attempt and
        // takes the full path below, which refuses it.
        if let Some(seen) = self.verified.as_ref().and_then(|c| c.get(signature)) {
            if same_bytes(seen.signing_input.as_bytes(), signing_input.as_bytes()) {
                self.check_times(&seen.claims)?;
                return Ok(seen.claims.clone());
            }
        }

        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation)
            .map_err(|error| match error.kind() {
                ErrorKind::ExpiredSignature => EXPIRED,
                _ => INVALID,
            })?;
        if data.header.crit.is_some() || names_crit(token) {
            return Err(INVALID);
        }
        let claims = data.claims;
        if claims.typ != ACCESS_TYPE {
            return Err(Error::InvalidAccessToken("Token has wrong type."));
        }
        if let Some(cache) = &self.verified {
            let entry = Verified::new(signature, signing_input, claims.clone());
            cache.insert(signature.into(), Arc::new(entry));
        }
        Ok(claims)
    }

    /// The checks a remembered token takes again: `exp` and `nbf` against the clock, with the
    /// leeway, as `jsonwebtoken` checked them the first time.
    fn check_times(&self, claims: &AccessClaims) -> Result<()> {
        let now = crate::time::now().timestamp();
        if claims.exp < now.saturating_sub(self.leeway_secs) {
            return Err(EXPIRED);
        }
        if claims
            .nbf
            .is_some_and(|nbf| nbf > now.saturating_add(self.leeway_secs))
        {
            return Err(INVALID);
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

/// Whether the JOSE header of `token` (which `jsonwebtoken` already decoded) has a `crit`
/// member at all, whatever its value. The crate reads `"crit": null`, or a `crit` repeated with
/// `null` last, as no `crit`; RFC 7515 §4.1.11 allows only a non-empty list, and a header
/// that says anything else under that name is refused, not read as silent. A header that does
/// not decode here counts as naming it (it cannot happen after the crate decoded it).
fn names_crit(token: &str) -> bool {
    let Some(header) = token.split('.').next() else {
        return true;
    };
    let Ok(json) = URL_SAFE_NO_PAD.decode(header) else {
        return true;
    };
    serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(&json)
        .map_or(true, |members| members.contains_key("crit"))
}

/// A duration in whole seconds, as JWT claims count time, saturating.
fn whole_seconds(duration: std::time::Duration) -> i64 {
    i64::try_from(duration.as_secs()).unwrap_or(i64::MAX)
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
#[path = "token_tests.rs"]
mod tests;
