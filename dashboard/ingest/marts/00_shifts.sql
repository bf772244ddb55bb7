-- One row per export day and shift: every sender's file of the day, a shift sent twice once (from the newest file). Reads: shifts_parts.
create or replace table shifts as
with once as (
    select * from shifts_parts
    qualify max(file_id) over (partition by export_day, shift_id) = file_id
)
select * exclude (sender, part_scope, file_id) from once;
