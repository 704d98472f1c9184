-- Flashcards (API.md §5): decks with maintained counters, cards with their FSRS schedule, the
-- append-only review log, and a daily rollup of reviews per (owner, deck, local day).
CREATE TABLE decks (
    id               UUID PRIMARY KEY,
    owner_id         UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    name             TEXT NOT NULL,
    description      TEXT NOT NULL DEFAULT '',
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL,
    -- Maintained in the transactions that change the deck's cards: listings and stats read
    -- them instead of counting rows.
    card_count       BIGINT NOT NULL DEFAULT 0,
    new_count        BIGINT NOT NULL DEFAULT 0,
    learning_count   BIGINT NOT NULL DEFAULT 0,
    review_count     BIGINT NOT NULL DEFAULT 0,
    relearning_count BIGINT NOT NULL DEFAULT 0,
    -- Reviews made while their card was in this deck.
    total_reviews    BIGINT NOT NULL DEFAULT 0,
    CONSTRAINT decks_counts_add_up
        CHECK (card_count = new_count + learning_count + review_count + relearning_count)
);
CREATE INDEX decks_owner_name ON decks (owner_id, name, id);

CREATE TABLE cards (
    id          UUID PRIMARY KEY,
    owner_id    UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    deck_id     UUID NOT NULL REFERENCES decks (id) ON DELETE CASCADE,
    front       TEXT NOT NULL,
    back        TEXT NOT NULL DEFAULT '',
    state       TEXT NOT NULL CHECK (state IN ('new', 'learning', 'review', 'relearning')),
    -- The current learning or relearning step (0-based).
    step        BIGINT NOT NULL DEFAULT 0,
    due         TIMESTAMPTZ NOT NULL,
    stability   DOUBLE PRECISION,
    difficulty  DOUBLE PRECISION,
    reps        BIGINT NOT NULL DEFAULT 0,
    lapses      BIGINT NOT NULL DEFAULT 0,
    last_review TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
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
    id                UUID PRIMARY KEY,
    owner_id          UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    card_id           UUID NOT NULL REFERENCES cards (id) ON DELETE CASCADE,
    -- The deck the card was in (reviews follow their card when it moves).
    deck_id           UUID NOT NULL,
    rating            BIGINT NOT NULL CHECK (rating BETWEEN 1 AND 4),
    state_before      TEXT NOT NULL CHECK (state_before IN ('new', 'learning', 'review', 'relearning')),
    reviewed_at       TIMESTAMPTZ NOT NULL,
    -- The local day of reviewed_at in the configured time zone, at write time.
    review_day        DATE NOT NULL,
    elapsed_days      BIGINT NOT NULL,
    scheduled_days    BIGINT NOT NULL,
    duration_ms       BIGINT,
    stability_before  DOUBLE PRECISION,
    stability_after   DOUBLE PRECISION NOT NULL,
    difficulty_before DOUBLE PRECISION,
    difficulty_after  DOUBLE PRECISION NOT NULL
);
CREATE INDEX reviews_card_time ON reviews (card_id, reviewed_at DESC, id DESC);
CREATE FUNCTION reviews_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'reviews are append-only';
END;
$$;
CREATE TRIGGER reviews_append_only BEFORE UPDATE ON reviews
    FOR EACH ROW EXECUTE FUNCTION reviews_append_only();

-- Each (owner, deck, local day)'s answers, upserted in the review's transaction: stats and the
-- daily new-card limit read a few of these rows whatever the number of reviews.
CREATE TABLE review_days (
    owner_id     UUID NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    deck_id      UUID NOT NULL REFERENCES decks (id) ON DELETE CASCADE,
    day          DATE NOT NULL,
    reviews      BIGINT NOT NULL DEFAULT 0,
    again        BIGINT NOT NULL DEFAULT 0,
    hard         BIGINT NOT NULL DEFAULT 0,
    good         BIGINT NOT NULL DEFAULT 0,
    easy         BIGINT NOT NULL DEFAULT 0,
    -- Answers to cards in review state, and those of them that were not "again".
    recall_total BIGINT NOT NULL DEFAULT 0,
    recall_kept  BIGINT NOT NULL DEFAULT 0,
    -- Cards answered for the first time (the daily new-card limit).
    new_cards    BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (owner_id, deck_id, day)
);
CREATE INDEX review_days_owner_day ON review_days (owner_id, day);
