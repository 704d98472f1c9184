use super::*;

#[test]
fn database_states_of_an_unreachable_database_are_unavailable() {
    for code in ["08006", "08001", "57P01", "57P02", "57P03", "53300"] {
        assert!(is_unavailable_sqlstate(code), "{code}");
    }
    // Wrong statements and violated constraints stay server errors (or are mapped by the
    // stores): unique and foreign key violations, a syntax error, a NUL byte, a cancel.
    for code in ["23505", "23503", "42601", "22021", "57014"] {
        assert!(!is_unavailable_sqlstate(code), "{code}");
    }
    for code in ["5", "517", "773"] {
        assert!(is_busy_sqlite(code), "{code}");
    }
    // Constraint violations (plain, unique, foreign key), a locked table, an error.
    for code in ["19", "2067", "787", "6", "1"] {
        assert!(!is_busy_sqlite(code), "{code}");
    }
}

#[test]
fn validation_problem_has_field_errors_and_code() {
    let mut errors = FieldErrors::new();
    errors.add("title", "This field is required.");
    let response = Error::Validation(errors).to_response();
    assert_eq!(response.status(), StatusCode::BAD_REQUEST);
    assert_eq!(response.headers()[header::CONTENT_TYPE], PROBLEM_JSON);
    let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
    assert_eq!(body["type"], "about:blank");
    assert_eq!(body["title"], "Bad Request");
    assert_eq!(body["status"], 400);
    assert_eq!(body["code"], "validation_error");
    assert_eq!(body["errors"]["title"][0], "This field is required.");
}

#[test]
fn bare_statuses_get_the_contracts_code_and_keep_their_status() {
    for (status, code) in [
        (StatusCode::BAD_REQUEST, "parse_error"),
        (StatusCode::UNAUTHORIZED, "not_authenticated"),
        (StatusCode::FORBIDDEN, "permission_denied"),
        (StatusCode::NOT_FOUND, "not_found"),
        (StatusCode::METHOD_NOT_ALLOWED, "method_not_allowed"),
        (StatusCode::CONFLICT, "conflict"),
        (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large"),
        (StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type"),
        (StatusCode::TOO_MANY_REQUESTS, "throttled"),
        (StatusCode::INTERNAL_SERVER_ERROR, "server_error"),
        (StatusCode::BAD_GATEWAY, "server_error"),
        (StatusCode::SERVICE_UNAVAILABLE, "service_unavailable"),
    ] {
        let problem = Problem::for_status(status, "POST").expect(code);
        let response = problem.to_response();
        assert_eq!(response.status(), status);
        let body: serde_json::Value = serde_json::from_slice(response.body()).unwrap();
        assert_eq!(body["code"], code, "{status}");
        assert_eq!(body["status"], status.as_u16());
        assert!(!body["detail"].as_str().unwrap_or_default().is_empty());
    }
    let wrong_method = Problem::for_status(StatusCode::METHOD_NOT_ALLOWED, "POST").unwrap();
    assert_eq!(wrong_method.detail, "Method \"POST\" not allowed.");
    assert!(wrong_method
        .to_response()
        .headers()
        .get(header::ALLOW)
        .is_none());
    let challenge = Problem::for_status(StatusCode::UNAUTHORIZED, "GET").unwrap();
    assert_eq!(
        challenge.to_response().headers()[header::WWW_AUTHENTICATE],
        "Bearer"
    );
    for unmapped in [
        StatusCode::NOT_ACCEPTABLE,
        StatusCode::GONE,
        StatusCode::UNPROCESSABLE_ENTITY,
    ] {
        assert!(Problem::for_status(unmapped, "GET").is_none(), "{unmapped}");
    }
}

#[test]
fn internal_errors_never_leak_their_cause() {
    let response = Error::internal("SELECT secret FROM /var/lib/db").to_response();
    assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
    let text = String::from_utf8(response.body().to_vec()).unwrap();
    assert!(!text.contains("secret"), "{text}");
    assert!(text.contains("server_error"));
}

#[test]
fn every_401_carries_a_bearer_challenge() {
    let challenge = |error: Error| {
        let response = error.to_response();
        assert_eq!(response.status(), StatusCode::UNAUTHORIZED);
        response.headers()[header::WWW_AUTHENTICATE]
            .to_str()
            .unwrap()
            .to_string()
    };
    assert_eq!(challenge(Error::NotAuthenticated), "Bearer");
    assert_eq!(challenge(Error::AuthenticationFailed), "Bearer");
    // A refresh token travels in a body: refused, but not an `Authorization` token.
    assert_eq!(
        challenge(Error::InvalidRefreshToken("Token is invalid or expired.")),
        "Bearer"
    );
    assert_eq!(
        challenge(Error::InvalidAccessToken("Token is invalid or expired.")),
        "Bearer error=\"invalid_token\""
    );
}

#[test]
fn only_401s_carry_a_challenge() {
    for error in [
        Error::PermissionDenied,
        Error::NotFound,
        Error::field("title", "This field is required."),
        Error::Throttled { retry_after: 1 },
        Error::internal("boom"),
    ] {
        let response = error.to_response();
        assert!(
            response.headers().get(header::WWW_AUTHENTICATE).is_none(),
            "{error:?}"
        );
    }
}

#[test]
fn upload_refusals_say_which_side_was_wrong() {
    let detail = |error: Error| {
        let problem = error.to_problem();
        assert_eq!(problem.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
        assert_eq!(problem.code, ErrorCode::UnsupportedMediaType);
        problem.detail
    };
    assert_eq!(
        detail(Error::UnsupportedMediaType(
            "application/x-msdownload".into()
        )),
        "Unsupported media type \"application/x-msdownload\" in request."
    );
    assert_eq!(
        detail(Error::ContentMismatch {
            declared: Some("application/pdf".into()),
            sniffed: Some("application/x-executable".into()),
        }),
        "The file's content does not match its declared type \"application/pdf\" \
         (the bytes look like \"application/x-executable\")."
    );
    assert_eq!(
        detail(Error::ContentMismatch {
            declared: Some("image/png".into()),
            sniffed: None,
        }),
        "The file's content does not match its declared type \"image/png\" \
         (the bytes are of no allowed type)."
    );
    assert_eq!(
        detail(Error::ContentMismatch {
            declared: None,
            sniffed: Some("image/png".into()),
        }),
        "The file's content is of no allowed type (the bytes look like \"image/png\")."
    );
    assert_eq!(
        detail(Error::ContentMismatch {
            declared: None,
            sniffed: None,
        }),
        "The file's content is of no allowed type."
    );
}

#[test]
fn throttled_carries_retry_after() {
    let response = Error::Throttled { retry_after: 7 }.to_response();
    assert_eq!(response.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(response.headers()[header::RETRY_AFTER], "7");
}
