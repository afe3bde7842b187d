-- forecourt store: buyers' enquiries and their delivery to the dealer's CRM.
-- Times are milliseconds since the Unix epoch.

-- One row per enquiry a platform received, de-duplicated by the platform's
-- id. Personal data (customer, message) is cleared after the retention
-- period; the row itself stays, without it, so the same enquiry pulled or
-- pushed again is still recognised and the report can still count it.
CREATE TABLE enquiries (
    id                  INTEGER PRIMARY KEY,
    uid                 TEXT NOT NULL UNIQUE,     -- the hub's id: the CRM's de-duplication key
    platform            TEXT NOT NULL,
    platform_enquiry_id TEXT NOT NULL,
    stock_id            TEXT,                     -- the vehicle, when the hub knows it
    remote_id           TEXT,                     -- the platform's id of the listing
    via                 TEXT NOT NULL,            -- pull | push
    received_at         INTEGER NOT NULL,         -- when the platform received it
    stored_at           INTEGER NOT NULL,
    customer            TEXT,                     -- JSON person; NULL once purged
    message             TEXT,                     -- NULL once purged
    purged_at           INTEGER,                  -- personal data deleted (retention)
    UNIQUE (platform, platform_enquiry_id)
);
CREATE INDEX enquiries_received ON enquiries(received_at);
CREATE INDEX enquiries_purge ON enquiries(stored_at) WHERE purged_at IS NULL;
CREATE INDEX enquiries_stock ON enquiries(stock_id);

-- Where each platform's fetch-enquiries continues.
CREATE TABLE enquiry_cursors (
    platform        TEXT PRIMARY KEY,
    cursor          TEXT,
    last_success_at INTEGER
);

-- The outbox of CRM deliveries: one job per (enquiry, CRM target).
CREATE TABLE enquiry_deliveries (
    id           INTEGER PRIMARY KEY,
    enquiry_id   INTEGER NOT NULL REFERENCES enquiries(id) ON DELETE CASCADE,
    target       TEXT NOT NULL,                   -- [[crm]] id
    state        TEXT NOT NULL,                   -- available | running | completed | dead | discarded
    attempts     INTEGER NOT NULL DEFAULT 0,
    resend       INTEGER NOT NULL DEFAULT 0,      -- an operator asked to send it again
    run_at       INTEGER NOT NULL,
    lease_until  INTEGER,
    worker       TEXT,
    crm_ref      TEXT,                            -- the CRM's reference for the lead
    last_error   TEXT,
    error_class  TEXT,
    created_at   INTEGER NOT NULL,
    finished_at  INTEGER,
    UNIQUE (enquiry_id, target)
);
CREATE INDEX enquiry_deliveries_claim ON enquiry_deliveries(target, state, run_at);
