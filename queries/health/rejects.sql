-- One row per rejected cell of the day's files and of the reference files, with its reason (line is a workbook sheet's row); ID numbers are already masked. Params: $day. Roles: admin.
with source as (
    select * from rejects where day = $day or day is null
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
