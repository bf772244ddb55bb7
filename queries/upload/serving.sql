-- One row per file serving a kind of the day in the area (its own senders' files): what an upload of the same kind and sender replaces. Params: $day, $area. Roles: admin, clerk.
with source as (
    select * from loaded_files
    where day = $day and file_in_area(sender, $area)
),
renamed as (
    select kind, sender, file, received_at,
    from source
)
select * from renamed
