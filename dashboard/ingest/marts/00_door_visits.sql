-- One row per export day and door-visit row: every sender's file of the day added up. Reads: door_visits_parts.
create or replace table door_visits as
select * exclude (sender, part_scope, file_id) from door_visits_parts;
