-- Ingest bookkeeping (docs/architecture.md, Principles 2 and 4).

-- One cursor per system instance and stream; written in the same transaction
-- as the rows it covers.
create table ops.sync_cursors (
    system      text not null,
    stream      text not null,
    cursor      jsonb not null,
    updated_at  timestamptz not null default now(),
    primary key (system, stream)
);

-- One row per stream load: what was read and what became of it.
create table ops.ingest_batches (
    batch_id       uuid primary key,
    system         text not null,
    stream         text not null,
    started_at     timestamptz not null,
    finished_at    timestamptz,
    status         text not null check (status in ('running', 'succeeded', 'failed')),
    read           integer not null default 0,
    inserted       integer not null default 0,
    updated        integer not null default 0,
    unchanged      integer not null default 0,
    quarantined    integer not null default 0,
    cursor_before  jsonb,
    cursor_after   jsonb,
    source_lag_seconds double precision,
    error          text
);
create index ingest_batches_stream on ops.ingest_batches (system, stream, started_at desc);

-- Input that could not be loaded, with the reason; kept until fixed at the source.
create table ops.quarantine (
    id            bigint generated always as identity primary key,
    system        text not null,
    stream        text not null,
    record_key    text not null,
    payload       text not null,          -- as received (may not even be JSON)
    payload_hash  text not null,
    reason        text not null,
    batch_id      uuid,
    first_seen    timestamptz not null default now(),
    last_seen     timestamptz not null default now(),
    occurrences   integer not null default 1,
    resolved_at   timestamptz,
    unique (system, stream, record_key, payload_hash)
);
create index quarantine_open on ops.quarantine (system, stream) where resolved_at is null;

-- Webhook deliveries, stored once by the sender's event id before anything else.
create table ops.webhook_inbox (
    id            bigint generated always as identity primary key,
    source        text not null,          -- the system instance that sent it
    topic         text not null,
    event_id      text not null,
    triggered_at  timestamptz,
    received_at   timestamptz not null default now(),
    headers       jsonb not null,         -- the sender's headers, signature excluded
    body          text not null,          -- the raw body the signature covers
    processed_at  timestamptz,
    unique (source, event_id)
);
create index webhook_inbox_pending on ops.webhook_inbox (source, id) where processed_at is null;

-- Files taken from drop folders (EDI, CSV): each once by content hash.
create table ops.inbound_files (
    id            bigint generated always as identity primary key,
    system        text not null,
    file_name     text not null,
    sha256        text not null,
    received_at   timestamptz not null default now(),
    status        text not null check (status in ('loaded', 'quarantined')),
    reason        text,
    documents     integer not null default 0,
    unique (system, sha256)
);
