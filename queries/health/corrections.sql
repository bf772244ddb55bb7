-- One row per re-send that replaced a sender's file of a kind and day, for days up to the day, newest ingest first: the replaced file's figures and the new one's, as JSON text. Params: $day.
with source as (
    select * from corrections where day <= $day
),
ordered as (
    select kind, day, sender, ingested_at, before, after, from source order by ingested_at desc, day desc, kind
)
select * from ordered
