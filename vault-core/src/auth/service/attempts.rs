//! The password-check budgets of API.md §9 (`throttle.auth_user`).
//!
//! Every login and every password confirmation takes a unit of its budgets *before* the
//! password is checked, in one atomic [`Throttle::hit`](crate::throttle::Throttle::hit) per
//! budget: however many guesses arrive at once, no more are checked than the budget holds. A
//! right password gives its units back, so only failures count.
//!
//! The budgets:
//! - **per login name**: a login counts against the name as typed, trimmed and ASCII
//!   case-folded ([`LoginName::folded`]), whether or not an account has that name. Whether a
//!   name's budget is spent thus depends only on what was typed with it, so 429s cannot tell
//!   which names (a username, an email) belong to one account. The price: an account can be
//!   guessed at through each of its names, a username and an email, one budget each.
//! - **per account, for confirmations**: wrong passwords on password change and account
//!   deletion count against the account, so a stolen access token is no better for guessing.
//! - **an account ceiling** of twice the budget, shared by the logins under all of an
//!   account's names and by its confirmations. The two names of an account never reach it
//!   on their own (two budgets of N are at most 2N), so it reveals no more than they do; it
//!   stops whoever holds an access token from winning fresh budgets by changing the email.
//!   Logins under names no account has take a unit of a ceiling of their own, so a login
//!   costs the same throttle calls whether the account exists or not.

use uuid::Uuid;

use super::AuthService;
use crate::auth::model::LoginName;
use crate::config::Rate;
use crate::error::Result;
use crate::throttle::digest_key;

/// Units taken for one password check, each `(key, rate)`. Dropping it keeps them spent (the
/// attempt failed); [`AuthService::give_back`] returns them.
#[derive(Debug, Default)]
#[must_use = "an attempt's units stay spent unless given back"]
pub(super) struct Attempt {
    taken: Vec<(String, Rate)>,
}

impl Attempt {
    /// Adds the units of `other` to this attempt.
    fn join(&mut self, mut other: Attempt) {
        self.taken.append(&mut other.taken);
    }
}

impl AuthService {
    /// The account ceiling: twice the per-name budget, over the same period.
    fn ceiling(rate: Rate) -> Rate {
        Rate {
            count: rate.count.saturating_mul(2),
            period: rate.period,
        }
    }

    /// Takes one unit of each budget in `budgets`, in order. If one is spent, gives back
    /// the units already taken and refuses; nothing is left counted.
    ///
    /// # Errors
    /// [`Error::Throttled`](crate::Error::Throttled) with the wait of the spent budget; the
    /// throttle's own errors.
    async fn take(&self, budgets: Vec<(String, Rate)>) -> Result<Attempt> {
        let mut attempt = Attempt::default();
        for (key, rate) in budgets {
            let decision = match self.throttle.hit(&key, rate).await {
                Ok(decision) => decision,
                Err(error) => {
                    self.give_back(attempt).await;
                    return Err(error);
                }
            };
            if let Err(spent) = decision.into_result() {
                self.give_back(attempt).await;
                return Err(spent);
            }
            attempt.taken.push((key, rate));
        }
        Ok(attempt)
    }

    /// Gives back every unit of `attempt` (the password was right, or it was never checked).
    /// A throttle that cannot be reached only costs the user a unit: the request goes on.
    pub(super) async fn give_back(&self, attempt: Attempt) {
        for (key, rate) in attempt.taken {
            if let Err(error) = self.throttle.refund(&key, rate).await {
                tracing::warn!(%error, "giving back a password-check unit failed");
            }
        }
    }

    /// The first step of a login: a unit of the budget of the name as typed, before the
    /// store is even asked about it.
    ///
    /// # Errors
    /// As [`AuthService::take`].
    pub(super) async fn take_login_name(&self, name: &LoginName) -> Result<Attempt> {
        let Some(rate) = self.limits.auth_user else {
            return Ok(Attempt::default());
        };
        self.take(vec![(digest_key("login", &name.folded()), rate)])
            .await
    }

    /// The second step of a login, once the store has answered: a unit of the account's
    /// ceiling (of the name's own, when no account has it), added to `attempt`.
    ///
    /// # Errors
    /// As [`AuthService::take`].
    pub(super) async fn take_login_account(
        &self,
        attempt: &mut Attempt,
        name: &LoginName,
        account: Option<Uuid>,
    ) -> Result<()> {
        let Some(rate) = self.limits.auth_user else {
            return Ok(());
        };
        let key = match account {
            Some(id) => format!("account:{id}"),
            None => digest_key("account", &name.folded()),
        };
        attempt.join(self.take(vec![(key, Self::ceiling(rate))]).await?);
        Ok(())
    }

    /// A password confirmation by the holder of an access token: a unit of the account's
    /// confirmation budget and one of its ceiling.
    ///
    /// # Errors
    /// As [`AuthService::take`].
    pub(super) async fn take_confirmation(&self, account: Uuid) -> Result<Attempt> {
        let Some(rate) = self.limits.auth_user else {
            return Ok(Attempt::default());
        };
        self.take(vec![
            (format!("confirm:{account}"), rate),
            (format!("account:{account}"), Self::ceiling(rate)),
        ])
        .await
    }
}
