//! `Debug` for the account types that hold a secret: passwords as typed (registration, login,
//! password change, account deletion), refresh and access tokens, password hashes. Each prints
//! its other fields and `"[redacted]"` for the secret, so a `?request` in a log line, a panic
//! message or a test failure never shows one.

use std::fmt;

use super::model::{
    ChangePasswordRequest, DeleteAccountRequest, LoginRequest, NewUser, OAuthTokenResponse,
    RefreshRequest, RegisterRequest, RegisterResponse, TokenPair,
};
use super::service::PasswordGrant;

/// What a secret field shows.
const REDACTED: &str = "[redacted]";

impl fmt::Debug for RegisterRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegisterRequest")
            .field("username", &self.username)
            .field("email", &self.email)
            .field("password", &REDACTED)
            .field("display_name", &self.display_name)
            .finish()
    }
}

impl fmt::Debug for LoginRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LoginRequest")
            .field("username", &self.username)
            .field("password", &REDACTED)
            .finish()
    }
}

impl fmt::Debug for PasswordGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PasswordGrant")
            .field("username", &self.username)
            .field("password", &REDACTED)
            .finish()
    }
}

impl fmt::Debug for ChangePasswordRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChangePasswordRequest")
            .field("current_password", &REDACTED)
            .field("new_password", &REDACTED)
            .finish()
    }
}

impl fmt::Debug for DeleteAccountRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeleteAccountRequest")
            .field("password", &REDACTED)
            .finish()
    }
}

impl fmt::Debug for RefreshRequest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RefreshRequest")
            .field("refresh", &REDACTED)
            .finish()
    }
}

impl fmt::Debug for TokenPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenPair")
            .field("access", &REDACTED)
            .field("refresh", &REDACTED)
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

impl fmt::Debug for OAuthTokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthTokenResponse")
            .field("access_token", &REDACTED)
            .field("refresh_token", &REDACTED)
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

impl fmt::Debug for RegisterResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RegisterResponse")
            .field("user", &self.user)
            .field("access", &REDACTED)
            .field("refresh", &REDACTED)
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

impl fmt::Debug for NewUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NewUser")
            .field("id", &self.id)
            .field("username", &self.username)
            .field("email", &self.email)
            .field("display_name", &self.display_name)
            .field("password_hash", &REDACTED)
            .field("role", &self.role)
            .field("created_at", &self.created_at)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use uuid::Uuid;

    use super::*;
    use crate::auth::model::{Email, User, Username};
    use crate::auth::TokenRequest;
    use crate::principal::Role;

    /// A secret that would stand out in any output.
    const SECRET: &str = "Hunter2-Secret-Sauce";

    /// `shown` names the type, shows the non-secret `visible` text and no trace of [`SECRET`],
    /// whether formatted compactly or pretty-printed.
    #[track_caller]
    fn redacted(value: &dyn fmt::Debug, visible: &str) {
        for shown in [format!("{value:?}"), format!("{value:#?}")] {
            assert!(!shown.contains(SECRET), "secret shown: {shown}");
            assert!(
                !shown.contains("Hunter2"),
                "part of the secret shown: {shown}"
            );
            assert!(shown.contains(REDACTED), "{shown}");
            assert!(shown.contains(visible), "{visible} missing from {shown}");
        }
    }

    fn json<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
        serde_json::from_value(value).expect("a valid body")
    }

    #[test]
    fn request_bodies_never_show_passwords_or_tokens() {
        let register: RegisterRequest = json(serde_json::json!({
            "username": "ada", "email": "ada@example.com", "password": SECRET
        }));
        redacted(&register, "ada@example.com");
        let login: LoginRequest = json(serde_json::json!({"username": "ada", "password": SECRET}));
        redacted(&login, "ada");
        let change: ChangePasswordRequest = json(serde_json::json!({
            "current_password": SECRET, "new_password": format!("{SECRET}-new")
        }));
        redacted(&change, "new_password");
        let delete: DeleteAccountRequest = json(serde_json::json!({"password": SECRET}));
        redacted(&delete, "DeleteAccountRequest");
        let refresh: RefreshRequest = json(serde_json::json!({"refresh": SECRET}));
        redacted(&refresh, "RefreshRequest");
        let form = format!("grant_type=password&username=ada&password={SECRET}");
        let grant = PasswordGrant::from_form(form.as_bytes()).expect("a valid form");
        redacted(&grant, "ada");
        // The token endpoint's body, either form, inherits the redaction.
        redacted(&TokenRequest::Form(grant), "Form");
        redacted(&TokenRequest::Json(login), "Json");
    }

    #[test]
    fn answers_and_new_users_never_show_tokens_or_hashes() {
        let pair = TokenPair {
            access: SECRET.into(),
            refresh: format!("vrt_{SECRET}"),
            token_type: "Bearer".into(),
            expires_in: 1800,
        };
        redacted(&pair, "1800");
        redacted(&OAuthTokenResponse::from(pair.clone()), "Bearer");
        let user = User {
            id: Uuid::nil(),
            username: "ada".into(),
            email: "ada@example.com".into(),
            display_name: String::new(),
            role: Role::User,
            is_active: true,
            created_at: crate::time::now(),
        };
        redacted(
            &RegisterResponse {
                user,
                access: pair.access,
                refresh: pair.refresh,
                token_type: pair.token_type,
                expires_in: pair.expires_in,
            },
            "ada@example.com",
        );
        let new_user = NewUser {
            id: Uuid::nil(),
            username: Username::parse("ada").expect("valid"),
            email: Email::parse("ada@example.com").expect("valid"),
            display_name: String::new(),
            password_hash: format!("$argon2id$v=19$m=19456,t=2,p=1${SECRET}"),
            role: Role::Admin,
            created_at: crate::time::now(),
        };
        redacted(&new_user, "Admin");
    }
}
