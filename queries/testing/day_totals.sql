-- One row: test records sampled on the day in the area, and how many are positive or pending. Params: $day, $area.
with source as (
    select * from testing_daily where day = $day and starts_with(area_code, $area)
),
totals as (
    select
        coalesce(sum(samples), 0) as samples,
        coalesce(sum(positives), 0) as positives,
        coalesce(sum(pending), 0) as pending,
    from source
)
select * from totals
