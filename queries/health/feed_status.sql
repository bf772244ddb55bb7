-- One row per export kind for the day: its newest export on or before the day, and whether that is stale. Params: $day. Area: all.
with source as (
    select * from feed_status where day = $day
),
ordered as (
    select kind, latest_export, stale, ingested_at, from source order by kind
)
select * from ordered
