-- forecourt store: pricing rules' state and the history of advertised prices.

-- One row per priced vehicle: the DMS price the advertised price derives
-- from, how many rule steps have fired (each fires once), and a pin.
CREATE TABLE pricing_state (
    stock_id            TEXT PRIMARY KEY,
    dms_price_minor     INTEGER NOT NULL,
    currency            TEXT NOT NULL,
    advertised_minor    INTEGER NOT NULL,   -- what every platform is sent
    steps_applied       INTEGER NOT NULL,   -- rule steps fired so far
    steps_at_dms_change INTEGER NOT NULL,   -- steps fired before the DMS price was last changed
    pinned_minor        INTEGER,            -- a dealer's pinned price
    updated_at          INTEGER NOT NULL
);

-- Every advertised price a vehicle has had, oldest first.
CREATE TABLE price_history (
    id          INTEGER PRIMARY KEY,
    stock_id    TEXT NOT NULL,
    at          INTEGER NOT NULL,
    price_minor INTEGER NOT NULL,
    currency    TEXT NOT NULL,
    reason      TEXT NOT NULL,              -- initial | dms | rule | pin | unpin
    detail      TEXT                        -- JSON: rule, from, floor held (no cost price)
);
CREATE INDEX price_history_stock ON price_history(stock_id, at);
