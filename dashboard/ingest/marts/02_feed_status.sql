-- One row per calendar day and export kind: which export the day's figures come from, and whether that is the day itself. Reads: calendar, feeds, loaded_files, ingest_log.
create or replace table feed_status as
with kinds as (
    select kind from feeds
),
arrived as (
    select kind, day, file_id from loaded_files where day is not null
),
latest as (
    select calendar.day, kinds.kind, max(arrived.day) as latest_export,
    from calendar
    cross join kinds
    left join arrived on arrived.kind = kinds.kind and arrived.day <= calendar.day
    group by all
)
select
    latest.*,
    latest.latest_export is distinct from latest.day as stale,
    max(log.ingested_at) as ingested_at,
from latest
left join loaded_files as lf on lf.kind = latest.kind and lf.day = latest.latest_export
left join ingest_log as log on log.file_id = lf.file_id
group by all;
