-- No zone counts as active on a day on or after its lifted_on, or before it started.
select * from zones_daily
where (lifted_on is not null and lifted_on <= day) or started_on > day
