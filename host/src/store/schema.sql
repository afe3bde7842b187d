-- forecourt store, migration 1. Times are milliseconds since the Unix epoch.

-- Canonical vehicles as the DMS last described them.
CREATE TABLE vehicles (
    stock_id           TEXT PRIMARY KEY,
    source             TEXT NOT NULL,
    record             TEXT NOT NULL,          -- canonical JSON, including hub-only data
    content_hash       TEXT NOT NULL,
    status             TEXT NOT NULL,          -- due-in | in-stock | reserved | sold | withdrawn
    present            INTEGER NOT NULL,       -- 0 once the DMS removed it
    plan_needed        INTEGER NOT NULL,       -- > 0 until planned: counts requests (migrations/plan_requests.sql)
    seen_at            INTEGER NOT NULL,       -- when this content was first seen (latency metric)
    updated_at         INTEGER NOT NULL,
    snapshot_seq       INTEGER,                -- last full snapshot that mentioned it
    missing_since      INTEGER                 -- absent from a snapshot since (grace period)
);
CREATE INDEX vehicles_plan ON vehicles(plan_needed) WHERE plan_needed = 1;
CREATE INDEX vehicles_source ON vehicles(source, present);

-- Every accepted change, oldest first.
CREATE TABLE vehicle_history (
    id           INTEGER PRIMARY KEY,
    stock_id     TEXT NOT NULL,
    at           INTEGER NOT NULL,
    change       TEXT NOT NULL,                -- upsert | remove | snapshot-missing
    content_hash TEXT,
    price_minor  INTEGER,
    status       TEXT
);
CREATE INDEX vehicle_history_stock ON vehicle_history(stock_id, id);

-- What each platform should show and what it does show, per vehicle.
CREATE TABLE listings (
    stock_id        TEXT NOT NULL,
    platform        TEXT NOT NULL,
    desired_state   TEXT NOT NULL,             -- live | reserved | absent
    desired_hash    TEXT,
    desired_body    TEXT,
    published_state TEXT NOT NULL,             -- none | live | reserved | removed
    published_hash  TEXT,
    published_body  TEXT,
    remote_id       TEXT,
    lifecycle       TEXT NOT NULL,             -- pending | in-sync | blocked | dead
    issues          TEXT,                      -- JSON list of validation issues
    last_error      TEXT,
    error_class     TEXT,
    attempts        INTEGER NOT NULL DEFAULT 0,
    generation      INTEGER NOT NULL DEFAULT 0, -- bumped when reconciliation corrects published state
    updated_at      INTEGER NOT NULL,
    PRIMARY KEY (stock_id, platform)
);
CREATE INDEX listings_platform ON listings(platform, lifecycle);
CREATE INDEX listings_published ON listings(platform, published_state);

-- Where each source's next pull continues, advanced in the same transaction
-- as the records it covers.
CREATE TABLE source_cursors (
    source          TEXT PRIMARY KEY,
    cursor          TEXT,
    snapshot_seq    INTEGER NOT NULL DEFAULT 0,
    snapshot_open   INTEGER NOT NULL DEFAULT 0,
    last_success_at INTEGER
);

-- The outbox of platform operations.
CREATE TABLE jobs (
    id              INTEGER PRIMARY KEY,
    platform        TEXT NOT NULL,
    stock_id        TEXT NOT NULL,
    kind            TEXT NOT NULL,             -- create | update | reserve | unreserve | remove
    idempotency_key TEXT NOT NULL UNIQUE,
    priority        INTEGER NOT NULL,          -- 0 first
    state           TEXT NOT NULL,             -- available | running | completed | dead | discarded | superseded
    attempts        INTEGER NOT NULL DEFAULT 0,
    run_at          INTEGER NOT NULL,
    lease_until     INTEGER,
    worker          TEXT,
    listing_hash    TEXT,
    seen_at         INTEGER NOT NULL,
    last_error      TEXT,
    error_class     TEXT,
    created_at      INTEGER NOT NULL,
    finished_at     INTEGER
);
CREATE INDEX jobs_claim ON jobs(platform, state, priority, run_at);
CREATE INDEX jobs_stock ON jobs(stock_id, platform, state);

-- Append-only, hash-chained audit trail. Never personal data or secrets.
CREATE TABLE audit (
    seq         INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    kind        TEXT NOT NULL,
    actor       TEXT NOT NULL,
    stock_id    TEXT,
    platform    TEXT,
    step        TEXT,
    error_class TEXT,
    detail      TEXT NOT NULL,
    prev_hash   TEXT NOT NULL,
    hash        TEXT NOT NULL
);

-- Per-plugin key-value state.
CREATE TABLE plugin_kv (
    plugin TEXT NOT NULL,
    key    TEXT NOT NULL,
    value  BLOB NOT NULL,
    PRIMARY KEY (plugin, key)
);

-- Platform health: paused on auth errors, circuit breaker.
CREATE TABLE platform_state (
    platform             TEXT PRIMARY KEY,
    paused_reason        TEXT,
    consecutive_failures INTEGER NOT NULL DEFAULT 0,
    circuit_open_until   INTEGER
);
