-- One row per export day and file kind: what arrived (every sender's file), rows loaded and rejected, when it was ingested, and whether the day's figures are stale; in an area, the files that cover it, counted only when they are of it. Params: $area.
with grid as (
    select feed_status.day, feed_status.kind, feed_status.latest_export, feed_status.stale, feeds.position,
    from feed_status
    join feeds using (kind)
),
-- Several senders' files of one kind and day are one cell: their names, their rows added up.
serving as (
    select loaded_files.kind, loaded_files.day,
        string_agg(loaded_files.file, ', ' order by loaded_files.file) as file,
        sum(ingest_log.rows_read) filter (where file_in_area(loaded_files.sender, $area)) as rows_read,
        sum(ingest_log.rows_loaded) filter (where file_in_area(loaded_files.sender, $area)) as rows_loaded,
        sum(ingest_log.rows_rejected) filter (where file_in_area(loaded_files.sender, $area)) as rows_rejected,
        string_agg(distinct ingest_log.encoding, ', ') as encoding,
        max(ingest_log.ingested_at) as ingested_at,
    from loaded_files
    join ingest_log using (file_id)
    where loaded_files.day is not null and file_covers_area(loaded_files.sender, $area)
    group by all
),
failed as (
    select kind, day, arg_max(message, file_id) as failure,
    from ingest_log
    where status = 'failed' and file_covers_area(sender, $area)
    group by all
),
joined as (
    select grid.day, grid.kind, grid.latest_export, grid.stale,
        serving.file, serving.rows_read, serving.rows_loaded, serving.rows_rejected, serving.encoding,
        serving.ingested_at,
        failed.failure,
        grid.position,
        case
            when serving.file is not null then 'loaded'
            when failed.failure is not null then 'failed'
            else 'missing'
        end as status,
    from grid
    left join serving on serving.kind = grid.kind and serving.day = grid.day
    left join failed on failed.kind = grid.kind and failed.day = grid.day
),
ordered as (
    select * exclude (position) from joined
    order by day desc, position
)
select * from ordered
