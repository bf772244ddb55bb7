-- One row for an uploaded file of the area, if an ingest took in these bytes: when, with what outcome, and since when the snapshot serving it was built. Params: $area, $file, $digest. Roles: admin, clerk.
with source as (
    select * from ingest_log
    where file = $file and sha256 = $digest and file_in_area(sender, $area)
),
built as (
    select try_cast(value as timestamp) as live_since, from meta where key = 'built_at'
),
joined as (
    select source.ingested_at, source.status, source.rows_loaded, source.rows_rejected, source.message,
        built.live_since,
    from source
    cross join built
),
newest as (
    select * from joined order by ingested_at desc
    limit 1
)
select * from newest
