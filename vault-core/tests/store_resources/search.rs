//! Full-text search: what matches, the syntax on both backends, relevance.

use super::*;

pub(crate) async fn search_matches_title_body_url_and_tag_names(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let bob = user(&ctx, "bob").await;
    let in_title = create(&ctx, ada, &note("Learning Ferris ownership"), &[], 0).await;
    let in_body = create(
        &ctx,
        ada,
        &with_body(
            note("Weekend notes"),
            "Borrow checker tips for ferris fans.",
        ),
        &[],
        1,
    )
    .await;
    let in_url = create(
        &ctx,
        ada,
        &link(
            "A blog",
            "https://blog.example.com/postgres-indexing?page=2",
        ),
        &[],
        2,
    )
    .await;
    let in_tags = create(&ctx, ada, &note("Misc"), &["databases", "self-hosting"], 3).await;
    // Bob's rows carry every word searched below.
    create(
        &ctx,
        bob,
        &with_body(
            link(
                "Ferris borrow",
                "https://blog.example.com/postgres-indexing",
            ),
            "weekend",
        ),
        &["databases"],
        4,
    )
    .await;

    let cases = [
        (
            "ferris",
            sorted(&[&in_title, &in_body]),
            "title and body words",
        ),
        ("FERRIS", sorted(&[&in_title, &in_body]), "case-insensitive"),
        ("postgres", sorted(&[&in_url]), "url words"),
        ("indexing", sorted(&[&in_url]), "url words"),
        ("databases", sorted(&[&in_tags]), "tag names"),
        ("hosting", sorted(&[&in_tags]), "tag name words"),
        (
            "ferris borrow",
            sorted(&[&in_body]),
            "every word must match",
        ),
        ("  weekend   borrow ", sorted(&[&in_body]), "extra spaces"),
        ("ferris postgres", Vec::new(), "words of different rows"),
        ("nowhere", Vec::new(), "unknown word"),
        ("ferr", Vec::new(), "words, not substrings"),
    ];
    for (words, expected, why) in cases {
        assert_eq!(
            id_set(&ctx, ada, &searching(words)).await,
            expected,
            "{words:?}: {why}"
        );
    }

    // Search combines with the other filters.
    let notes = ResourceFilter {
        kind: Some(ResourceKind::Note),
        ..searching("ferris")
    };
    assert_eq!(
        id_set(&ctx, ada, &notes).await,
        sorted(&[&in_title, &in_body])
    );
    let links = ResourceFilter {
        kind: Some(ResourceKind::Link),
        ..searching("ferris")
    };
    assert!(ids(&ctx, ada, &links).await.is_empty());
    let tagged_search = ResourceFilter {
        tags: tags(&["databases"]),
        ..searching("misc")
    };
    assert_eq!(ids(&ctx, ada, &tagged_search).await, vec![in_tags.id]);

    // Punctuation is no operator: it neither errors nor widens the search.
    for odd in ["\"ferris", "ferris*", "ferris:", "(ferris)", "ferris!"] {
        let found = ctx
            .store
            .list_resources(ada, &searching(odd), page(1, 100))
            .await
            .unwrap_or_else(|e| panic!("search {odd:?} must not fail: {e:?}"));
        assert!(found.0 <= 2, "search {odd:?} matched {}", found.0);
    }
}

/// Phrases, exclusions, alternatives and punctuated words give the same rows on SQLite and
/// PostgreSQL: the search is parsed once and rendered for each backend.
pub(crate) async fn search_syntax_means_the_same_on_both_backends(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    let checker = create(
        &ctx,
        ada,
        &with_body(
            note("Rust notes"),
            "The borrow checker rejects unsafe aliasing.",
        ),
        &[],
        0,
    )
    .await;
    let reversed = create(
        &ctx,
        ada,
        &with_body(note("Checker borrow"), "Words in the other order."),
        &[],
        1,
    )
    .await;
    let go = create(
        &ctx,
        ada,
        &with_body(
            note("Go notes"),
            "Visit example.com or read snake_case_names.",
        ),
        &["café-crème"],
        2,
    )
    .await;

    let none = Vec::new();
    let cases = [
        (
            "\"borrow checker\"",
            sorted(&[&checker]),
            "a phrase: adjacent, in order",
        ),
        (
            "borrow checker",
            sorted(&[&checker, &reversed]),
            "words anywhere",
        ),
        ("borrow -unsafe", sorted(&[&reversed]), "-word excludes"),
        (
            "aliasing or visit",
            sorted(&[&checker, &go]),
            "or: alternatives",
        ),
        (
            "rust notes or go -visit",
            sorted(&[&checker]),
            "or binds looser than and",
        ),
        ("example", sorted(&[&go]), "body words split at dots"),
        ("example.com", sorted(&[&go]), "a dotted word is a phrase"),
        ("case", sorted(&[&go]), "words split at underscores"),
        ("crème", sorted(&[&go]), "tag words split at dashes"),
        ("CAFÉ", sorted(&[&go]), "accented words fold case"),
        ("\"or\"", sorted(&[&go]), "a quoted or is a word"),
        ("!!!", none.clone(), "no word at all"),
        ("-borrow", none.clone(), "only exclusions"),
        ("or", none.clone(), "only an operator"),
        ("\"\"", none, "an empty phrase"),
    ];
    for (words, expected, why) in cases {
        assert_eq!(
            id_set(&ctx, ada, &searching(words)).await,
            expected,
            "{words:?}: {why}"
        );
    }
}

pub(crate) async fn search_ranks_by_relevance_unless_ordered(ctx: Ctx) {
    let ada = user(&ctx, "ada").await;
    // Fillers keep the word rare (BM25 needs it in fewer than half of the rows).
    for i in 0..6 {
        create(
            &ctx,
            ada,
            &with_body(note(&format!("filler {i}")), "nothing to see here"),
            &[],
            i,
        )
        .await;
    }
    // The body hit is newer, so only relevance puts the title hit first.
    let title_hit = create(
        &ctx,
        ada,
        &with_body(note("Quokka facts"), "small marsupial"),
        &[],
        10,
    )
    .await;
    let body_hit = create(
        &ctx,
        ada,
        &with_body(note("Animal facts"), "small quokka"),
        &[],
        20,
    )
    .await;

    assert_eq!(
        ids(&ctx, ada, &searching("quokka")).await,
        vec![title_hit.id, body_hit.id],
        "a title hit outranks a body hit"
    );
    let oldest_first = ResourceFilter {
        ordering: Some((OrderField::CreatedAt, false)),
        ..searching("quokka")
    };
    assert_eq!(
        ids(&ctx, ada, &oldest_first).await,
        vec![title_hit.id, body_hit.id]
    );
    let newest_first = ResourceFilter {
        ordering: Some((OrderField::CreatedAt, true)),
        ..searching("quokka")
    };
    assert_eq!(
        ids(&ctx, ada, &newest_first).await,
        vec![body_hit.id, title_hit.id],
        "an explicit ordering wins over relevance"
    );
    let by_title = ResourceFilter {
        ordering: Some((OrderField::Title, false)),
        ..searching("quokka")
    };
    assert_eq!(
        ids(&ctx, ada, &by_title).await,
        vec![body_hit.id, title_hit.id]
    );
}
