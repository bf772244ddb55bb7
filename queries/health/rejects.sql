-- One row per rejected cell of the day's files and of the reference files, with its reason (line is a workbook sheet's row); ID numbers are already masked; in an area, its own files' only (a clerk's street). Params: $day, $area. Roles: admin, clerk.
with source as (
    select rejects.* from rejects
    left join ingest_log using (file_id)
    where (rejects.day = $day or rejects.day is null) and file_in_area(ingest_log.sender, $area)
),
renamed as (
    select day, kind, file, sheet, line, "column" as column_name, reason, value,
    from source
),
ordered as (
    select * from renamed order by day nulls first, kind, line
    limit 2000
)
select * from ordered
