-- forecourt store, migration: alerting. Times are milliseconds since the Unix epoch.

-- Every alert that is firing, or has cleared but whose recovery message has
-- not reached every channel yet. One row per alert key (`rule:subject`).
CREATE TABLE alerts_firing (
    key          TEXT PRIMARY KEY,
    rule         TEXT NOT NULL,
    subject      TEXT NOT NULL,             -- platform id, source id or `admin-api`
    headline     TEXT NOT NULL,             -- last evaluated text; ids and counts only
    details      TEXT NOT NULL,             -- JSON list of lines
    firing_since INTEGER NOT NULL,
    resolved_at  INTEGER,                   -- set when the condition cleared
    updated_at   INTEGER NOT NULL
);

-- What each channel was last told about each alert, so a restart neither
-- re-sends within the cooldown nor forgets a recovery message.
CREATE TABLE alerts_notified (
    key     TEXT NOT NULL,
    channel TEXT NOT NULL,
    state   TEXT NOT NULL,                  -- firing | resolved
    sent_at INTEGER NOT NULL,
    PRIMARY KEY (key, channel)
);

-- Delivery outcomes per platform over time (consecutive failures, error rate).
CREATE INDEX audit_results_by_platform ON audit(kind, platform, at);
