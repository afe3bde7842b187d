-- forecourt store: the push inbox (host/src/push/inbox.rs). Times are
-- milliseconds since the Unix epoch, except signed_at (the sender's Unix seconds).

-- Every verified push, stored before the DMS is answered 202; kept after
-- processing (without its body) as the memory of event ids and signatures
-- already received, for longer than any timestamp tolerance.
CREATE TABLE push_inbox (
    id              INTEGER PRIMARY KEY,
    source          TEXT NOT NULL,
    event_id        TEXT,                   -- X-Forecourt-Event-Id, if sent
    signature       TEXT NOT NULL,          -- hex HMAC that verified: an identical replay has the same
    signed_at       INTEGER NOT NULL,
    received_at     INTEGER NOT NULL,
    headers         TEXT NOT NULL,          -- JSON [[name, value], ...] handed to parse-push
    body            BLOB,                   -- NULL once processed
    state           TEXT NOT NULL,          -- pending | done | failed
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    last_error      TEXT,
    processed_at    INTEGER
);
CREATE UNIQUE INDEX push_inbox_signature ON push_inbox(source, signature);
CREATE UNIQUE INDEX push_inbox_event ON push_inbox(source, event_id) WHERE event_id IS NOT NULL;
CREATE INDEX push_inbox_pending ON push_inbox(source, id) WHERE state = 'pending';
CREATE INDEX push_inbox_received ON push_inbox(received_at);
