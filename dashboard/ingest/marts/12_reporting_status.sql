-- One row per export day, kind and expected sender: received (with when), late (after its due time) or missing, and for a ledger the day of the part its figures use. Expected: whoever sent that kind in the 3 days before, reference/reporting.csv's list, and whoever sent it that day. Reads: loaded_files, reporting, areas.
create or replace table reporting_status as
with days as (
    select distinct day from loaded_files where day is not null
),
-- A ledger's sender is its area; any other sender is known by its name (senders.py).
arrived as (
    select kind, day, coalesce(nullif(scope, ''), sender) as who, any_value(sender_name) as sender_name,
        nullif(any_value(scope), '') as area_code, min(received_at) as received_at,
    from loaded_files
    where day is not null
    group by all
),
learned as (
    select days.day, arrived.kind, arrived.who, arrived.sender_name, arrived.area_code, null::varchar as due,
    from days
    join arrived on arrived.day between days.day - 3 and days.day - 1
),
required as (
    select days.day, reporting.kind,
        coalesce(reporting.area_code, named.area_code, reporting.sender) as who,
        coalesce(reporting.sender, coded.name) as sender_name,
        coalesce(reporting.area_code, named.area_code) as area_code,
        reporting.due,
    from days
    cross join reporting
    left join areas as named on named.name = reporting.sender and reporting.area_code is null
    left join areas as coded on coded.area_code = reporting.area_code
),
expected as (
    select day, kind, who, any_value(sender_name order by sender_name) as sender_name,
        any_value(area_code) as area_code, max(due) as due,
    from (
        select * from learned
        union all by name
        select * from required
        union all by name
        select day, kind, who, sender_name, area_code, null as due, from arrived
    )
    group by all
),
-- A ledger sender that sent nothing on a day is still counted from its newest earlier part.
served as (
    select day, 'control_zones' as kind, coalesce(nullif(scope, ''), sender) as who, max(part_day) as served_day,
    from current_parts('control_zones')
    group by all
    union all
    select day, 'isolation', coalesce(nullif(scope, ''), sender), max(part_day),
    from current_parts('isolation')
    group by all
)
select expected.day, expected.kind, expected.who as sender, expected.sender_name, expected.area_code,
    arrived.received_at,
    expected.day + try_cast(expected.due as time) as due_at,
    served.served_day,
    case
        when arrived.received_at is null then 'missing'
        when arrived.received_at > expected.day + try_cast(expected.due as time) then 'late'
        else 'received'
    end as status,
from expected
left join arrived using (day, kind, who)
left join served using (day, kind, who);
