-- One row per sampling round > 0 with samples on or before the day, newest first. Params: $day. Area: all.
with source as (
    select * from testing_daily where round > 0 and day <= $day
),
summarised as (
    select round, min(day) as started_on, max(day) as last_day, sum(samples) as samples,
    from source
    group by all
),
ordered as (
    select * from summarised order by round desc
)
select * from ordered
