-- One row per kind and expected sender on the day: received, late or missing, with when it arrived, when it was due and, for a ledger, the day of the part its figures use. Params: $day.
with source as (
    select * from reporting_status where day = $day
),
ordered as (
    select source.kind, source.sender, source.sender_name, source.area_code, source.status, source.received_at,
        source.due_at, source.served_day,
    from source
    join feeds using (kind)
    order by feeds.position, source.status = 'received', source.sender_name
)
select * from ordered
