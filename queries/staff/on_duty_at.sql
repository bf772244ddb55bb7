-- One row per post in the area that is staffed or has anyone on duty at the instant: on duty (starts_at <= $at < ends_at, not absent) against min_staff. Params: $at, $area.
with on_duty as (
    select site_id, count(*) as on_duty,
    from shifts
    where on_duty_at(starts_at, ends_at, status, $at)
    group by all
),
posts as (
    select sites.site_id, sites.name, sites.kind, sites.area_code, sites.lat, sites.lon,
        coalesce(sites.min_staff, 0) as min_staff,
        coalesce(on_duty.on_duty, 0) as on_duty,
    from sites
    left join on_duty using (site_id)
    where starts_with(sites.area_code, $area)
),
flagged as (
    select *, min_staff > 0 and on_duty < min_staff as understaffed,
    from posts
    where min_staff > 0 or on_duty > 0
)
select * from flagged order by understaffed desc, site_id
