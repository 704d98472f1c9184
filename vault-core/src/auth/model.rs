//! Account types: parse-don't-validate newtypes, stored records and the request/response bodies
//! of API.md §3.

use std::fmt;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::principal::Role;
use crate::time::Timestamp;
use crate::wire::Patch;

/// A username: 3–32 characters of `[A-Za-z0-9_.-]`. Unique case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Username(String);

impl Username {
    /// Validates a username.
    ///
    /// # Errors
    /// A human-readable message when it is too short, too long or has other characters.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let len = raw.chars().count();
        if len < 3 {
            return Err("Ensure this field has at least 3 characters.".into());
        }
        if len > 32 {
            return Err("Ensure this field has no more than 32 characters.".into());
        }
        if !raw
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
        {
            return Err("Enter a valid username. This value may contain only letters, numbers, and ./-/_ characters.".into());
        }
        Ok(Self(raw.to_string()))
    }

    /// The username as given.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// An email address, syntactically valid, with its domain lower-cased. Unique case-insensitively.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Validates an email address (the practical subset of RFC 5321 that mail servers accept).
    ///
    /// # Errors
    /// "Enter a valid email address." when it is not one.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let invalid = || "Enter a valid email address.".to_string();
        if raw.len() > 254 || raw.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(invalid());
        }
        let (local, domain) = raw.rsplit_once('@').ok_or_else(invalid)?;
        let local_ok = !local.is_empty()
            && local.len() <= 64
            && !local.starts_with('.')
            && !local.ends_with('.')
            && !local.contains("..")
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "!#$%&'*+/=?^_`{|}~.-".contains(c));
        let labels: Vec<&str> = domain.split('.').collect();
        let domain_ok = labels.len() >= 2
            && labels.iter().all(|label| {
                !label.is_empty()
                    && label.len() <= 63
                    && !label.starts_with('-')
                    && !label.ends_with('-')
                    && label.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
            })
            && labels
                .last()
                .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(|c| c.is_ascii_alphabetic()));
        if !local_ok || !domain_ok {
            return Err(invalid());
        }
        Ok(Self(format!("{local}@{}", domain.to_ascii_lowercase())))
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Passwords presented for checking (login, password change, account deletion): at most this
/// many characters. Longer than any password the rules accept, so no right password is refused,
/// while what a client sends to be hashed stays bounded.
pub const PRESENTED_PASSWORD_MAX: usize = 1024;

/// Checks a password presented for comparison: not blank, at most [`PRESENTED_PASSWORD_MAX`]
/// characters. Strength rules apply only to new passwords ([`Password::parse`]).
///
/// # Errors
/// A human-readable message when it is blank or too long.
pub fn check_presented_password(raw: &str) -> Result<(), String> {
    if raw.is_empty() {
        return Err("This field may not be blank.".into());
    }
    if raw.chars().nth(PRESENTED_PASSWORD_MAX).is_some() {
        return Err(format!(
            "Ensure this field has no more than {PRESENTED_PASSWORD_MAX} characters."
        ));
    }
    Ok(())
}

/// Refresh tokens presented to refresh or log out: at most this many bytes (the ones Vault
/// issues are 50); a longer one is refused as invalid without being looked up.
pub const PRESENTED_REFRESH_MAX: usize = 256;

/// Login names: at most this many characters. No account has a longer one (a username has at
/// most 32, an email at most 254).
pub const LOGIN_NAME_MAX: usize = 254;

/// What was typed as `username` at login: a username or an email, not blank, at most
/// [`LOGIN_NAME_MAX`] characters. Checked before anything is counted or looked up, so the
/// length of what a client sends never reaches a counter or a query.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LoginName(String);

impl LoginName {
    /// Checks a typed login name.
    ///
    /// # Errors
    /// A human-readable message when it is blank or too long.
    pub fn parse(raw: &str) -> Result<Self, String> {
        if raw.is_empty() {
            return Err("This field may not be blank.".into());
        }
        if raw.chars().nth(LOGIN_NAME_MAX).is_some() {
            return Err(format!(
                "Ensure this field has no more than {LOGIN_NAME_MAX} characters."
            ));
        }
        Ok(Self(raw.to_string()))
    }

    /// The name as typed (what the store is asked for).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The name with surrounding whitespace trimmed and ASCII letters lower-cased: every way
    /// of typing it that the store matches to the same account folds to the same text (the
    /// store compares ignoring ASCII case; names that need more are never looked up, see
    /// [`LoginName::could_name_an_account`]). The failed-login budget is kept under this.
    pub fn folded(&self) -> String {
        self.0.trim().to_ascii_lowercase()
    }

    /// Whether an account can have this name. Usernames and emails are ASCII by the register
    /// rules, and outside ASCII the databases fold case differently (PostgreSQL's `lower`
    /// may turn a non-ASCII letter into an ASCII one, SQLite's does not), so a name with any
    /// other character is answered as an unknown one without asking the store: the database
    /// in use never decides whether a spelling reaches an account.
    pub fn could_name_an_account(&self) -> bool {
        self.0.is_ascii()
    }
}

