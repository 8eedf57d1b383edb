{#
  The health of every sync, live: a VIEW over the ops tables only, so it is current whenever
  it is read (now(), not as_of()) and needs no rebuild. It reads sources, not the staging
  views: dbt replaces a view with cascade, and a rebuilt staging view must not drop this one.

  inbound: one row per declared stream (distrohub_stream_slas(), generated from defs.yaml), so
  a stream that never loaded is listed too. outbound: one row per target system and publish
  target that has messages in ops.outbox. The outbound SLA (var ops_outbound_sla_minutes,
  default 60): a pending message older than it, or any open dead letter, breaches.
#}
{{ config(materialized='view') }}

{%- set slas = distrohub_stream_slas() -%}
{%- set outbound_sla_minutes = var('ops_outbound_sla_minutes', 60) -%}

{#- a number of minutes as a person reads it (hub/slas.py describe_minutes): 45 min,
    3.2 h, 3 d; used as duration | replace('@', <minutes expression>) -#}
{%- set duration -%}
    (case
        when (@) < 60 then round(@)::text || ' min'
        when (@) < 2880 then trim_scale(round((@)::numeric / 60.0, 1))::text || ' h'
        else trim_scale(round((@)::numeric / 1440.0, 1))::text || ' d'
    end)
{%- endset -%}

with

declared as (

    select system, stream, sla_minutes
    from (
        values
        {%- for system, streams in slas | dictsort %}
            {%- set outer_last = loop.last %}
            {%- for stream, minutes in streams | dictsort %}
            ('{{ system }}'::text, '{{ stream }}'::text, {{ minutes }}::integer)
            {%- if not (outer_last and loop.last) %},{% endif %}
            {%- endfor %}
        {%- endfor %}
    ) as declared_streams (system, stream, sla_minutes)

),

batches as (

    -- whole reads only: a worker's re-read of a few keys (scope set) says nothing of the feed
    select * from {{ source('ops', 'ingest_batches') }}
    where scope is null

),

quarantine as (

    select * from {{ source('ops', 'quarantine') }}

),

outbox as (

    select * from {{ source('ops', 'outbox') }}

),

dead_letter as (

    select * from {{ source('ops', 'dead_letter') }}

),

loads as (

    select
        system,
        stream,
        max(finished_at) filter (where status = 'succeeded') as last_success_at,
        max(coalesce(finished_at, started_at)) as last_attempt_at,
        coalesce(
            sum(read) filter (where status = 'succeeded' and finished_at > now() - interval '24 hours'),
            0
        )::integer as rows_24h
    from batches
    group by system, stream

),

latest_batch as (

    select distinct on (system, stream)
        system,
        stream,
        status as last_status,
        error as last_batch_error
    from batches
    order by system asc, stream asc, started_at desc, finished_at desc nulls first

),

latest_success as (

    select distinct on (system, stream)
        system,
        stream,
        read as rows_last_load
    from batches
    where status = 'succeeded'
    order by system asc, stream asc, finished_at desc

),

latest_failure as (

    select distinct on (system, stream)
        system,
        stream,
        error as last_error
    from batches
    where status = 'failed'
    order by system asc, stream asc, finished_at desc nulls last, started_at desc

),

open_quarantine as (

    select system, stream, count(*)::integer as quarantined_open
    from quarantine
    where resolved_at is null
    group by system, stream

),

inbound as (

    select
        declared.system,
        'inbound'::text as direction,
        declared.stream,
        loads.last_success_at,
        loads.last_attempt_at,
        latest_batch.last_status,
        -- the error of the latest failure, while no load has succeeded since
        case
            when loads.last_success_at is null or latest_batch.last_status = 'failed'
                then latest_failure.last_error
        end as last_error,
        round((extract(epoch from now() - loads.last_success_at) / 60.0)::numeric, 1) as lag_minutes,
        declared.sla_minutes,
        case
            when loads.last_success_at is null then 'never_loaded'
            when now() - loads.last_success_at > declared.sla_minutes * interval '1 minute'
                then 'breached'
            else 'within_sla'
        end as sla_status,
        latest_success.rows_last_load,
        coalesce(loads.rows_24h, 0) as rows_24h,
        coalesce(open_quarantine.quarantined_open, 0) as quarantined_open,
        0 as dead_letters_open,
        0 as outbox_pending,
        null::timestamptz as oldest_pending_at
    from declared
    left join loads
        on loads.system = declared.system and loads.stream = declared.stream
    left join latest_batch
        on latest_batch.system = declared.system and latest_batch.stream = declared.stream
    left join latest_success
        on latest_success.system = declared.system and latest_success.stream = declared.stream
    left join latest_failure
        on latest_failure.system = declared.system and latest_failure.stream = declared.stream
    left join open_quarantine
        on open_quarantine.system = declared.system and open_quarantine.stream = declared.stream

),

deliveries as (

    select
        system,
        target,
        max(sent_at) filter (where status in ('delivered', 'existed')) as last_success_at,
        max(sent_at) as last_sent_at,
        max(enqueued_at) as last_enqueued_at,
        count(*) filter (where sent_at > now() - interval '24 hours')::integer as rows_24h,
        count(*) filter (where status = 'pending')::integer as outbox_pending,
        min(enqueued_at) filter (where status = 'pending') as oldest_pending_at
    from outbox
    group by system, target

),

-- one publish enqueues its messages in one transaction: they share enqueued_at
last_enqueue as (

    select outbox.system, outbox.target, count(*)::integer as rows_last_load
    from outbox
    inner join deliveries
        on deliveries.system = outbox.system
        and deliveries.target = outbox.target
        and deliveries.last_enqueued_at = outbox.enqueued_at
    group by outbox.system, outbox.target

),

latest_message as (

    select distinct on (system, target)
        system,
        target,
        status as last_status
    from outbox
    order by system asc, target asc, id desc

),

latest_message_error as (

    select distinct on (system, target)
        system,
        target,
        coalesce(error_code || ': ', '') || last_error as last_error
    from outbox
    where last_error is not null and status in ('pending', 'dead')
    order by system asc, target asc, id desc

),

open_dead_letters as (

    select
        system,
        target,
        count(*)::integer as dead_letters_open,
        max(failed_at) as last_failed_at
    from dead_letter
    where resolved_at is null
    group by system, target

),

outbound as (

    select
        deliveries.system,
        'outbound'::text as direction,
        deliveries.target as stream,
        deliveries.last_success_at,
        greatest(deliveries.last_sent_at, open_dead_letters.last_failed_at) as last_attempt_at,
        latest_message.last_status,
        latest_message_error.last_error,
        round((extract(epoch from now() - deliveries.last_success_at) / 60.0)::numeric, 1) as lag_minutes,
        {{ outbound_sla_minutes }}::integer as sla_minutes,
        case
            when coalesce(open_dead_letters.dead_letters_open, 0) > 0 then 'breached'
            when now() - deliveries.oldest_pending_at > {{ outbound_sla_minutes }} * interval '1 minute'
                then 'breached'
            else 'within_sla'
        end as sla_status,
        last_enqueue.rows_last_load,
        deliveries.rows_24h,
        0 as quarantined_open,
        coalesce(open_dead_letters.dead_letters_open, 0) as dead_letters_open,
        deliveries.outbox_pending,
        deliveries.oldest_pending_at
    from deliveries
    left join last_enqueue
        on last_enqueue.system = deliveries.system and last_enqueue.target = deliveries.target
    left join latest_message
        on latest_message.system = deliveries.system and latest_message.target = deliveries.target
    left join latest_message_error
        on latest_message_error.system = deliveries.system
        and latest_message_error.target = deliveries.target
    left join open_dead_letters
        on open_dead_letters.system = deliveries.system
        and open_dead_letters.target = deliveries.target

),

unioned as (

    select * from inbound
    union all
    select * from outbound

),

final as (

    select
        system,
        direction,
        stream,
        last_success_at,
        last_attempt_at,
        last_status,
        last_error,
        lag_minutes,
        sla_minutes,
        sla_status,
        rows_last_load,
        rows_24h,
        quarantined_open,
        dead_letters_open,
        outbox_pending,
        oldest_pending_at,
        case
            when direction = 'inbound' then
                system || ' ' || stream || ': '
                || case
                    when last_success_at is null then 'never loaded'
                    else 'last loaded ' || {{ duration | replace('@', 'lag_minutes') }} || ' ago'
                end
                || ', SLA ' || {{ duration | replace('@', 'sla_minutes') }}
                || case when sla_status = 'breached' then ' (breached)' else '' end
                || case
                    when quarantined_open > 0
                        then '; ' || quarantined_open || ' record(s) quarantined'
                    else ''
                end
                || case
                    when last_error is not null
                        then '; last load failed: ' || left(last_error, 160)
                    else ''
                end
            else
                stream || ' to ' || system || ': '
                || case
                    when last_success_at is null then 'nothing delivered yet'
                    else 'last delivered ' || {{ duration | replace('@', 'lag_minutes') }} || ' ago'
                end
                || case
                    when outbox_pending > 0 then
                        ', ' || outbox_pending || ' pending (oldest '
                        || {{ duration | replace('@', 'extract(epoch from now() - oldest_pending_at) / 60.0') }}
                        || ')'
                    else ''
                end
                || case
                    when dead_letters_open > 0
                        then ', ' || dead_letters_open || ' open dead letter(s)'
                    else ''
                end
                || ', SLA ' || {{ duration | replace('@', 'sla_minutes') }} || ' for pending messages'
                || case when sla_status = 'breached' then ' (breached)' else '' end
        end as message
    from unioned

)

select * from final
