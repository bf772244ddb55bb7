-- One row per ledger day and case in the ledger as of that day: every sender's newest part dated that day or earlier (schema.sql: governed_ledger), a case sent twice once, from the newest file. Reads: loaded_files, isolation_parts.
create or replace table isolation as
with once as (
    select * from governed_ledger('isolation', 'isolation_parts')
    qualify max(file_id) over (partition by export_day, case_key, kind, started_on) = file_id
)
select * exclude (file_id) from once;
