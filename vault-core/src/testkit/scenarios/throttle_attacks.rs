//! API.md §9 under attack: password guesses sent all at once, from many addresses; login
//! names too long to be anyone's; failures that try to learn which names share an account.

use std::time::{Duration, Instant};

use futures::future::join_all;
use serde_json::{json, Value};

use super::{expect_401, CHALLENGE};
use crate::config::Rate;
use crate::testkit::{Ctx, Harness, Resp, TestUser};

/// How many of `responses` checked a password (answered `checked`), and how many were
/// refused for a spent budget (429 `throttled` with a `Retry-After`). Anything else fails.
#[track_caller]
fn tally(responses: &[Resp], checked: u16, case: &str) -> (usize, usize) {
    let mut counts = (0, 0);
    for resp in responses {
        match resp.status.as_u16() {
            status if status == checked => counts.0 += 1,
            429 => {
                resp.expect_problem(429, "throttled");
                let retry: u64 = resp
                    .header("retry-after")
                    .and_then(|v| v.parse().ok())
                    .unwrap_or_else(|| panic!("{case}: 429 without Retry-After"));
                assert!((1..=60).contains(&retry), "{case}: Retry-After {retry}");
                counts.1 += 1;
            }
            other => panic!(
                "{case}: unexpected {other}: {}",
                String::from_utf8_lossy(&resp.body)
            ),
        }
    }
    counts
}

/// Forty wrong guesses at once for each route that checks a password: a login for `target`
/// and the two confirmations with the stolen access tokens of `deleted` and `changed`, each
/// request from its own client IP.
async fn guess_all_at_once(
    h: &Harness,
    round: u8,
    target: &TestUser,
    deleted: &TestUser,
    changed: &TestUser,
) -> [Vec<Resp>; 3] {
    let ip = |route: u8, i: u8| format!("198.51.{}.{i}", 10 * round + route);
    let logins = join_all((0..40).map(|i| {
        h.post("/api/auth/token")
            .from_ip(&ip(1, i))
            .json(json!({"username": target.username, "password": format!("guess-{round}-{i}")}))
            .send()
    }));
    let deletions = join_all((0..40).map(|i| {
        h.delete("/api/auth/me")
            .from_ip(&ip(2, i))
            .bearer(&deleted.access)
            .json(json!({"password": format!("guess-{round}-{i}")}))
            .send()
    }));
    let changes = join_all((0..40).map(|i| {
        h.post("/api/auth/password")
            .from_ip(&ip(3, i))
            .bearer(&changed.access)
            .json(json!({"current_password": format!("guess-{round}-{i}"), "new_password": "another-sturdy-quokka-77"}))
            .send()
    }));
    let (logins, deletions, changes) = tokio::join!(logins, deletions, changes);
    [logins, deletions, changes]
}

pub async fn simultaneous_wrong_passwords_get_at_most_the_budget(ctx: Ctx) {
    let h = ctx
        .start_with(|c| c.throttle.auth_user = Some(Rate::per_minute(10)))
        .await;
    let target = h.register("besieged").await;
    let deleted = h.register("stolen-one").await;
    let changed = h.register("stolen-two").await;
    let started = Instant::now();
    let routes = [
        ("login", 401),
        ("DELETE /auth/me", 400),
        ("POST /auth/password", 400),
    ];

    let first = guess_all_at_once(&h, 0, &target, &deleted, &changed).await;
    for ((case, checked), responses) in routes.iter().zip(&first) {
        // A fresh budget of ten: exactly ten guesses are checked, the other thirty refused.
        assert_eq!(tally(responses, *checked, case), (10, 30), "{case}");
    }
    // 7 s later one more unit has come back (one per 6 s), no more.
    tokio::time::sleep(Duration::from_secs(7)).await;
    let second = guess_all_at_once(&h, 1, &target, &deleted, &changed).await;
    let elapsed = started.elapsed().as_secs();
    for ((case, checked), responses) in routes.iter().zip(&second) {
        let (checks, refused) = tally(responses, *checked, case);
        assert!(
            (1..=elapsed as usize / 6).contains(&checks),
            "{case}: {checks} checks, {refused} refused, {elapsed} s after the first round"
        );
    }
    // Nothing was deleted or changed, and the right password now waits too.
    for user in [&deleted, &changed] {
        h.get("/api/auth/me")
            .bearer(&user.access)
            .send()
            .await
            .expect_status(200);
    }
    h.post("/api/auth/token")
        .from_ip("192.0.2.200")
        .json(json!({"username": target.username, "password": target.password}))
        .send()
        .await
        .expect_problem(429, "throttled");
    h.delete("/api/auth/me")
        .bearer(&deleted.access)
        .json(json!({"password": deleted.password}))
        .send()
        .await
        .expect_problem(429, "throttled");
}