/// A password that satisfies the rules of API.md §3. Its `Debug` output is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct Password(String);

impl Password {
    /// Validates a new password: 8–128 characters (no composition rules), not the username or
    /// email, and not common or trivially guessable (zxcvbn score below 2, with the username and
    /// email as context).
    ///
    /// # Errors
    /// A human-readable message.
    pub fn parse(raw: &str, username: &str, email: &str) -> Result<Self, String> {
        crate::text::check_nul(raw)?;
        let len = raw.chars().count();
        if len < 8 {
            return Err(
                "This password is too short. It must contain at least 8 characters.".into(),
            );
        }
        if len > 128 {
            return Err(
                "This password is too long. It must contain at most 128 characters.".into(),
            );
        }
        let lower = raw.to_lowercase();
        let local_part = email.split('@').next().unwrap_or_default().to_lowercase();
        if lower == username.to_lowercase()
            || lower == email.to_lowercase()
            || (!local_part.is_empty() && lower == local_part)
        {
            return Err("The password is too similar to the username or email.".into());
        }
        let estimate = zxcvbn::zxcvbn(raw, &[username, email, "vault"]);
        if u8::from(estimate.score()) < 2 {
            return Err("This password is too common.".into());
        }
        Ok(Self(raw.to_string()))
    }

    /// The password text (to hash it).
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password(\"[redacted]\")")
    }
}

/// Display names: at most this many characters.
pub const DISPLAY_NAME_MAX: usize = 150;

/// Validates a display name (may be empty): a single line (see [`crate::text`]).
///
/// # Errors
/// A message when it is too long or has control characters.
pub fn parse_display_name(raw: &str) -> Result<String, String> {
    if crate::text::longer_than(raw, DISPLAY_NAME_MAX) {
        return Err(crate::text::too_long(DISPLAY_NAME_MAX));
    }
    crate::text::check_controls(raw, crate::text::Lines::Single)?;
    Ok(raw.trim().to_string())
}

/// A user as the API shows it.
#[cfg_attr(feature = "poem-openapi", derive(poem_openapi::Object))]
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema, sqlx::FromRow)]
pub struct User {
    /// UUID v7.
    pub id: Uuid,
    /// Unique (case-insensitively) username.
    pub username: String,
    /// Unique (case-insensitively) email.
    pub email: String,
    /// Free-form name to show.
    pub display_name: String,
    /// `user` or `admin`.
    #[sqlx(try_from = "String")]
    pub role: Role,
    /// Inactive users cannot log in or refresh.
    pub is_active: bool,
    /// When the account was created.
    #[serde(with = "crate::time::rfc3339")]
    #[schema(value_type = String, format = DateTime)]
    pub created_at: Timestamp,
}

/// A user row with its secrets, as the store returns it.
#[derive(Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct UserRecord {
    /// UUID v7.
    pub id: Uuid,
    /// Username as registered.
    pub username: String,
    /// Email as registered.
    pub email: String,
    /// Display name.
    pub display_name: String,
    /// PHC-format argon2id hash.
    pub password_hash: String,
    /// Role.
    #[sqlx(try_from = "String")]
    pub role: Role,
    /// Whether the user may log in.
    pub is_active: bool,
    /// Bumped on logout-all, password change and deactivation; access tokens carry it.
    pub token_version: i64,
    /// Creation time.
    pub created_at: Timestamp,
    /// Last change.
    pub updated_at: Timestamp,
}

impl fmt::Debug for UserRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UserRecord")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("role", &self.role)
            .field("is_active", &self.is_active)
            .field("token_version", &self.token_version)
            .finish_non_exhaustive()
    }
}

impl From<UserRecord> for User {
    fn from(r: UserRecord) -> Self {
        Self {
            id: r.id,
            username: r.username,
            email: r.email,
            display_name: r.display_name,
            role: r.role,
            is_active: r.is_active,
            created_at: r.created_at,
        }
    }
}

/// A user's current state: what access-token checks and `GET /auth/me` need (everything but
/// the password hash), cached per user for `token_state_ttl`.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct TokenState {
    /// Current token version: access tokens carrying another one are revoked.
    pub token_version: i64,
    /// The account as the API shows it (its `role` and `is_active` are the current ones).
    #[sqlx(flatten)]
    pub user: User,
}

/// A validated new user, ready to insert.
#[derive(Clone)]
pub struct NewUser {
    /// Fresh UUID v7.
    pub id: Uuid,
    /// Validated username.
    pub username: Username,
    /// Validated email.
    pub email: Email,
    /// Validated display name.
    pub display_name: String,
    /// argon2id hash of the password.
    pub password_hash: String,
    /// Role.
    pub role: Role,
    /// Creation time.
    pub created_at: Timestamp,
}

