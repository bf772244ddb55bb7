-- One row per sampling day, site and hour: samples. Reads: testing_hourly_parts.
create or replace table testing_hourly as
select day, site_id, hour, sum(samples)::bigint as samples,
from testing_hourly_parts
group by all;
