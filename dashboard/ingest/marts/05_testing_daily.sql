-- One row per sampling day, community, site and round: samples, positives, pending. Reads: testing_daily_parts.
-- Summed from each export day's aggregates: a new day never rereads the per-person rows of others.
create or replace table testing_daily as
select
    day, area_code, site_id, round,
    sum(samples)::bigint as samples,
    sum(positives)::bigint as positives,
    sum(pending)::bigint as pending,
from testing_daily_parts
group by all;
