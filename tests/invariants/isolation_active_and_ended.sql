-- No isolation case is both active and ended on the same day: active counts only open cases.
with snapshot_for_day as (
    select isolation_daily.day, isolation_daily.snapshot_day from isolation_daily group by all
),
cases as (
    select s.day, i.*
    from snapshot_for_day as s
    join isolation as i on i.export_day = s.snapshot_day
),
ended_yet_counted as (
    select day, count(*) filter (where ended_on is not null and ended_on <= day) as ended,
        count(*) filter (where started_on <= day) as started,
    from cases group by all
),
active as (
    select day, sum(active) as active from isolation_daily group by all
)
select * from active join ended_yet_counted using (day)
where active <> started - ended
