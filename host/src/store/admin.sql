-- forecourt store: the admin API's bearer tokens and its access log.

-- Bearer tokens. The token itself is shown once at creation and never
-- stored: only the sha256 of its secret part.
CREATE TABLE admin_tokens (
    id           TEXT PRIMARY KEY,             -- public id, part of the token; appears in logs
    name         TEXT NOT NULL,                -- the operator's label; the audit actor
    role         TEXT NOT NULL,                -- viewer | operator | admin
    secret_hash  TEXT NOT NULL,                -- hex sha256 of the secret part
    created_at   INTEGER NOT NULL,
    created_by   TEXT NOT NULL,
    last_used_at INTEGER,
    revoked_at   INTEGER
);
CREATE UNIQUE INDEX admin_tokens_active_name ON admin_tokens(name) WHERE revoked_at IS NULL;

-- Every request to the admin API: who, what, when, result. Never a token.
CREATE TABLE admin_access_log (
    id          INTEGER PRIMARY KEY,
    at          INTEGER NOT NULL,
    who         TEXT NOT NULL,                 -- token name, or "anonymous"
    token_id    TEXT,
    method      TEXT NOT NULL,
    path        TEXT NOT NULL,                 -- query values of secret-looking keys replaced
    status      INTEGER NOT NULL,
    outcome     TEXT NOT NULL,                 -- ok | unauthenticated | forbidden | client_error | server_error
    duration_ms INTEGER NOT NULL,
    remote      TEXT NOT NULL
);
CREATE INDEX admin_access_log_at ON admin_access_log(at);
CREATE INDEX admin_access_log_outcome ON admin_access_log(outcome, at);
