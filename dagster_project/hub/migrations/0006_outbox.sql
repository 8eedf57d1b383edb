-- Delivery bookkeeping (docs/architecture.md, Principles 3 and 4): the gate's verdicts, the transactional
-- outbox and the dead letters.

-- Every gate evaluation of a publish model, for one data version (a hash of its rows).
-- gate: dbt_tests (recorded by the dbt run), expectations (the GX suite), blast_radius,
-- freshness, and gate (the verdict over all four, which delivery re-verifies).
create table ops.gate_results (
    id            bigint generated always as identity primary key,
    target        text not null,
    model         text not null,          -- publish.<model>
    data_version  text not null,
    gate          text not null check (gate in ('dbt_tests', 'expectations', 'blast_radius', 'freshness', 'gate')),
    passed        boolean not null,
    summary       text not null,          -- one line a person can act on
    details       jsonb not null default '{}'::jsonb,
    checked_at    timestamptz not null default now(),
    run_id        text
);
create index gate_results_lookup on ops.gate_results (model, data_version, gate, checked_at desc);
create index gate_results_target on ops.gate_results (target, checked_at desc);

-- One row per message to a target system. Enqueued by the diff in the same transaction that
-- read the publish model; acknowledged (sent_at, response) in the transaction that records the
-- target's answer and updates ops.published_state.
create sequence ops.outbox_id_seq;
create table ops.outbox (
    id               bigint primary key default nextval('ops.outbox_id_seq'),
    target           text not null,
    system           text not null,       -- the system instance it goes to
    record_key       text not null,
    action           text not null check (action in ('upsert', 'delete')),
    change           text not null check (change in ('add', 'change', 'remove', 'replay', 'retry')),
    payload          jsonb not null,
    payload_hash     text not null,
    idempotency_key  text not null unique,
    data_version     text,
    status           text not null check (status in
                       ('pending', 'delivered', 'existed', 'suppressed', 'superseded', 'dead')),
    attempts         integer not null default 0,
    next_attempt_at  timestamptz not null default now(),
    enqueued_at      timestamptz not null default now(),
    sent_at          timestamptz,
    last_error       text,
    error_code       text,
    response         jsonb
);
alter sequence ops.outbox_id_seq owned by ops.outbox.id;
create index outbox_pending on ops.outbox (target, id) where status = 'pending';
create index outbox_record on ops.outbox (target, record_key, id desc);
create index outbox_sent on ops.outbox (target, sent_at) where sent_at is not null;

-- Messages that could not be delivered (a refusal, or N failed attempts): what a person must
-- look at. `distrohub dlq retry|discard` resolves them.
create table ops.dead_letter (
    id           bigint generated always as identity primary key,
    outbox_id    bigint not null references ops.outbox (id),
    target       text not null,
    system       text not null,
    record_key   text not null,
    error_code   text not null,
    error        text not null,
    response     jsonb,
    attempts     integer not null,
    failed_at    timestamptz not null default now(),
    resolved_at  timestamptz,
    resolution   text check (resolution in ('retried', 'discarded')),
    note         text
);
create index dead_letter_open on ops.dead_letter (target, failed_at) where resolved_at is null;
