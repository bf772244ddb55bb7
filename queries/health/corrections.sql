-- One row per re-send that replaced a sender's file of a kind and day, for days up to the day, newest ingest first: the replaced file's figures and the new one's, as JSON text; in an area, the re-sends of files that cover it, with figures ({}) only for the area's own. Params: $day, $area.
with source as (
    select * from corrections where day <= $day and file_covers_area(sender, $area)
),
ordered as (
    select kind, day, sender, ingested_at,
        if(file_in_area(sender, $area), before, '{}') as before, if(file_in_area(sender, $area), after, '{}') as after,
    from source order by ingested_at desc, day desc, kind
)
select * from ordered
