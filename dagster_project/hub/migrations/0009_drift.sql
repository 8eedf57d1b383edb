-- Drift (docs/architecture.md, Publishing): a record whose desired value equals what we last told
-- the target, while the target's own feed, read after that publish, holds another value (a
-- merchandiser's edit in the store). The diff finds it (publish/diff.py); in drift mode
-- `correct` it is sent again as an outbox message of change 'drift', in mode `report` only
-- recorded here.

alter table ops.outbox drop constraint outbox_change_check;
alter table ops.outbox add constraint outbox_change_check
    check (change in ('add', 'change', 'remove', 'replay', 'retry', 'drift'));

-- Every drift found, before (what the target held) and after (what we want it to hold).
create table ops.drift_corrections (
    id               bigint generated always as identity primary key,
    target           text not null,
    record_key       text not null,
    system           text not null,
    mode             text not null check (mode in ('correct', 'report')),
    live_payload     jsonb not null,        -- before: the target's own values (its feed)
    desired_payload  jsonb not null,        -- after: the publish model's payload, as told before
    live_loaded_at   timestamptz not null,  -- when ingest read the target's value
    published_at     timestamptz not null,  -- when we last told the target the desired value
    detected_at      timestamptz not null default now(),
    outbox_id        bigint references ops.outbox (id)  -- the correction sent (mode correct)
);
create index drift_corrections_recent on ops.drift_corrections (target, detected_at desc);
create index drift_corrections_record on ops.drift_corrections (target, record_key, id desc);
