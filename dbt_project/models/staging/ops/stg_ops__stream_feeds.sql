-- The last time each system's stream delivered data: the age of a feed is the time since
-- its last successful load that read something (a load that found no new file is no reading).
with

batches as (

    select * from {{ source('ops', 'ingest_batches') }}

),

final as (

    select
        system,
        stream,
        max(finished_at) filter (where read > 0) as last_read_at,
        max(finished_at) as last_success_at,
        count(*)::integer as successful_loads
    from batches
    -- a re-read of a few keys (the worker's narrow path, scope set) is not a reading of the feed
    where status = 'succeeded' and scope is null
    group by system, stream

)

select * from final
