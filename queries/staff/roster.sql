-- One row per shift at a post in the area that overlaps the day, with the staff member's name. Params: $day, $area. Roles: leader, admin.
with source as (
    select * from shifts
    where starts_at < $day + interval 1 day and ends_at > $day::timestamp
),
sited as (
    select source.shift_id, source.staff_id, source.staff_name, source.unit, source.role,
        source.site_id, sites.name as site_name, sites.kind as site_kind, source.team_id,
        source.starts_at, source.ends_at, source.status,
    from source
    join sites using (site_id)
    where starts_with(sites.area_code, $area)
),
ordered as (
    select * from sited order by starts_at, site_id, staff_id
)
select * from ordered
