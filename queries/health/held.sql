-- One row per re-export held back because it has far fewer rows than the file serving its day, which keeps serving; newest day first; in an area, its own files'. Params: $area.
with source as (
    select held_files.*, from held_files
    where file_in_area((select arg_max(sender, file_id) from ingest_log where ingest_log.sha256 = held_files.sha256
                        and ingest_log.file = held_files.file), $area)
),
ordered as (
    select kind, day, file, rows_read, rows_loaded, serving_rows_read, serving_rows_loaded, held_at,
    from source
    order by day desc, kind
)
select * from ordered
