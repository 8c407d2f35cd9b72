-- The reads a pay-per-use platform bills once per UTC day per developer app (X API v2: a
-- post or a user read again the same UTC day is not billed again). Keyed by the credential
-- (the app), not by design: two designs, or two runs, on one credential share X's day.
-- Ids only, never text. Rows of earlier days are deleted when a task loads the day's set.
CREATE TABLE billed_reads (
    billed_day date NOT NULL,
    credential_id uuid NOT NULL REFERENCES api_credentials (id) ON DELETE CASCADE,
    kind text NOT NULL CHECK (kind IN ('post', 'user')),
    read_id text NOT NULL CHECK (length(read_id) <= 64),
    PRIMARY KEY (credential_id, billed_day, kind, read_id)
);
