-- forecourt store, migration: data quality (docs/quality.md).

-- Image sizes read from image headers, by URL (the DMS gave none).
CREATE TABLE quality_image_sizes (
    url        TEXT PRIMARY KEY,
    width      INTEGER,
    height     INTEGER,
    failure    TEXT,                        -- why it could not be measured (NULL when measured)
    checked_at INTEGER NOT NULL
);

-- Every mileage reading the hub accepted, per vehicle (stock id and VIN).
CREATE TABLE quality_mileage_readings (
    id       INTEGER PRIMARY KEY,
    stock_id TEXT NOT NULL,
    vin      TEXT,
    miles    INTEGER NOT NULL,
    at       INTEGER NOT NULL
);
CREATE INDEX quality_mileage_stock ON quality_mileage_readings(stock_id, id);
CREATE INDEX quality_mileage_vin ON quality_mileage_readings(vin, id) WHERE vin IS NOT NULL;

-- Listing completeness per vehicle and platform.
CREATE TABLE quality_completeness (
    stock_id            TEXT NOT NULL,
    platform            TEXT NOT NULL,
    score               INTEGER NOT NULL,    -- 0 to 100
    required_missing    TEXT NOT NULL,       -- JSON list of field names
    recommended_missing TEXT NOT NULL,       -- JSON list of field names
    images              INTEGER NOT NULL,
    ideal_images        INTEGER NOT NULL,
    computed_at         INTEGER NOT NULL,
    PRIMARY KEY (stock_id, platform)
);
CREATE INDEX quality_completeness_platform ON quality_completeness(platform, score);
