//! API.md §10: the OpenAPI document, the offline docs page, health.

use serde_json::json;

use crate::testkit::Ctx;

pub async fn openapi_document_describes_the_api(ctx: Ctx) {
    let h = ctx.start().await;
    let resp = h.get("/api/openapi.json").send().await.expect_status(200);
    assert!(resp
        .header("content-type")
        .is_some_and(|c| c.starts_with("application/json")));
    let doc = resp.json();
    assert!(
        doc["openapi"].as_str().is_some_and(|v| v.starts_with("3.")),
        "{}",
        doc["openapi"]
    );
    let paths = doc["paths"].as_object().expect("paths");
    for (path, method) in [
        ("/api/auth/register", "post"),
        ("/api/auth/token", "post"),
        ("/api/auth/token/refresh", "post"),
        ("/api/auth/logout", "post"),
        ("/api/auth/logout-all", "post"),
        ("/api/auth/me", "get"),
        ("/api/auth/me", "patch"),
        ("/api/auth/me", "delete"),
        ("/api/auth/password", "post"),
        ("/health/live", "get"),
        ("/health/ready", "get"),
    ] {
        assert!(
            paths.get(path).and_then(|p| p.get(method)).is_some(),
            "{method} {path} documented"
        );
    }
    let schemes = &doc["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    assert_eq!(
        schemes["oauth2"]["flows"]["password"]["tokenUrl"],
        "/api/auth/token"
    );
    let created = &paths["/api/auth/register"]["post"]["responses"]["201"];
    let location = created["headers"]
        .as_object()
        .and_then(|headers| {
            headers
                .iter()
                .find(|(name, _)| name.eq_ignore_ascii_case("location"))
        })
        .map(|(_, header)| header["schema"]["type"].clone());
    assert_eq!(
        location,
        Some(json!("string")),
        "registration's 201 documents its Location: {created}"
    );
    let problem = &paths["/api/auth/register"]["post"]["responses"]["400"]["content"]
        ["application/problem+json"];
    assert!(problem.is_object(), "errors are documented as problem+json");
    assert!(doc["components"]["schemas"]["Problem"].is_object());
}

pub async fn every_documented_route_is_served(ctx: Ctx) {
    let h = ctx.start().await;
    let doc = h
        .get("/api/openapi.json")
        .send()
        .await
        .expect_status(200)
        .json();
    let paths = doc["paths"].as_object().expect("paths").clone();
    for (path, item) in paths {
        let concrete = path.replace("{id}", &uuid::Uuid::now_v7().to_string());
        for method in item
            .as_object()
            .map(|o| o.keys().cloned().collect::<Vec<_>>())
            .unwrap_or_default()
        {
            let Ok(method) = method.to_uppercase().parse::<http::Method>() else {
                continue;
            };
            let resp = h
                .req(method.clone(), &concrete)
                .json(json!({}))
                .send()
                .await;
            assert!(
                resp.status != 404 && resp.status != 405,
                "{method} {concrete} is documented but answers {}",
                resp.status
            );
        }
    }
}

pub async fn docs_page_works_offline(ctx: Ctx) {
    let h = ctx.start().await;
    for path in ["/api/docs", "/api/docs/"] {
        let page = h.get(path).send().await.expect_status(200);
        assert!(page
            .header("content-type")
            .is_some_and(|c| c.starts_with("text/html")));
        let html = String::from_utf8_lossy(&page.body).to_string();
        assert!(html.to_lowercase().contains("swagger"), "{html}");
        assert!(
            !html.contains("https://"),
            "no asset comes from the internet"
        );
        // Every asset the page references is served by us.
        for asset in html.split('"').filter(|s| s.starts_with("/api/docs/")) {
            h.get(asset).send().await.expect_status(200);
        }
    }
    let init = h
        .get("/api/docs/swagger-initializer.js")
        .send()
        .await
        .expect_status(200);
    assert!(String::from_utf8_lossy(&init.body).contains("/api/openapi.json"));
    h.get("/api/docs/no-such-file.js")
        .send()
        .await
        .expect_problem(404, "not_found");
}

pub async fn health_endpoints(ctx: Ctx) {
    let h = ctx.start().await;
    assert_eq!(
        h.get("/health/live").send().await.expect_status(200).json()["status"],
        "ok"
    );
    assert_eq!(
        h.get("/health/ready")
            .send()
            .await
            .expect_status(200)
            .json()["status"],
        "ok"
    );
    // The database goes away: ready says 503, live stays 200, the API answers 503, not 500.
    h.vault.database().close().await;
    h.get("/health/ready")
        .send()
        .await
        .expect_problem(503, "service_unavailable");
    h.get("/health/live").send().await.expect_status(200);
    h.login("anyone", "whatever-password")
        .await
        .expect_problem(503, "service_unavailable");
}
