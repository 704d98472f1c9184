//! Access tokens (JWT, HS256 pinned) and refresh tokens (opaque, 256 bits, stored hashed).

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
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
}

/// Signs and verifies access tokens; makes and hashes refresh tokens.
pub struct TokenCodec {
    encoding: EncodingKey,
    decoding: DecodingKey,
    header: Header,
    validation: Validation,
    issuer: String,
    audience: String,
    access_ttl_secs: i64,
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
    /// A codec for the configured secret, issuer, audience and lifetimes.
    pub fn new(config: &Config) -> Self {
        let secret = config.jwt_secret.expose();
        // RFC 8725 §3.1: accept exactly the one algorithm we issue; `none` and algorithm
        // switching are refused before the signature is even looked at.
        let mut validation = Validation::new(Algorithm::HS256);
        validation.algorithms = vec![Algorithm::HS256];
        validation.set_issuer(&[&config.jwt_issuer]);
        validation.set_audience(&[&config.jwt_audience]);
        validation.set_required_spec_claims(&["exp", "iat", "iss", "aud", "sub"]);
        validation.leeway = config.jwt_leeway.as_secs();
        validation.validate_exp = true;
        validation.validate_nbf = true;
        Self {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            header: Header::new(Algorithm::HS256),
            validation,
            issuer: config.jwt_issuer.clone(),
            audience: config.jwt_audience.clone(),
            access_ttl_secs: i64::try_from(config.access_ttl.as_secs()).unwrap_or(i64::MAX),
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
        };
        jsonwebtoken::encode(&self.header, &claims, &self.encoding).map_err(Error::internal)
    }

    /// Verifies signature, algorithm, `exp`, `iss`, `aud` and `typ`.
    ///
    /// # Errors
    /// [`Error::InvalidAccessToken`] for any failure.
    pub fn verify_access(&self, token: &str) -> Result<AccessClaims> {
        let data = jsonwebtoken::decode::<AccessClaims>(token, &self.decoding, &self.validation)
            .map_err(|e| {
                use jsonwebtoken::errors::ErrorKind;
                Error::InvalidAccessToken(match e.kind() {
                    ErrorKind::ExpiredSignature => "Token is expired.",
                    _ => "Token is invalid or expired.",
                })
            })?;
        if data.claims.typ != ACCESS_TYPE {
            return Err(Error::InvalidAccessToken("Token has wrong type."));
        }
        Ok(data.claims)
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Secret;

    fn codec() -> TokenCodec {
        TokenCodec::new(&Config::new("sqlite::memory:", Secret::new(vec![42; 32])))
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
