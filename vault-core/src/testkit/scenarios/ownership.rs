//! API.md §1 and §4: malformed ids, and the ownership table of the private modules.

use serde_json::{json, Value};

use crate::testkit::Ctx;

pub async fn malformed_ids_are_404(ctx: Ctx) {
    let h = ctx.start().await;
    let ada = h.register("ada").await;
    for path in [
        "/api/resources/not-a-uuid",
        "/api/resources/123",
        "/api/tags/%00",
        "/api/tags/zzz",
    ] {
        h.get(path)
            .bearer(&ada.access)
            .send()
            .await
            .expect_problem(404, "not_found");
        h.delete(path)
            .bearer(&ada.access)
            .send()
            .await
            .expect_problem(404, "not_found");
    }
    h.put("/api/resources/nope")
        .bearer(&ada.access)
        .json(json!({"kind": "note", "title": "t"}))
        .send()
        .await
        .expect_problem(404, "not_found");
    h.patch("/api/tags/nope")
        .bearer(&ada.access)
        .json(json!({"name": "x"}))
        .send()
        .await
        .expect_problem(404, "not_found");
}

/// One owned route family of the ownership table. Later modules add rows.
struct Owned {
    /// POST path that creates one.
    create: &'static str,
    /// A valid creation body.
    body: fn() -> Value,
    /// Item path prefix (the id is appended).
    item: &'static str,
    /// A valid PUT body, if the route takes PUT.
    put: Option<fn() -> Value>,
    /// A valid PATCH body.
    patch: fn() -> Value,
    /// List path.
    list: &'static str,
}

const OWNED: &[Owned] = &[
    Owned {
        create: "/api/resources",
        body: || json!({"kind": "note", "title": "secret", "tags": ["private"]}),
        item: "/api/resources/",
        put: Some(|| json!({"kind": "note", "title": "stolen"})),
        patch: || json!({"title": "stolen"}),
        list: "/api/resources",
    },
    Owned {
        create: "/api/decks",
        body: || json!({"name": "secret deck"}),
        item: "/api/decks/",
        put: None,
        patch: || json!({"name": "stolen"}),
        list: "/api/decks",
    },
    Owned {
        create: "/api/tags",
        body: || json!({"name": "secret-tag"}),
        item: "/api/tags/",
        put: None,
        patch: || json!({"name": "stolen"}),
        list: "/api/tags",
    },
];

/// Owner / other user / admin / anonymous × each verb, for every private module: others get 404
/// for every verb (existence is never revealed, admins included), anonymous callers 401.
pub async fn ownership_table_private_modules(ctx: Ctx) {
    let h = ctx.start().await;
    let owner = h.register("owner").await;
    let other = h.register("other").await;
    let admin = h.register("admin").await;
    let admin_id = uuid::Uuid::parse_str(&admin.id).expect("uuid");
    h.vault
        .auth()
        .set_role(admin_id, crate::Role::Admin)
        .await
        .expect("promote");
    let admin_token = h
        .login("admin", &admin.password)
        .await
        .expect_status(200)
        .json()["access"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    for row in OWNED {
        let created = h
            .post(row.create)
            .bearer(&owner.access)
            .json((row.body)())
            .send()
            .await
            .expect_status(201)
            .json();
        let path = format!("{}{}", row.item, created["id"].as_str().unwrap_or_default());
        for (who, token) in [
            ("other user", Some(other.access.as_str())),
            ("admin", Some(admin_token.as_str())),
            ("anonymous", None),
        ] {
            let expect = |resp: crate::testkit::Resp, verb: &str| {
                let (status, code) = if token.is_some() {
                    (404, "not_found")
                } else {
                    (401, "not_authenticated")
                };
                assert_eq!(
                    resp.status.as_u16(),
                    status,
                    "{who} {verb} {path}: {}",
                    String::from_utf8_lossy(&resp.body)
                );
                resp.expect_problem(status, code);
            };
            fn with<'a>(
                req: crate::testkit::Req<'a>,
                token: Option<&str>,
            ) -> crate::testkit::Req<'a> {
                match token {
                    Some(t) => req.bearer(t),
                    None => req,
                }
            }
            expect(with(h.get(&path), token).send().await, "GET");
            if let Some(put) = row.put {
                expect(with(h.put(&path), token).json(put()).send().await, "PUT");
            }
            expect(
                with(h.patch(&path), token).json((row.patch)()).send().await,
                "PATCH",
            );
            expect(with(h.delete(&path), token).send().await, "DELETE");
            if let Some(t) = token {
                let list = h
                    .get(row.list)
                    .bearer(t)
                    .send()
                    .await
                    .expect_status(200)
                    .json();
                assert_eq!(
                    list["count"], 0,
                    "{who} lists none of the owner's {}",
                    row.list
                );
            } else {
                h.get(row.list)
                    .send()
                    .await
                    .expect_problem(401, "not_authenticated");
            }
        }
        // The owner still has it, unchanged.
        let mine = h
            .get(&path)
            .bearer(&owner.access)
            .send()
            .await
            .expect_status(200)
            .json();
        assert_eq!(mine, created, "nothing the others tried changed it");
        if let Some(put) = row.put {
            h.put(&path)
                .bearer(&owner.access)
                .json(put())
                .send()
                .await
                .expect_status(200);
        }
        h.patch(&path)
            .bearer(&owner.access)
            .json((row.patch)())
            .send()
            .await
            .expect_status(200);
        h.delete(&path)
            .bearer(&owner.access)
            .send()
            .await
            .expect_status(204);
    }
}
