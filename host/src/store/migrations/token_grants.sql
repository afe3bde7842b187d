-- forecourt store: permissions granted to an admin token beyond its role.
-- Space-separated names, e.g. "enquiries:read" (buyers' personal data).
-- A role never implies a grant: reading personal data is given per token.
ALTER TABLE admin_tokens ADD COLUMN grants TEXT NOT NULL DEFAULT '';
