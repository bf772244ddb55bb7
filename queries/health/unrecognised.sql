-- One row per file of a day folder that the newest ingest recognised as no export (a note, a photo, a phone list), with why; never its contents; a file of nobody's area is the district's. Params: $area. Roles: leader, admin.
with source as (
    select * from ingest_log where status = 'unrecognised' and file_in_area(sender, $area)
),
-- Every ingest logs these files again: the newest ingest's are those logged since it started, by
-- their line's id (two ingests may start within one second; a snapshot from before the id was kept
-- has only the time).
newest as (
    select * from source
    where ingested_at >= (select value::timestamp from meta where key = 'ingest_started_at')
      and file_id >= coalesce((select value::bigint from meta where key = 'ingest_first_log_id'), 0)
),
-- A file is one line, whatever else the log holds.
deduplicated as (
    select file, arg_max(day, file_id) as day, arg_max(message, file_id) as message,
        max(ingested_at) as ingested_at,
    from newest
    group by all
),
explained as (
    select day, file, ingested_at,
        -- The message repeats the file name before the reason.
        if(starts_with(message, file || ': '), message[length(file) + 3:], message) as reason,
    from deduplicated
),
ordered as (
    select * from explained order by day desc, file
)
select * from ordered
