-- The read-only analyst: reads core and marts, nothing else, writes nothing.
-- On the embedded cluster `distrohub hub start` creates the login role; on a
-- managed server create it first (`create role analyst login password '...'`),
-- or the role is created here without login when we may create roles.
do $$
begin
    if not exists (select 1 from pg_roles where rolname = 'analyst') then
        create role analyst nologin;
    end if;
end
$$;

revoke all on schema public from public;
revoke all on schema raw, staging, publish, ops from analyst;
grant usage on schema core, marts to analyst;
grant select on all tables in schema core, marts to analyst;
-- Tables that dbt (running as this migration's role) creates later.
alter default privileges in schema core grant select on tables to analyst;
alter default privileges in schema marts grant select on tables to analyst;
