-- What the hub last told each target, per record (docs/architecture.md, Principles 2): the publish step
-- diffs its publish model against this, and reconciliation compares the live target with it.
create table ops.published_state (
    target        text not null,          -- e.g. storefront_inventory, storefront_prices
    record_key    text not null,          -- the target's key of the record, e.g. system|item|location
    payload       jsonb not null,         -- the values sent
    payload_hash  text not null,
    published_at  timestamptz not null default now(),
    primary key (target, record_key)
);