pub async fn overlong_login_names_are_refused_before_anything_counts(ctx: Ctx) {
    let h = ctx
        .start_with(|c| c.throttle.auth_user = Some(Rate::per_minute(1)))
        .await;
    let victim = h.register("victim").await;
    // Names that fold to the victim's once trimmed, and names of about a megabyte: refused
    // by their length, before they could spend a budget or reach the database.
    let padded = format!(
        "{}{}",
        victim.username,
        " ".repeat(255 - victim.username.len())
    );
    let huge = |i: usize| format!("{i:06}{}", "x".repeat((1 << 20) - 1024));
    let mut names = vec![padded.clone(), "e".repeat(255), "é".repeat(255)];
    names.extend((0..8).map(huge));
    for name in &names {
        h.post("/api/auth/token")
            .json(json!({"username": name, "password": "a-wrong-guess-1"}))
            .send()
            .await
            .expect_field_error(400, "username");
        let form: String = form_urlencoded::Serializer::new(String::new())
            .append_pair("grant_type", "password")
            .append_pair("username", name)
            .append_pair("password", "a-wrong-guess-1")
            .finish();
        let body = h
            .post("/api/auth/token")
            .form(&form)
            .send()
            .await
            .expect_field_error(400, "username");
        assert_eq!(
            body["errors"]["username"][0],
            "Ensure this field has no more than 254 characters."
        );
    }
    // At the limit, a name is an ordinary unknown one.
    let longest = h
        .post("/api/auth/token")
        .json(json!({"username": "l".repeat(254), "password": "a-wrong-guess-1"}))
        .send()
        .await;
    expect_401(
        &longest,
        "authentication_failed",
        CHALLENGE,
        "254 characters",
    );
    // The victim's budget of one was never touched.
    h.login(&victim.username, &victim.password)
        .await
        .expect_status(200);
}

pub async fn failed_logins_do_not_reveal_which_names_share_an_account(ctx: Ctx) {
    let h = ctx
        .start_with(|c| c.throttle.auth_user = Some(Rate::per_minute(3)))
        .await;
    let linked = h.register("linked").await;
    h.register("unrelated").await;
    let attempt = |login: String, i: usize| {
        h.post("/api/auth/token")
            .from_ip(&format!("203.0.113.{i}"))
            .json(json!({"username": login, "password": format!("a-wrong-guess-{i}")}))
            .send()
    };
    for i in 0..3 {
        let resp = attempt(linked.username.clone(), i).await;
        expect_401(&resp, "authentication_failed", CHALLENGE, "username");
    }
    for spelling in ["linked", "LINKED", " Linked "] {
        attempt(spelling.into(), 9)
            .await
            .expect_problem(429, "throttled");
    }
    // The username's budget is spent. Its email, another account's and nobody's answer
    // alike, attempt after attempt: each name has its own budget, whoever it belongs to.
    let candidates = [
        linked.email.clone(),
        "unrelated@example.com".to_string(),
        "nobody@example.com".to_string(),
    ];
    for round in 0..4 {
        let mut answers: Vec<(u16, Value)> = Vec::new();
        for (i, email) in candidates.iter().enumerate() {
            let resp = attempt(email.clone(), 20 + 4 * round + i).await;
            answers.push((resp.status.as_u16(), resp.json()));
        }
        // Three failures per name, then 429, with the same bodies.
        let expected = if round < 3 { 401 } else { 429 };
        for (answer, email) in answers.iter().zip(&candidates) {
            assert_eq!(answer.0, expected, "round {round}, {email}: {answers:?}");
            if expected == 401 {
                assert_eq!(answer.1, answers[0].1, "round {round}, {email}");
            }
        }
    }
}
