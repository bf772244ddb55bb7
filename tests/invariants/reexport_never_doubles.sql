-- Each (kind, day) is served by exactly one file, and no sample_id appears twice.
select kind, day, count(*) as files from loaded_files group by all having count(*) > 1
union all
select 'testing_records', null, count(*) from testing_records group by sample_id having count(*) > 1
