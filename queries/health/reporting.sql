-- One row per kind and expected sender on the day: received, late or missing, with when it arrived, when it was due and, for a ledger, the day of the part its figures use; in an area, the senders that concern it (its own and wider ledgers and uploads, and the senders of district-wide event files). Params: $day, $area.
with source as (
    select * from reporting_status
    where day = $day and (area_code is null or starts_with(area_code, $area) or starts_with($area, area_code))
),
ordered as (
    select source.day, source.kind, source.sender, source.sender_name, source.area_code, source.status, source.received_at,
        source.due_at, source.served_day,
    from source
    join feeds using (kind)
    order by feeds.position, source.status = 'received', source.sender_name
)
select * from ordered
