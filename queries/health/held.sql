-- One row per re-export held back because it has far fewer rows than the file serving its day, which keeps serving; newest day first. Params: none.
with source as (
    select * from held_files
),
ordered as (
    select kind, day, file, rows_read, rows_loaded, serving_rows_read, serving_rows_loaded, held_at,
    from source
    order by day desc, kind
)
select * from ordered
