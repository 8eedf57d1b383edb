-- The hub's layers (docs/architecture.md, The hub's schemas): raw landing, dbt's staging/core/marts,
-- the desired state per publish target, and the pipeline's own bookkeeping.
create schema if not exists raw;
create schema if not exists staging;
create schema if not exists core;
create schema if not exists marts;
create schema if not exists publish;
create schema if not exists ops;

comment on schema raw is 'One table per system instance and stream, payloads as received (jsonb) with load metadata.';
comment on schema staging is 'dbt: typed, deduplicated views over raw.';
comment on schema core is 'dbt: the canonical model (item, location, customer, order, ...). Analysts read it.';
comment on schema marts is 'dbt: sellable inventory, customer prices, reconciliation, routing. Analysts read it.';
comment on schema publish is 'dbt: the desired state per publish target, gated before anything is sent.';
comment on schema ops is 'Cursors, quarantine, webhook inbox, outbox, published state, dead letters.';