/// A refresh token to store: only its SHA-256 is kept.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewRefreshToken {
    /// Row id (UUID v7).
    pub id: Uuid,
    /// Owner.
    pub user_id: Uuid,
    /// Session (token family) this token belongs to; rotation keeps it.
    pub family_id: Uuid,
    /// SHA-256 of the token string.
    pub token_hash: Vec<u8>,
    /// Issue time.
    pub created_at: Timestamp,
    /// Expiry.
    pub expires_at: Timestamp,
}

/// What happened when a refresh token was presented for rotation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Rotation {
    /// The token was live: it is now revoked and the new one stored in its family.
    Rotated {
        /// Owner of the session.
        user_id: Uuid,
    },
    /// The token was already revoked: a replay. The caller must revoke the family.
    Reused {
        /// The family to revoke.
        family_id: Uuid,
    },
    /// The token is genuine but expired, or its user is inactive or gone.
    Refused,
    /// No such token was ever issued (or it expired and was purged).
    Unknown,
}

/// POST /auth/register body.
#[cfg_attr(
    feature = "poem-openapi",
    derive(poem_openapi::Object),
    oai(deny_unknown_fields)
)]
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RegisterRequest {
    /// 3–32 characters of `[A-Za-z0-9_.-]`.
    #[schema(example = "ada")]
    pub username: String,
    /// A valid email address.
    #[schema(example = "ada@example.com")]
    pub email: String,
    /// 8–128 characters, not common, not the username or email.
    #[schema(example = "correct-horse-battery-staple")]
    pub password: String,
    /// Optional name to show.
    #[cfg_attr(feature = "poem-openapi", oai(nullable))]
    #[serde(default)]
    pub display_name: Option<String>,
}

/// POST /auth/token JSON body. `username` may also be the email.
#[cfg_attr(
    feature = "poem-openapi",
    derive(poem_openapi::Object),
    oai(deny_unknown_fields)
)]
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    /// Username or email.
    pub username: String,
    /// Password.
    pub password: String,
}

/// Body carrying a refresh token (refresh, logout).
#[cfg_attr(
    feature = "poem-openapi",
    derive(poem_openapi::Object),
    oai(deny_unknown_fields)
)]
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RefreshRequest {
    /// The refresh token.
    pub refresh: String,
}

/// PATCH /auth/me body: only these fields are writable.
#[cfg_attr(
    feature = "poem-openapi",
    derive(poem_openapi::Object),
    oai(deny_unknown_fields)
)]
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateMeRequest {
    /// New email.
    #[cfg_attr(feature = "poem-openapi", oai(nullable))]
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub email: Patch<String>,
    /// New display name.
    #[cfg_attr(feature = "poem-openapi", oai(nullable))]
    #[serde(default)]
    #[schema(value_type = Option<String>)]
    pub display_name: Patch<String>,
}

/// POST /auth/password body.
#[cfg_attr(
    feature = "poem-openapi",
    derive(poem_openapi::Object),
    oai(deny_unknown_fields)
)]
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangePasswordRequest {
    /// The password now in use.
    pub current_password: String,
    /// The new password (same rules as at registration).
    pub new_password: String,
}

/// DELETE /auth/me body.
#[cfg_attr(
    feature = "poem-openapi",
    derive(poem_openapi::Object),
    oai(deny_unknown_fields)
)]
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteAccountRequest {
    /// The account's password, to confirm.
    pub password: String,
}

/// An access/refresh pair (JSON login, refresh).
#[cfg_attr(feature = "poem-openapi", derive(poem_openapi::Object))]
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct TokenPair {
    /// JWT access token.
    pub access: String,
    /// Opaque refresh token.
    pub refresh: String,
    /// Always `Bearer`.
    #[schema(example = "Bearer")]
    pub token_type: String,
    /// Access-token lifetime in seconds.
    pub expires_in: u64,
}

/// The OAuth2 password-grant answer (form login; what Swagger UI's Authorize reads).
#[cfg_attr(feature = "poem-openapi", derive(poem_openapi::Object))]
#[derive(Clone, Serialize, Deserialize, ToSchema)]
pub struct OAuthTokenResponse {
    /// JWT access token.
    pub access_token: String,
    /// Opaque refresh token.
    pub refresh_token: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Access-token lifetime in seconds.
    pub expires_in: u64,
}

impl From<TokenPair> for OAuthTokenResponse {
    fn from(p: TokenPair) -> Self {
        Self {
            access_token: p.access,
            refresh_token: p.refresh,
            token_type: p.token_type,
            expires_in: p.expires_in,
        }
    }
}

/// POST /auth/register answer.
#[cfg_attr(feature = "poem-openapi", derive(poem_openapi::Object))]
#[derive(Clone, Serialize, ToSchema)]
pub struct RegisterResponse {
    /// The new user.
    pub user: User,
    /// JWT access token.
    pub access: String,
    /// Opaque refresh token.
    pub refresh: String,
    /// Always `Bearer`.
    pub token_type: String,
    /// Access-token lifetime in seconds.
    pub expires_in: u64,
}

#[cfg(test)]
#[path = "model_tests.rs"]
mod tests;
