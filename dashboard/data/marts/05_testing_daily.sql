-- One row per sampling day, community, site and round: samples, positives, pending. Reads: testing_records.
create or replace table testing_daily as
select
    sampled_at::date as day, area_code, site_id, round,
    count(*) as samples,
    count(*) filter (where result = 'positive') as positives,
    count(*) filter (where result = 'pending') as pending,
from testing_records
group by all;
