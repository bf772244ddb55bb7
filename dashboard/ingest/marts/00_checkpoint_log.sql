-- One row per export day and checkpoint period row: every sender's file of the day added up. Reads: checkpoint_log_parts.
create or replace table checkpoint_log as
select * exclude (sender, part_scope, file_id) from checkpoint_log_parts;
