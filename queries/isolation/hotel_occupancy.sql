-- One row per isolation hotel in the area: active centralized cases at the end of the day against rooms. Params: $day, $area.
with hotels as (
    select site_id, name, area_code, lat, lon, capacity,
    from sites
    where kind = 'isolation_hotel' and starts_with(area_code, $area)
),
guests as (
    select site_id, sum(active) as active,
    from isolation_daily
    where day = $day and kind = 'centralized'
    group by all
),
occupancy as (
    select hotels.*,
        coalesce(guests.active, 0) as active,
        round(coalesce(guests.active, 0) / nullif(hotels.capacity, 0), 4) as occupancy,
    from hotels
    left join guests using (site_id)
)
select * from occupancy order by occupancy desc nulls last, site_id
