-- One row per zone in the newest ledger on or before the day that had started by then and was in force at some time in the 14 days up to it, in the area. Params: $day, $area.
with ledger as (
    select max(export_day) as export_day from control_zones where export_day <= $day
),
source as (
    select control_zones.*
    from control_zones
    join ledger using (export_day)
    where starts_with(area_code, $area) and started_on <= $day
        and (lifted_on is null or lifted_on > trend_window_start($day))
),
renamed as (
    select zone_id, name, area_code, level, scope, started_on, lifted_on, population, export_day as ledger_day,
    from source
),
ordered as (
    select * from renamed
    order by list_position(['sealed', 'controlled', 'precaution'], level), started_on, zone_id
)
select * from ordered
