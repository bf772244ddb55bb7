-- One row per calendar day in the 14 days up to the day: samples and positives in the area, null where that day's export is missing. Params: $day, $area.
with days as (
    select day from trend_days($day)
),
exported as (
    select day from feed_status where kind = 'testing_records' and not stale
),
tested as (
    select day, sum(samples) as samples, sum(positives) as positives,
    from testing_daily
    where starts_with(area_code, $area)
    group by all
),
joined as (
    select days.day,
        case when exported.day is not null then coalesce(tested.samples, 0) end as samples,
        case when exported.day is not null then coalesce(tested.positives, 0) end as positives,
    from days
    left join exported using (day)
    left join tested using (day)
),
ordered as (
    select * from joined order by day
)
select * from ordered
