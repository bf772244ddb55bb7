-- One row per export day in the snapshot, newest first. Params: none. Area: all.
with source as (
    select distinct day from loaded_files where day is not null
),
ordered as (
    select day from source order by day desc
)
select * from ordered
