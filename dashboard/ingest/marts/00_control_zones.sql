-- One row per ledger day and zone in force in the ledger as of that day: every sender's newest part dated that day or earlier (schema.sql: governed_ledger), a zone sent twice once, from the newest file. Reads: loaded_files, control_zones_parts.
create or replace table control_zones as
with once as (
    select * from governed_ledger('control_zones', 'control_zones_parts')
    qualify max(file_id) over (partition by export_day, zone_id) = file_id
)
select * exclude (file_id) from once;
