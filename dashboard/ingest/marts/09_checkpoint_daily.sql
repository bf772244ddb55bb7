-- One row per day and checkpoint: vehicles and people checked, turned back, fever found. Reads: checkpoint_log.
create or replace table checkpoint_daily as
select period_start::date as day, site_id,
    sum(vehicles_checked) as vehicles_checked,
    sum(people_checked) as people_checked,
    sum(turned_back) as turned_back,
    sum(fever_found) as fever_found,
from checkpoint_log
group by all;
