-- One row per calendar day from the first to the last export day. Reads: loaded_files.
create or replace table calendar as
with bounds as (
    select min(day) as first_day, max(day) as last_day from loaded_files where day is not null
)
select unnest(generate_series(first_day, last_day, interval 1 day))::date as day
from bounds
where first_day is not null;
