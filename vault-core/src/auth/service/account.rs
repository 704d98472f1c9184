//! The caller's own account (profile, password, deletion) and administration of others.

use std::sync::Arc;

use uuid::Uuid;

use super::AuthService;
use crate::auth::model::*;
use crate::auth::store::UserChanges;
use crate::error::{Error, FieldErrors, Result};
use crate::principal::{Principal, Role};
use crate::time;

impl AuthService {
    /// The caller's account, from the same per-user cache as the access-token checks: a
    /// profile change made through another instance shows here within `token_state_ttl`
    /// (changes made through this instance show at once).
    ///
    /// # Errors
    /// [`Error::InvalidAccessToken`] when the account is gone.
    pub async fn me(&self, principal: &Principal) -> Result<User> {
        Ok(self.caller_state(principal).await?.user.clone())
    }

    /// [`AuthService::me`] serialized as the JSON body `GET /auth/me` answers with. The
    /// account comes from the per-user state cache; the bytes are made per call, since the
    /// cache holds accounts, not HTTP bodies.
    ///
    /// # Errors
    /// As [`AuthService::me`]; [`Error::Internal`] if serialization fails.
    pub async fn me_json(&self, principal: &Principal) -> Result<bytes::Bytes> {
        let me = self.me(principal).await?;
        serde_json::to_vec(&me)
            .map(bytes::Bytes::from)
            .map_err(Error::internal)
    }

    /// The caller's cached state; the account being gone refuses the token.
    async fn caller_state(&self, principal: &Principal) -> Result<Arc<TokenState>> {
        self.states
            .get(self.store.as_ref(), principal.user_id)
            .await?
            .ok_or(Error::InvalidAccessToken("User not found."))
    }

    /// Changes the caller's email and/or display name.
    ///
    /// # Errors
    /// [`Error::Validation`] on bad fields, [`Error::Conflict`] on a taken email.
    pub async fn update_me(&self, principal: &Principal, req: UpdateMeRequest) -> Result<User> {
        let mut errors = FieldErrors::new();
        let email = errors.check("email", req.email.non_null()).flatten();
        let email = email.and_then(|e| errors.check("email", Email::parse(&e)));
        let display_name = errors
            .check("display_name", req.display_name.non_null())
            .flatten();
        let display_name =
            display_name.and_then(|d| errors.check("display_name", parse_display_name(&d)));
        errors.into_result()?;
        let changes = UserChanges {
            email,
            display_name,
        };
        let updated = self
            .store
            .update_user(principal.user_id, &changes, time::now())
            .await?;
        self.states.forget(principal.user_id);
        updated
            .map(User::from)
            .ok_or(Error::InvalidAccessToken("User not found."))
    }

    /// Changes the caller's password after checking the current one; ends every session and
    /// revokes outstanding access tokens.
    ///
    /// # Errors
    /// [`Error::Validation`] on a wrong current password (`errors.current_password`) or a weak
    /// new one (`errors.new_password`); [`Error::Throttled`] when the account's
    /// password-check budget is spent (checked before the current password is).
    pub async fn change_password(
        &self,
        principal: &Principal,
        req: ChangePasswordRequest,
    ) -> Result<()> {
        let user = self
            .confirm_password(principal, &req.current_password, "current_password")
            .await?;
        let new = Password::parse(&req.new_password, &user.username, &user.email)
            .map_err(|m| Error::field("new_password", m))?;
        if req.new_password == req.current_password {
            return Err(Error::field(
                "new_password",
                "The new password must differ from the current one.",
            ));
        }
        let hash = self.hasher.hash(new.expose()).await?;
        self.store
            .change_password(user.id, &hash, time::now())
            .await?;
        self.states.forget(user.id);
        Ok(())
    }

    /// Deletes the caller's account and everything they own, after checking their password.
    ///
    /// # Errors
    /// [`Error::Validation`] on a wrong password (`errors.password`); [`Error::Throttled`] when
    /// the account's password-check budget is spent (checked before the password is).
    pub async fn delete_account(
        &self,
        principal: &Principal,
        req: DeleteAccountRequest,
    ) -> Result<()> {
        let user = self
            .confirm_password(principal, &req.password, "password")
            .await?;
        self.store.delete_user(user.id).await?;
        self.states.forget(user.id);
        Ok(())
    }

    async fn confirm_password(
        &self,
        principal: &Principal,
        password: &str,
        field: &str,
    ) -> Result<UserRecord> {
        check_presented_password(password).map_err(|message| Error::field(field, message))?;
        let user = self
            .store
            .user_by_id(principal.user_id)
            .await?
            .ok_or(Error::InvalidAccessToken("User not found."))?;
        // A stolen access token must not become a password-guessing oracle: the attempt
        // counts before the password is checked, and only a right password gives it back.
        let attempt = self.take_confirmation(user.id).await?;
        let verified = match self
            .hasher
            .verify(password, Some(&user.password_hash))
            .await
        {
            Ok(verified) => verified,
            Err(error) => {
                self.give_back(attempt).await;
                return Err(error);
            }
        };
        if !verified {
            drop(attempt);
            return Err(Error::field(field, "The password is not correct."));
        }
        self.give_back(attempt).await;
        Ok(user)
    }

    /// Activates or deactivates a user. Deactivation ends their sessions and revokes their
    /// access tokens (on other instances within `token_state_ttl`).
    ///
    /// # Errors
    /// [`Error::NotFound`] when the user does not exist.
    pub async fn set_active(&self, user_id: Uuid, active: bool) -> Result<()> {
        let found = self.store.set_active(user_id, active, time::now()).await?;
        self.states.forget(user_id);
        found.then_some(()).ok_or(Error::NotFound)
    }

    /// Changes a user's role. The token version is bumped, so their outstanding access tokens
    /// stop working (on other instances within `token_state_ttl`); their sessions stay, and the
    /// next refresh issues tokens with the new role.
    ///
    /// # Errors
    /// [`Error::NotFound`] when the user does not exist.
    pub async fn set_role(&self, user_id: Uuid, role: Role) -> Result<()> {
        let found = self.store.set_role(user_id, role, time::now()).await?;
        self.states.forget(user_id);
        found.then_some(()).ok_or(Error::NotFound)
    }
}
