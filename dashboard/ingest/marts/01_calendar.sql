-- One row per calendar day from the first to the last export day. Reads: loaded_files.
create or replace table calendar as
with bounds as (
    select min(day) as first_day, max(day) as last_day from loaded_files where day is not null
)
select unnest(generate_series(first_day, last_day, interval 1 day))::date as day
from bounds
where first_day is not null;

-- The calendar days of the trend window up to a day (schema.sql: in_trend_window), for the
-- queries' 14-day trends. Made here, since a table macro needs its table to exist.
create or replace macro trend_days(up_to) as table
    select day from calendar where in_trend_window(day, up_to);
