-- forecourt store: listing bodies move out of `listings` into a table of
-- their own, keyed by listing and body hash. A listing row is then ~200
-- bytes instead of several kilobytes, so acknowledging an operation or
-- changing a lifecycle rewrites a small row (many to a page), not a page
-- per listing; and a body is stored once however many hashes point at it.
--
-- `published_body_hash` names the body the platform last acknowledged. It
-- is `published_hash` except after reconciliation saw drift: that forgets
-- `published_hash` (so the planner sends the listing again) but keeps the
-- body, which an update is still computed against.
CREATE TABLE listing_bodies (
    id       INTEGER PRIMARY KEY,
    stock_id TEXT NOT NULL,
    platform TEXT NOT NULL,
    hash     TEXT NOT NULL,
    body     TEXT NOT NULL,
    UNIQUE (stock_id, platform, hash)
);

ALTER TABLE listings ADD COLUMN published_body_hash TEXT;

INSERT INTO listing_bodies (stock_id, platform, hash, body)
    SELECT stock_id, platform, desired_hash, desired_body FROM listings
     WHERE desired_hash IS NOT NULL AND desired_body IS NOT NULL;

-- Before this migration a NULL published_body with equal hashes meant "the
-- desired body"; a kept body without a published hash (drift) gets a key
-- that no body hash (hex) can equal.
UPDATE listings SET published_body_hash = CASE
    WHEN published_body IS NOT NULL THEN COALESCE(published_hash, 'migrated')
    WHEN published_hash = desired_hash AND desired_body IS NOT NULL THEN published_hash
  END;

INSERT OR IGNORE INTO listing_bodies (stock_id, platform, hash, body)
    SELECT stock_id, platform, published_body_hash, published_body FROM listings
     WHERE published_body IS NOT NULL;

ALTER TABLE listings DROP COLUMN desired_body;
ALTER TABLE listings DROP COLUMN published_body;
