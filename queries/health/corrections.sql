-- One row per re-export that replaced a day's file of a kind, for days up to the day, newest ingest first: the replaced file's figures and the new one's, as JSON text. Params: $day.
with source as (
    select * from corrections where day <= $day
),
ordered as (
    select kind, day, ingested_at, before, after, from source order by ingested_at desc, day desc, kind
)
select * from ordered
