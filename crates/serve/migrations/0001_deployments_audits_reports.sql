-- One schema for SQLite and PostgreSQL: only types and syntax both read the
-- same way (TEXT, BIGINT, composite keys); ids and times are made by the
-- server (time-sortable text), not by either database's own sequences.

CREATE TABLE deployments (
    name        TEXT PRIMARY KEY,
    latest      BIGINT NOT NULL,
    created_at  TEXT NOT NULL,
    created_by  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    updated_by  TEXT NOT NULL
);

-- Every saved text of a deployment, never changed once written: who saved
-- what, when, and why.
CREATE TABLE deployment_versions (
    deployment  TEXT NOT NULL REFERENCES deployments (name),
    version     BIGINT NOT NULL,
    yaml        TEXT NOT NULL,
    sha256      TEXT NOT NULL,
    author      TEXT NOT NULL,
    message     TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (deployment, version)
);

CREATE TABLE audits (
    id           TEXT PRIMARY KEY,
    deployment   TEXT NOT NULL REFERENCES deployments (name),
    version      BIGINT NOT NULL,
    created_at   TEXT NOT NULL,
    author       TEXT NOT NULL,
    file         TEXT NOT NULL,
    rules_format TEXT NOT NULL,
    as_host      TEXT NOT NULL,
    summary      TEXT NOT NULL,
    result       TEXT NOT NULL
);
CREATE INDEX audits_by_deployment ON audits (deployment, created_at);

CREATE TABLE reports (
    id           TEXT PRIMARY KEY,
    deployment   TEXT NOT NULL REFERENCES deployments (name),
    received_at  TEXT NOT NULL,
    author       TEXT NOT NULL,
    source       TEXT NOT NULL,
    summary      TEXT NOT NULL,
    body         TEXT NOT NULL,
    changes      TEXT NOT NULL
);
CREATE INDEX reports_by_deployment ON reports (deployment, received_at);
