-- Row digests of full-export sources (contract 1.2.0, interface `snapshot`).
--
-- For every present vehicle whose last upsert came from a row its source
-- digested, the digest of that row. The next pull hands them back and the
-- source skips unchanged rows instead of parsing them. Kept narrow and apart
-- from `vehicles`, whose wide rows would make reading 10,000 digests slow.
-- A row is deleted whenever its vehicle is upserted without a digest or
-- removed, so a digest always describes what the store holds.
CREATE TABLE source_rows (
    stock_id TEXT PRIMARY KEY,
    source   TEXT NOT NULL,
    digest   TEXT NOT NULL
) WITHOUT ROWID;
CREATE INDEX source_rows_source ON source_rows(source, digest);

-- What the digests of a source were made under (its plugin and configuration).
ALTER TABLE source_cursors ADD COLUMN digest_epoch TEXT;

-- A snapshot read in one page closes against the stock ids it names; the few
-- vehicles already missing are found through this index, not a scan.
CREATE INDEX vehicles_missing ON vehicles(source) WHERE missing_since IS NOT NULL;
