-- One row per sampling day, site and hour: samples. Reads: testing_records.
create or replace table testing_hourly as
select sampled_at::date as day, site_id, hour(sampled_at) as hour, count(*) as samples,
from testing_records
group by all;
