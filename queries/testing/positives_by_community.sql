-- One row per community in the area: samples, positives and pending sampled on the day, and the zones active in it (all, and sealed or controlled). Params: $day, $area.
with communities as (
    select area_code, name, parent_code as street_code, lat, lon,
    from areas
    where level = 'community' and starts_with(area_code, $area)
),
tested as (
    select area_code, sum(samples) as samples, sum(positives) as positives, sum(pending) as pending,
    from testing_daily
    where day = $day
    group by all
),
zoned as (
    select area_code, count(*) as active_zones,
        -- A precaution zone alone does not contain an outbreak: positives there still need a zone.
        count(*) filter (where level in ('sealed', 'controlled')) as containing_zones,
    from zones_daily
    where day = $day
    group by all
),
joined as (
    select communities.*,
        coalesce(tested.samples, 0) as samples,
        coalesce(tested.positives, 0) as positives,
        coalesce(tested.pending, 0) as pending,
        coalesce(zoned.active_zones, 0) as active_zones,
        coalesce(zoned.containing_zones, 0) as containing_zones,
    from communities
    left join tested using (area_code)
    left join zoned using (area_code)
),
ordered as (
    select * from joined order by positives desc, area_code
)
select * from ordered
