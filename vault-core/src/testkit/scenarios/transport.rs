//! API.md §9, the client IP behind a trusted proxy: which `X-Forwarded-For` entry counts, in
//! which forms, and how IPv6 clients are counted. (The transport timeouts need a real socket;
//! the adapters test them in their own `tests/transport.rs`.)

use serde_json::json;

use crate::config::Rate;
use crate::testkit::{Ctx, Harness};

/// An anonymous API request as seen through `X-Forwarded-For: {forwarded}`; its status.
async fn anonymous(h: &Harness, forwarded: &str) -> u16 {
    h.get("/api/auth/me")
        .from_ip(forwarded)
        .send()
        .await
        .status
        .as_u16()
}

/// Spends the whole anonymous budget (3) of the client each of `entries` names, one request
/// each in turn; then `spent` is refused and `fresh` still served.
async fn one_budget(h: &Harness, entries: &[&str; 3], spent: &[&str], fresh: &[&str]) {
    for forwarded in entries {
        assert_eq!(anonymous(h, forwarded).await, 401, "{forwarded}: served");
    }
    for forwarded in spent {
        let resp = h.get("/api/auth/me").from_ip(forwarded).send().await;
        resp.expect_problem(429, "throttled");
    }
    for forwarded in fresh {
        assert_eq!(
            anonymous(h, forwarded).await,
            401,
            "{forwarded}: a budget of its own"
        );
    }
}

pub async fn forwarded_for_entries_cannot_choose_the_throttle_key(ctx: Ctx) {
    let h = ctx
        .start_with(|c| {
            c.throttle.anon = Some(Rate::per_minute(3));
            c.throttle.auth_ip = Some(Rate::per_minute(3));
        })
        .await;
    // The proxy appended `ip:port`: that entry counts, whatever the client wrote before it.
    one_budget(
        &h,
        &[
            "6.6.6.1, 203.0.113.7:51234",
            "6.6.6.2, 203.0.113.7:40000",
            "6.6.6.3,203.0.113.7",
        ],
        &[
            "203.0.113.7",
            "6.6.6.4, 203.0.113.7:1",
            "203.0.113.7, 203.0.113.7",
        ],
        &["6.6.6.1", "203.0.113.8:51234"],
    )
    .await;
    // `[v6]:port`, `[v6]` and bare IPv6 are one client, and every address of a /64 too: a
    // client with a /64 cannot pick 2^64 budgets.
    one_budget(
        &h,
        &[
            "6.6.6.1, [2001:db8:1:2::1]:443",
            "[2001:db8:1:2::2]",
            "2001:db8:1:2:ffff:ffff:ffff:ffff",
        ],
        &["[2001:db8:1:2:abcd::9]:8080", "2001:db8:1:2::1"],
        &["2001:db8:1:3::1", "[2001:db8:2:2::1]:443"],
    )
    .await;
    // An IPv4-mapped address is the IPv4 client it names, each one its own.
    one_budget(
        &h,
        &[
            "::ffff:198.51.100.20",
            "198.51.100.20",
            "[::ffff:198.51.100.20]:80",
        ],
        &["198.51.100.20:9"],
        &["::ffff:198.51.100.21", "198.51.100.21"],
    )
    .await;
    // An unreadable last entry never hands the count to the forged one before it: requests
    // ending in garbage do not spend 192.0.2.50's budget.
    for garbage in [
        "192.0.2.50, unknown",
        "192.0.2.50, ",
        "192.0.2.50, 192.0.2.51:99999",
    ] {
        for _ in 0..3 {
            anonymous(&h, garbage).await;
        }
    }
    one_budget(
        &h,
        &["192.0.2.50", "192.0.2.50:1", "192.0.2.50"],
        &["192.0.2.50"],
        &[],
    )
    .await;
    // The auth budget per IP reads the same entry: three token requests through one proxy
    // entry, then 429 for that client alone.
    for i in 0..3 {
        let status = h
            .post("/api/auth/token")
            .from_ip(&format!("6.6.6.{i}, [2001:db8:9:9::{i}]:443"))
            .json(json!({"username": "nobody", "password": "wrong-password-1"}))
            .send()
            .await
            .status;
        assert_ne!(status.as_u16(), 429, "token request {i}");
    }
    h.post("/api/auth/token")
        .from_ip("2001:db8:9:9::ffff")
        .json(json!({"username": "nobody", "password": "wrong-password-1"}))
        .send()
        .await
        .expect_problem(429, "throttled");
}
