//! API.md §10: the OpenAPI document, the offline docs page, health.

use serde_json::json;
use url::Url;

use crate::testkit::{Ctx, Harness, Resp};

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
    for prefix in ["/api", "/v1/vault"] {
        let h = ctx
            .start_with(|c| c.http.api_prefix = prefix.to_string())
            .await;
        for page in [format!("{prefix}/docs"), format!("{prefix}/docs/")] {
            docs_page_loads_everything(&h, prefix, &page).await;
        }
        h.get(&format!("{prefix}/docs/no-such-file.js"))
            .send()
            .await
            .expect_problem(404, "not_found");
    }
}

/// Fetches the docs page at `page` and everything it makes a browser fetch: each `href` and
/// `src`, resolved against the page's URL exactly as a browser resolves it, and the URLs the
/// initializer script loads (the OpenAPI document). None may come from elsewhere.
async fn docs_page_loads_everything(h: &Harness, prefix: &str, page: &str) {
    let origin = Url::parse("http://vault.test").expect("origin");
    let page_url = origin.join(page).expect("page URL");
    let resp = h.get(page).send().await.expect_status(200);
    assert!(
        resp.header("content-type")
            .is_some_and(|c| c.starts_with("text/html")),
        "{page}"
    );
    let html = String::from_utf8_lossy(&resp.body).to_string();
    assert!(html.to_lowercase().contains("swagger"), "{html}");
    // Browsers ask for /favicon.ico only when a page declares no icon.
    let icons: Vec<&str> = html
        .split("<link")
        .skip(1)
        .filter(|tag| tag.contains("rel=\"icon\""))
        .filter_map(|tag| quoted_after(tag, "href=\""))
        .collect();
    assert!(!icons.is_empty(), "{page} declares its icon: {html}");

    let mut links: Vec<String> = Vec::new();
    for attribute in [" href=\"", " src=\""] {
        links.extend(
            html.split(attribute)
                .skip(1)
                .filter_map(|rest| rest.split('"').next())
                .map(String::from),
        );
    }
    assert!(links.len() >= 5, "{page}: {links:?}");
    let mut scripts = Vec::new();
    for link in &links {
        if link.starts_with("data:") {
            continue;
        }
        let asset = fetch_same_origin(h, &page_url, link, page).await;
        let content_type = asset.header("content-type").unwrap_or_default().to_string();
        let expected = match link.rsplit('.').next() {
            Some("css") => "text/css",
            Some("js") => "javascript",
            Some("png") => "image/png",
            _ => "",
        };
        assert!(
            !content_type.is_empty() && content_type.contains(expected),
            "{page}: {link} is served as {content_type:?}"
        );
        if icons.contains(&link.as_str()) {
            assert!(content_type.starts_with("image/"), "{page}: icon {link}");
        }
        if expected == "javascript" {
            scripts.push((link.clone(), asset));
        }
    }

    // The initializer tells Swagger UI what to load; a script's fetches resolve against the
    // page's URL.
    let (_, initializer) = scripts
        .iter()
        .find(|(link, _)| link.ends_with("swagger-initializer.js"))
        .unwrap_or_else(|| panic!("{page} loads swagger-initializer.js: {links:?}"));
    let script = String::from_utf8_lossy(&initializer.body).to_string();
    let urls: Vec<&str> = script
        .split('"')
        .skip(1)
        .step_by(2)
        .filter(|literal| literal.starts_with('/') || literal.contains("://"))
        .collect();
    let document = format!("{prefix}/openapi.json");
    assert!(urls.contains(&document.as_str()), "{page}: {script}");
    for url in urls {
        let fetched = fetch_same_origin(h, &page_url, url, page).await;
        if url.ends_with(".json") {
            assert!(fetched
                .header("content-type")
                .is_some_and(|c| c.starts_with("application/json")));
            assert!(fetched.json()["openapi"].is_string(), "{url}");
        }
    }
}

/// GETs `link` resolved against `page_url` (as a browser would), which must stay on Vault's
/// origin (the page works offline), and expects 200.
async fn fetch_same_origin(h: &Harness, page_url: &Url, link: &str, page: &str) -> Resp {
    let target = page_url
        .join(link)
        .unwrap_or_else(|e| panic!("{page}: {link} does not resolve: {e}"));
    assert_eq!(
        target.origin(),
        page_url.origin(),
        "{page}: {link} comes from elsewhere"
    );
    let path = &target[url::Position::BeforePath..url::Position::AfterQuery];
    let resp = h.get(path).send().await;
    assert_eq!(
        resp.status.as_u16(),
        200,
        "{page}: {link} resolves to {path}, which answers {}",
        resp.status
    );
    resp
}

/// The text after `start` up to the next `"`.
fn quoted_after<'a>(text: &'a str, start: &str) -> Option<&'a str> {
    let (_, rest) = text.split_once(start)?;
    rest.split('"').next()
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
