-- One row per isolation-ledger problem and community in the area at the end of the day (centralized cases at a site that is not an isolation hotel, persons active in two kinds at once, persons with two active cases at once), with how many. Params: $day, $area.
with ledger as (
    select max(export_day) as snapshot_day from isolation where export_day <= $day
),
source as (
    select isolation.* from isolation join ledger on isolation.export_day = ledger.snapshot_day
),
active as (
    select * from source where in_force_on(started_on, ended_on, $day)
),
-- A centralized case with no site is in a designated hospital, as the contract allows; one placed
-- at a checkpoint or a testing site is a slip in the ledger.
misplaced as (
    select 'centralized_not_hotel' as problem, active.area_code, active.site_id, count(*) as found,
    from active
    left join sites using (site_id)
    where active.kind = 'centralized' and active.site_id is not null and sites.kind is distinct from 'isolation_hotel'
    group by all
),
per_person as (
    select case_key, min(area_code) as area_code, count(*) as cases, count(distinct kind) as kinds,
    from active
    group by all
),
doubled as (
    select 'two_kinds' as problem, area_code, null as site_id, count(*) as found,
    from per_person where kinds > 1 group by all
    union all
    select 'two_active_cases' as problem, area_code, null as site_id, count(*) as found,
    from per_person where cases > 1 group by all
),
named as (
    select flagged.problem, areas.name as community, flagged.area_code, sites.name as site, flagged.found,
    from (select * from misplaced union all select * from doubled) as flagged
    left join areas using (area_code)
    left join sites using (site_id)
    where starts_with(flagged.area_code, $area)
),
ordered as (
    select * from named order by list_position(['centralized_not_hotel', 'two_kinds', 'two_active_cases'], problem), area_code
)
select * from ordered
