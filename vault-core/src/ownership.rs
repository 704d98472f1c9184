//! Ownership in one place: each module declares a visibility [`Policy`]; [`scope`] turns the
//! caller and the verb into the rows a store query may touch. Store queries always carry the
//! owner from the scope (never from a request body), so another user's private object is simply
//! not found: 404 for every verb, existence never revealed.

use uuid::Uuid;

use crate::error::{Error, Result};
use crate::principal::Principal;

/// Who may see a module's objects.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Policy {
    /// Only the owner, for every verb (resources, tags, decks, cards, reviews).
    Private,
    /// The owner; administrators may also read everyone's (payments, users).
    AdminRead,
    /// Anyone may read (public profiles, portfolio items); only the owner writes, others get 403.
    PublicRead,
}

/// What the caller wants to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verb {
    /// List or read.
    Read,
    /// Create, change or delete.
    Write,
}

/// The rows a query may touch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// Only rows owned by this user.
    Owner(Uuid),
    /// Any row (admin reads of admin-read modules).
    Anyone,
    /// Rows anyone may read (public objects), with the caller's own if authenticated.
    Public(Option<Uuid>),
}

impl Scope {
    /// The owner to put in a query's WHERE clause, when the scope is one user's rows.
    pub fn owner(&self) -> Option<Uuid> {
        match self {
            Self::Owner(id) => Some(*id),
            _ => None,
        }
    }
}

/// The scope of `verb` for `caller` under `policy`. `everyone` asks for an admin's view of all
/// users' rows (admin-read modules only).
///
/// # Errors
/// [`Error::NotAuthenticated`] for anonymous callers of private or write operations;
/// [`Error::PermissionDenied`] when a non-admin asks for everyone's rows.
pub fn scope(
    policy: Policy,
    caller: Option<&Principal>,
    verb: Verb,
    everyone: bool,
) -> Result<Scope> {
    match (policy, caller, verb) {
        (Policy::PublicRead, caller, Verb::Read) => Ok(Scope::Public(caller.map(|c| c.user_id))),
        (_, None, _) => Err(Error::NotAuthenticated),
        (Policy::AdminRead, Some(caller), Verb::Read) if everyone => {
            if caller.is_admin() {
                Ok(Scope::Anyone)
            } else {
                Err(Error::PermissionDenied)
            }
        }
        (_, Some(_), _) if everyone => Err(Error::PermissionDenied),
        (_, Some(caller), _) => Ok(Scope::Owner(caller.user_id)),
    }
}

/// The outcome of writing an object that exists under `owner` when the caller is `caller`:
/// the owner writes; others get 403 for public objects and 404 for private ones.
///
/// # Errors
/// [`Error::PermissionDenied`] or [`Error::NotFound`].
pub fn may_write(caller: &Principal, owner: Uuid, visible_to_others: bool) -> Result<()> {
    if caller.user_id == owner {
        Ok(())
    } else if visible_to_others {
        Err(Error::PermissionDenied)
    } else {
        Err(Error::NotFound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::principal::Role;

    #[test]
    fn the_table() {
        let user = Principal {
            user_id: Uuid::now_v7(),
            role: Role::User,
        };
        let admin = Principal {
            user_id: Uuid::now_v7(),
            role: Role::Admin,
        };
        use Policy::*;
        use Verb::*;
        // (policy, caller, verb, everyone) → outcome
        assert_eq!(
            scope(Private, Some(&user), Read, false).unwrap(),
            Scope::Owner(user.user_id)
        );
        assert_eq!(
            scope(Private, Some(&admin), Read, false).unwrap(),
            Scope::Owner(admin.user_id)
        );
        assert!(matches!(
            scope(Private, Some(&admin), Read, true),
            Err(Error::PermissionDenied)
        ));
        assert!(matches!(
            scope(Private, None, Read, false),
            Err(Error::NotAuthenticated)
        ));
        assert!(matches!(
            scope(Private, None, Write, false),
            Err(Error::NotAuthenticated)
        ));
        assert_eq!(
            scope(AdminRead, Some(&admin), Read, true).unwrap(),
            Scope::Anyone
        );
        assert!(matches!(
            scope(AdminRead, Some(&user), Read, true),
            Err(Error::PermissionDenied)
        ));
        assert_eq!(
            scope(AdminRead, Some(&admin), Write, false).unwrap(),
            Scope::Owner(admin.user_id)
        );
        assert_eq!(
            scope(PublicRead, None, Read, false).unwrap(),
            Scope::Public(None)
        );
        assert!(matches!(
            scope(PublicRead, None, Write, false),
            Err(Error::NotAuthenticated)
        ));
        assert!(may_write(&user, user.user_id, true).is_ok());
        assert!(matches!(
            may_write(&user, admin.user_id, true),
            Err(Error::PermissionDenied)
        ));
        assert!(matches!(
            may_write(&user, admin.user_id, false),
            Err(Error::NotFound)
        ));
    }
}
