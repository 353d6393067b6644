-- localtrace schema: the one place to read the current layout of a localtrace file.
-- A new file is created from this text; older files are brought here by the migrations in
-- _store/migrations.py (beside this file). PRAGMA user_version holds the version (set by the library).
--
-- Conventions
--   * times are INTEGER microseconds since the Unix epoch, UTC (cheap to index, compare and
--     hand to numpy);
--   * costs are INTEGER pico-dollars (1e-12 USD): exact integer sums, Decimal on the way out;
--   * JSON is stored as text written by orjson;
--   * no FOREIGN KEY clauses: measured (bench/foreign_keys.py) they cost 1.1-1.3x on batch
--     inserts and 1.6x on deletes with foreign_keys=ON; the links that matter most cannot be
--     declared at all (children arrive before parents, feedback before its run); and adding them
--     to existing files means rebuilding the largest tables. The library keeps the tables
--     consistent inside its transactions: run_payloads/run_tags/run_metadata.run_pk = runs.pk,
--     runs.session_id = projects.id, feedback.run_id and attachments.run_id = runs.id (or the
--     key an example's files are stored under, named in examples.attachments).

CREATE TABLE projects (
    pk                   INTEGER PRIMARY KEY,
    id                   TEXT NOT NULL UNIQUE,      -- uuid
    name                 TEXT NOT NULL UNIQUE,
    description          TEXT,
    start_time           INTEGER NOT NULL,
    end_time             INTEGER,
    extra                TEXT,                      -- JSON object: metadata, tags, ...
    reference_dataset_id TEXT
);

-- One row per run. Columns here are the ones filters, sorting and statistics read; bulky JSON
-- lives in run_payloads (same pk) so scans over runs stay small.
CREATE TABLE runs (
    pk                       INTEGER PRIMARY KEY,   -- allocated in arrival order
    id                       TEXT NOT NULL UNIQUE,  -- uuid
    trace_id                 TEXT NOT NULL,
    parent_run_id            TEXT,
    dotted_order             TEXT NOT NULL,
    session_id               TEXT NOT NULL,         -- projects.id
    name                     TEXT NOT NULL,
    run_type                 TEXT NOT NULL,
    status                   TEXT NOT NULL,         -- 'pending' | 'success' | 'error'
    start_time               INTEGER NOT NULL,
    end_time                 INTEGER,
    first_token_time         INTEGER,               -- earliest new_token in the run's subtree
    reference_example_id     TEXT,
    thread_id                TEXT,                  -- metadata thread_id / session_id / conversation_id
    tags                     TEXT,                  -- JSON list (also exploded into run_tags)
    -- usage as list_runs shows it: llm runs their own, other runs the sum over their subtree
    prompt_tokens            INTEGER NOT NULL DEFAULT 0,
    completion_tokens        INTEGER NOT NULL DEFAULT 0,
    total_tokens             INTEGER NOT NULL DEFAULT 0,
    prompt_cost              INTEGER,               -- pico-dollars
    completion_cost          INTEGER,
    total_cost               INTEGER,
    prompt_token_details     TEXT,                  -- JSON {category: tokens}
    completion_token_details TEXT,
    prompt_cost_details      TEXT,                  -- JSON {category: pico-dollars}
    completion_cost_details  TEXT,
    own_usage                TEXT,                  -- JSON: the run's own usage before roll-up
    repair                   TEXT                   -- why ingest had to repair this run, if it did
, cost_source TEXT, remote_parent_id TEXT);
-- cost_source (schema version 5, hence its place): where the run's own cost came from: 'sent'
-- by the application, 'genai-prices/<provider>/<model>' from the price catalogue,
-- 'custom/<model_prices.id>' from a custom price; NULL when the run has no own cost.
-- remote_parent_id (schema version 15): the run id of the span an OTel root continued from
-- another process (W3C traceparent, extra.otel.parent_is_remote). The root stays a root until
-- that run arrives; then it and its subtree hang under it (runs_remote_roots finds them).

-- Newest-first listing per project; the implicit trailing pk makes (start_time, pk) a keyset.
CREATE INDEX runs_session_start ON runs (session_id, start_time);
CREATE INDEX runs_start ON runs (start_time);
CREATE INDEX runs_session_type_start ON runs (session_id, run_type, start_time);
CREATE INDEX runs_session_name_start ON runs (session_id, name, start_time);
CREATE INDEX runs_trace_order ON runs (trace_id, dotted_order);
CREATE INDEX runs_parent ON runs (parent_run_id) WHERE parent_run_id IS NOT NULL;
CREATE INDEX runs_session_errors ON runs (session_id, start_time) WHERE status = 'error';
CREATE INDEX runs_thread ON runs (thread_id) WHERE thread_id IS NOT NULL;
CREATE INDEX runs_reference_example ON runs (reference_example_id)
    WHERE reference_example_id IS NOT NULL;
-- Runs stored before their parent without a dotted_order (OTel exporters send children
-- first): the parent's arrival finds them here and hangs them under it (schema version 6).
CREATE INDEX runs_orphans ON runs (parent_run_id)
    WHERE parent_run_id IS NOT NULL AND instr(dotted_order, '.') = 0;
-- Roots waiting for the remote parent they continued (schema version 15).
CREATE INDEX runs_remote_roots ON runs (remote_parent_id)
    WHERE remote_parent_id IS NOT NULL AND parent_run_id IS NULL;
-- Covering index for per-trace (root) statistics and root listings.
CREATE INDEX runs_session_roots ON runs (
    session_id, start_time, end_time, total_tokens, total_cost, status, first_token_time
) WHERE parent_run_id IS NULL;

CREATE TABLE run_payloads (
    run_pk     INTEGER PRIMARY KEY,                 -- runs.pk
    inputs     TEXT,
    outputs    TEXT,
    error      TEXT,
    extra      TEXT,
    events     TEXT,
    serialized TEXT,
    -- What the full-text index reads (computed, never stored): the JSON text with its escapes
    -- \\ \n \t \r as spaces, so a word after a newline is a word; 200,000 characters. SQLite
    -- also computes them on every insert, so the common cases are short cuts (schema version
    -- 11): text of at most 200,000 bytes with no backslash is itself; with no escape but \n
    -- (and \"), one replace; anything else, the four replaces in order.
    inputs_text  TEXT GENERATED ALWAYS AS (CASE
        WHEN length(CAST(inputs AS BLOB)) > 200000
            THEN substr(replace(replace(replace(replace(inputs, '\\', ' '), '\n', ' '), '\t', ' '), '\r', ' '), 1, 200000)
        WHEN instr(inputs, '\') = 0 THEN inputs
        WHEN instr(inputs, '\\') + instr(inputs, '\t') + instr(inputs, '\r') = 0
            THEN replace(inputs, '\n', ' ')
        ELSE replace(replace(replace(replace(inputs, '\\', ' '), '\n', ' '), '\t', ' '), '\r', ' ')
    END) VIRTUAL,
    outputs_text TEXT GENERATED ALWAYS AS (CASE
        WHEN length(CAST(outputs AS BLOB)) > 200000
            THEN substr(replace(replace(replace(replace(outputs, '\\', ' '), '\n', ' '), '\t', ' '), '\r', ' '), 1, 200000)
        WHEN instr(outputs, '\') = 0 THEN outputs
        WHEN instr(outputs, '\\') + instr(outputs, '\t') + instr(outputs, '\r') = 0
            THEN replace(outputs, '\n', ' ')
        ELSE replace(replace(replace(replace(outputs, '\\', ' '), '\n', ' '), '\t', ' '), '\r', ' ')
    END) VIRTUAL
, replica_metadata TEXT);
-- replica_metadata (schema version 12, hence its place): JSON of the top-level metadata a write
-- replica's updates={"metadata": {...}} sent with the run. It is merged into extra.metadata;
-- kept apart too so that it wins over the run's own keys on every later write of the run (the
-- SDK sends it with the post only; the patch brings the run's own extra.metadata).

CREATE TABLE run_tags (
    run_pk INTEGER NOT NULL,
    tag    TEXT NOT NULL
);
CREATE INDEX run_tags_tag ON run_tags (tag, run_pk);
CREATE INDEX run_tags_run ON run_tags (run_pk);

-- extra.metadata flattened to (dot.path, value) pairs; list elements share their parent's path.
-- value is the string itself for strings, JSON text otherwise.
CREATE TABLE run_metadata (
    run_pk INTEGER NOT NULL,
    key    TEXT NOT NULL,
    value  TEXT
);
CREATE INDEX run_metadata_kv ON run_metadata (key, value, run_pk);
CREATE INDEX run_metadata_value ON run_metadata (value, run_pk);
CREATE INDEX run_metadata_run ON run_metadata (run_pk);

-- Usage a run sent before its ancestor arrived: applied when the ancestor is ingested.
CREATE TABLE pending_rollup (
    ancestor_id TEXT PRIMARY KEY,
    usage       TEXT NOT NULL                       -- JSON, same shape as runs.own_usage
);

CREATE TABLE feedback (
    pk                        INTEGER PRIMARY KEY,
    id                        TEXT NOT NULL UNIQUE,
    run_id                    TEXT,                  -- may name a run that has not arrived yet
    trace_id                  TEXT,
    session_id                TEXT,                  -- project-level feedback has no run_id
    key                       TEXT NOT NULL,
    score                     REAL,
    value                     TEXT,                  -- JSON
    comment                   TEXT,
    correction                TEXT,                  -- JSON
    feedback_source           TEXT,                  -- JSON
    feedback_config           TEXT,                  -- JSON
    extra                     TEXT,                  -- JSON
    comparative_experiment_id TEXT,
    feedback_group_id         TEXT,
    error                     INTEGER NOT NULL DEFAULT 0,
    created_at                INTEGER NOT NULL,
    modified_at               INTEGER NOT NULL
);
CREATE INDEX feedback_run_key ON feedback (run_id, key);
CREATE INDEX feedback_key_score ON feedback (key, score, run_id);
CREATE INDEX feedback_session ON feedback (session_id, key);

CREATE TABLE attachments (
    run_id    TEXT NOT NULL,
    name      TEXT NOT NULL,
    mime_type TEXT NOT NULL,
    data      BLOB NOT NULL,
    PRIMARY KEY (run_id, name)
);

-- Full-text index over inputs, outputs and error (schema version 9): FTS5 with external content,
-- so the text lives only in run_payloads and sqlite-utils/datasette detect the index on it.
-- Fed in bulk by the write side, not per row (a trigger would cost ~4x ingest throughput): every
-- payload write first queues its runs in fts_pending (removing their old entries), and the
-- writer indexes the queue in transactions of its own: in chunks when idle, all of it before a
-- search and at close (a flush means durable, not indexed).
CREATE VIRTUAL TABLE runs_fts USING fts5 (
    inputs_text, outputs_text, error,
    content="run_payloads", content_rowid="run_pk",
    tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TABLE fts_pending (
    run_pk INTEGER PRIMARY KEY
);

-- Where a resumable transfer (push to / pull from a LangSmith server, export to an OTLP
-- endpoint) stopped, so running it again sends only what is new. ``kind`` is the transfer
-- ('push', 'pull', 'otlp', ...), ``destination`` names the other end, ``mark`` is JSON.
CREATE TABLE transfer_marks (
    kind        TEXT NOT NULL,
    destination TEXT NOT NULL,
    mark        TEXT NOT NULL,              -- JSON: the resume position
    updated_at  INTEGER NOT NULL,           -- microseconds
    PRIMARY KEY (kind, destination)
);

-- What the file is (schema version 4): localtrace opens only files that carry these marks (or
-- the tables of an older store), and never changes any other SQLite file. PRAGMA
-- application_id is 0x6C747263 ('ltrc'), set in the transaction that creates the file.
CREATE TABLE localtrace_store (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
INSERT INTO localtrace_store (key, value) VALUES ('format', 'localtrace');

-- Custom model prices (schema version 5), in LangSmith's model price map shape: a regex over the
-- model name, an optional provider and start time, prices as exact decimal text in USD per token
-- (details: JSON {token type: price}). They win over the bundled catalogue; see docs/costs.md.
CREATE TABLE model_prices (
    pk                      INTEGER PRIMARY KEY,
    id                      TEXT NOT NULL UNIQUE,
    name                    TEXT NOT NULL,
    match_pattern           TEXT NOT NULL,
    match_path              TEXT,                   -- JSON list of MODEL_PATHS, NULL: all
    provider                TEXT,                   -- lower case; NULL: any provider
    prompt_cost             TEXT NOT NULL,
    completion_cost         TEXT NOT NULL,
    prompt_cost_details     TEXT,
    completion_cost_details TEXT,
    start_time              INTEGER,                -- microseconds; NULL: always
    updated_at              INTEGER NOT NULL        -- microseconds; the newest wins a tie
);

-- Threads: the root runs of a project sharing a thread id, grouped in index order and summed
-- without touching the table (schema version 7).
CREATE INDEX runs_session_thread_roots ON runs (
    session_id, thread_id, start_time, end_time, status, total_tokens, prompt_tokens,
    completion_tokens, total_cost, prompt_cost, completion_cost
) WHERE parent_run_id IS NULL AND thread_id IS NOT NULL;

-- The documented, stable views (docs/sql.md): what `localtrace sql`, Client.sql and
-- datasette / sqlite-utils users read. Times are ISO-8601 text (UTC), costs USD, JSON as text
-- that SQLite's json functions read. Their columns are a public contract (tests pin them).
CREATE VIEW runs_view AS
SELECT
    r.id AS id,
    r.trace_id AS trace_id,
    r.parent_run_id AS parent_run_id,
    r.session_id AS project_id,
    s.name AS project_name,
    r.name AS name,
    r.run_type AS run_type,
    r.status AS status,
    r.parent_run_id IS NULL AS is_root,
    strftime('%Y-%m-%dT%H:%M:%S', r.start_time / 1000000, 'unixepoch') || printf('.%06dZ', r.start_time % 1000000) AS start_time,
    strftime('%Y-%m-%dT%H:%M:%S', r.end_time / 1000000, 'unixepoch') || printf('.%06dZ', r.end_time % 1000000) AS end_time,
    (r.end_time - r.start_time) / 1e6 AS latency_s,
    strftime('%Y-%m-%dT%H:%M:%S', r.first_token_time / 1000000, 'unixepoch') || printf('.%06dZ', r.first_token_time % 1000000) AS first_token_time,
    r.thread_id AS thread_id,
    r.reference_example_id AS reference_example_id,
    r.dotted_order AS dotted_order,
    coalesce(r.tags, '[]') AS tags,
    coalesce(json_extract(p.extra, '$.metadata'), '{}') AS metadata,
    p.inputs AS inputs,
    p.outputs AS outputs,
    p.error AS error,
    r.prompt_tokens AS prompt_tokens,
    r.completion_tokens AS completion_tokens,
    r.total_tokens AS total_tokens,
    r.prompt_cost / 1e12 AS prompt_cost,
    r.completion_cost / 1e12 AS completion_cost,
    r.total_cost / 1e12 AS total_cost
FROM runs AS r
LEFT JOIN run_payloads AS p ON p.run_pk = r.pk
LEFT JOIN projects AS s ON s.id = r.session_id;

CREATE VIEW feedback_view AS
SELECT
    f.id AS id,
    f.run_id AS run_id,
    coalesce(f.trace_id, r.trace_id) AS trace_id,
    coalesce(f.session_id, r.session_id) AS project_id,
    f.key AS key,
    f.score AS score,
    f.value AS value,
    f.comment AS comment,
    f.correction AS correction,
    json_extract(f.feedback_source, '$.type') AS source_type,
    f.error AS is_error,
    strftime('%Y-%m-%dT%H:%M:%S', f.created_at / 1000000, 'unixepoch') || printf('.%06dZ', f.created_at % 1000000) AS created_at,
    strftime('%Y-%m-%dT%H:%M:%S', f.modified_at / 1000000, 'unixepoch') || printf('.%06dZ', f.modified_at % 1000000) AS modified_at
FROM feedback AS f
LEFT JOIN runs AS r ON r.id = f.run_id;

CREATE VIEW threads_view AS
SELECT
    r.session_id AS project_id,
    r.thread_id AS thread_id,
    count(*) AS turns,
    strftime('%Y-%m-%dT%H:%M:%S', min(r.start_time) / 1000000, 'unixepoch') || printf('.%06dZ', min(r.start_time) % 1000000) AS first_start_time,
    strftime('%Y-%m-%dT%H:%M:%S', max(r.start_time) / 1000000, 'unixepoch') || printf('.%06dZ', max(r.start_time) % 1000000) AS last_start_time,
    strftime('%Y-%m-%dT%H:%M:%S', max(r.end_time) / 1000000, 'unixepoch') || printf('.%06dZ', max(r.end_time) % 1000000) AS last_end_time,
    sum(r.status = 'error') AS error_turns,
    sum(r.prompt_tokens) AS prompt_tokens,
    sum(r.completion_tokens) AS completion_tokens,
    sum(r.total_tokens) AS total_tokens,
    sum(r.total_cost) / 1e12 AS total_cost
FROM runs AS r
WHERE r.parent_run_id IS NULL AND r.thread_id IS NOT NULL
GROUP BY r.session_id, r.thread_id;

-- Datasets of examples for offline evaluation (schema version 8): ``langsmith.evaluate``, the
-- langsmith pytest plugin.
-- Examples are versioned like LangSmith's: every change appends a row; the version of a
-- dataset "as of" time T is, per example id, the newest row with modified_at <= T, unless that
-- row is a deletion. Experiments are projects whose reference_dataset_id names the dataset.
CREATE TABLE datasets (
    pk              INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,          -- uuid
    name            TEXT NOT NULL UNIQUE,
    description     TEXT,
    data_type       TEXT NOT NULL DEFAULT 'kv',
    created_at      INTEGER NOT NULL,
    modified_at     INTEGER NOT NULL,              -- the latest version
    inputs_schema   TEXT,                          -- JSON
    outputs_schema  TEXT,                          -- JSON
    transformations TEXT,                          -- JSON
    metadata        TEXT                           -- JSON
);

CREATE TABLE examples (
    pk            INTEGER PRIMARY KEY,
    id            TEXT NOT NULL,                   -- uuid, the same across versions
    dataset_id    TEXT NOT NULL,                   -- datasets.id
    inputs        TEXT,                            -- JSON
    outputs       TEXT,                            -- JSON
    metadata      TEXT,                            -- JSON
    source_run_id TEXT,
    created_at    INTEGER NOT NULL,                -- when the example was first created
    modified_at   INTEGER NOT NULL,                -- when this version was written
    deleted       INTEGER NOT NULL DEFAULT 0       -- 1: this version deletes the example
, attachments TEXT);
-- attachments (schema version 13, hence its place): JSON {name: {"key", "file", "mime_type"}}
-- naming the example version's files, stored in the attachments table under run_id = key (a
-- key of their own, never a run id); versions that keep or rename a file name the same bytes.

CREATE INDEX examples_dataset ON examples (dataset_id, modified_at);
CREATE INDEX examples_id ON examples (id, modified_at);

-- Named versions of a dataset (``update_dataset_tag``): a tag points at a moment.
CREATE TABLE dataset_tags (
    dataset_id TEXT NOT NULL,                      -- datasets.id
    tag        TEXT NOT NULL,
    as_of      INTEGER NOT NULL,                   -- the version the tag points at
    PRIMARY KEY (dataset_id, tag)
);

-- Comparative experiments (``evaluate_comparative``, schema version 10): experiments of one
-- dataset compared pairwise; their feedback names the comparison in comparative_experiment_id.
CREATE TABLE comparative_experiments (
    pk                   INTEGER PRIMARY KEY,
    id                   TEXT NOT NULL UNIQUE,     -- uuid
    name                 TEXT,
    description          TEXT,
    reference_dataset_id TEXT NOT NULL,            -- datasets.id
    experiment_ids       TEXT NOT NULL,            -- JSON list of projects.id
    extra                TEXT,                     -- JSON (metadata under "metadata")
    created_at           INTEGER NOT NULL,
    modified_at          INTEGER NOT NULL
);

-- Pre-signed feedback URLs (``create_presigned_feedback_token``, schema version 14): each lets
-- whoever holds it record feedback of one key about one run, without the API key, until
-- expires_at (microseconds, as every time here).
CREATE TABLE feedback_tokens (
    pk              INTEGER PRIMARY KEY,
    id              TEXT NOT NULL UNIQUE,          -- uuid, the last part of the URL
    run_id          TEXT NOT NULL,                 -- may name a run that has not arrived yet
    feedback_key    TEXT NOT NULL,
    feedback_config TEXT,                          -- JSON, enforced on what the URL takes
    feedback_id     TEXT,                          -- the id its feedback gets; NULL: a new one
    expires_at      INTEGER NOT NULL,
    created_at      INTEGER NOT NULL
);
CREATE INDEX feedback_tokens_run ON feedback_tokens (run_id, created_at);
