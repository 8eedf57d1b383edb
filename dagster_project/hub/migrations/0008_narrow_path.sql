-- The narrow path (dagster_project/publish/narrow.py, dagster_project/worker/): a few SKUs'
-- figures rebuilt, gated and delivered by a long-lived worker as their stock events arrive.

-- The data version of a publish model the narrow path rewrites in place: written by the model's
-- full build (dbt post-hook track_data_version) for the relation it created, kept current by
-- every narrow rebuild in the transaction that rewrites the rows (count and order-free hash sum
-- move by what was deleted and inserted). relation_oid tells a stale row from a current one.
create table ops.model_versions (
    model         text primary key,
    relation_oid  oid not null,
    row_count     bigint not null,
    hash_sum      numeric not null,
    updated_at    timestamptz not null default now()
);

-- Every narrow publish: what started it, the scope, the gate's verdict and what it sent.
create table ops.narrow_runs (
    id             bigint generated always as identity primary key,
    target         text not null,
    started_at     timestamptz not null default now(),
    finished_at    timestamptz,
    trigger        text not null,          -- e.g. 'webhook:wms_dc_east:stock.adjusted:<event id>'
    changed_skus   integer not null,       -- the keys the events named
    scope_skus     integer not null,       -- with the ones that depend on them (kits)
    rows_written   integer,                -- publish model rows rewritten
    passed         boolean,
    summary        text,
    messages       integer,                -- enqueued into ops.outbox
    delivered      integer,
    seconds        numeric,
    steps          jsonb,                  -- seconds by step: lock, rebuild, gate, enqueue, deliver
    error          text
);
create index narrow_runs_recent on ops.narrow_runs (target, started_at desc);

-- A load that re-read a stream for a few keys only (the worker: one SKU's bins after a stock
-- event) names them here; it says nothing about the rest of the feed, so feed ages, freshness
-- and sync health count only whole reads (scope is null).
alter table ops.ingest_batches add column scope text;

-- The worker's place in the webhook inbox (it reads the inbox beside the sensors, which still
-- land every delivery into raw and mark it processed).
create table ops.worker_cursors (
    worker      text primary key,
    last_id     bigint not null,
    updated_at  timestamptz not null default now()
);

-- The worker waits on this channel instead of polling: each stored delivery notifies it.
create function ops.notify_webhook_inbox() returns trigger
language plpgsql as $$
begin
    perform pg_notify('distrohub_webhook_inbox', new.source || ' ' || new.topic || ' ' || new.id);
    return null;
end;
$$;

create trigger webhook_inbox_notify
    after insert on ops.webhook_inbox
    for each row execute function ops.notify_webhook_inbox();
