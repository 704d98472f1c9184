-- Flashcards (API.md §5): decks with maintained counters, cards with their FSRS schedule, the
-- append-only review log, and a daily rollup of reviews per (owner, deck, local day).
CREATE TABLE decks (
    id               BLOB PRIMARY KEY NOT NULL,
    owner_id         BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    created_at       TEXT NOT NULL,
    updated_at       TEXT NOT NULL,
    -- Maintained in the transactions that change the deck's cards: listings and stats read
    -- them instead of counting rows.
    card_count       INTEGER NOT NULL DEFAULT 0,
    new_count        INTEGER NOT NULL DEFAULT 0,
    learning_count   INTEGER NOT NULL DEFAULT 0,
    review_count     INTEGER NOT NULL DEFAULT 0,
    relearning_count INTEGER NOT NULL DEFAULT 0,
    -- Reviews made while their card was in this deck.
    total_reviews    INTEGER NOT NULL DEFAULT 0,
    CONSTRAINT decks_counts_add_up
        CHECK (card_count = new_count + learning_count + review_count + relearning_count)
);
CREATE INDEX decks_owner_name ON decks (owner_id, name, id);

CREATE TABLE cards (
    id          BLOB PRIMARY KEY NOT NULL,
    owner_id    BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    deck_id     BLOB NOT NULL REFERENCES decks (id) ON DELETE CASCADE,
    front       TEXT NOT NULL,
    back        TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL CHECK (state IN ('new', 'learning', 'review', 'relearning')),
    -- The current learning or relearning step (0-based).
    step        INTEGER NOT NULL DEFAULT 0,
    due         TEXT NOT NULL,
    stability   REAL,
    difficulty  REAL,
    reps        INTEGER NOT NULL DEFAULT 0,
    lapses      INTEGER NOT NULL DEFAULT 0,
    last_review TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
);
-- Due cards other than new ones, most overdue first (study queue, due counts), per owner and
-- per deck, in the order the queue reads them (id breaks ties); new cards (always "due") are
-- left out so they never lengthen these ranges.
CREATE INDEX cards_owner_due ON cards (owner_id, due, id) WHERE state <> 'new';
CREATE INDEX cards_deck_due ON cards (deck_id, due, id) WHERE state <> 'new';
-- New cards in creation order (study queue).
CREATE INDEX cards_owner_new ON cards (owner_id, created_at, id) WHERE state = 'new';
-- Listings of a deck's cards, all or of one state.
CREATE INDEX cards_deck_created ON cards (deck_id, created_at, id);
CREATE INDEX cards_deck_state_created ON cards (deck_id, state, created_at, id);

-- The review log: append-only (removed only with its card), with what a parameter optimizer
-- needs (rating 1-4 as FSRS numbers them, time, elapsed days, state before).
CREATE TABLE reviews (
    id                BLOB PRIMARY KEY NOT NULL,
    owner_id          BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    card_id           BLOB NOT NULL REFERENCES cards (id) ON DELETE CASCADE,
    -- The deck the card was in (reviews follow their card when it moves).
    deck_id           BLOB NOT NULL,
    rating            INTEGER NOT NULL CHECK (rating BETWEEN 1 AND 4),
    state_before      TEXT NOT NULL CHECK (state_before IN ('new', 'learning', 'review', 'relearning')),
    reviewed_at       TEXT NOT NULL,
    -- The local day of reviewed_at in the configured time zone, at write time.
    review_day        TEXT NOT NULL,
    elapsed_days      INTEGER NOT NULL,
    scheduled_days    INTEGER NOT NULL,
    duration_ms       INTEGER,
    stability_before  REAL,
    stability_after   REAL NOT NULL,
    difficulty_before REAL,
    difficulty_after  REAL NOT NULL
);
CREATE INDEX reviews_card_time ON reviews (card_id, reviewed_at DESC, id DESC);
CREATE TRIGGER reviews_append_only BEFORE UPDATE ON reviews BEGIN
    SELECT RAISE(ABORT, 'reviews are append-only');
END;

-- Each (owner, deck, local day)'s answers, upserted in the review's transaction: stats and the
-- daily new-card limit read a few of these rows whatever the number of reviews.
CREATE TABLE review_days (
    owner_id     BLOB NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    deck_id      BLOB NOT NULL REFERENCES decks (id) ON DELETE CASCADE,
    day          TEXT NOT NULL,
    reviews      INTEGER NOT NULL DEFAULT 0,
    again        INTEGER NOT NULL DEFAULT 0,
    hard         INTEGER NOT NULL DEFAULT 0,
    good         INTEGER NOT NULL DEFAULT 0,
    easy         INTEGER NOT NULL DEFAULT 0,
    -- Answers to cards in review state, and those of them that were not "again".
    recall_total INTEGER NOT NULL DEFAULT 0,
    recall_kept  INTEGER NOT NULL DEFAULT 0,
    -- Cards answered for the first time (the daily new-card limit).
    new_cards    INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (owner_id, deck_id, day)
);
CREATE INDEX review_days_owner_day ON review_days (owner_id, day);
