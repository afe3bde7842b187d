-- forecourt store: plan_needed counts re-plan requests (changes, removals,
-- re-plan requests from image sizes, pricing and reconciliation) instead of
-- being a flag, so the planner clears only the requests it saw: one that
-- arrives while a batch is being planned is not lost.
DROP INDEX IF EXISTS vehicles_plan;
CREATE INDEX vehicles_plan_pending ON vehicles(plan_needed) WHERE plan_needed > 0;
