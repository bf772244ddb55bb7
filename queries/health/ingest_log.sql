-- One row per file the ingest handled, newest first (at most 500); in an area, its own files'. Params: $area. Roles: admin.
with source as (
    select * from ingest_log where file_in_area(sender, $area)
),
renamed as (
    select file_id, ingested_at, kind, day, file, status, encoding, rows_read, rows_loaded, rows_rejected,
        rows_skipped, message,
    from source
),
ordered as (
    select * from renamed order by file_id desc
    limit 500
)
select * from ordered
