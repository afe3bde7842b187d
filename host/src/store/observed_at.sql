-- forecourt store: when reconciliation last saw a listing drift from what we
-- published. A corrective operation's latency is measured from then, not
-- from the (much older) DMS change behind the vehicle's content.
ALTER TABLE listings ADD COLUMN observed_at INTEGER;
