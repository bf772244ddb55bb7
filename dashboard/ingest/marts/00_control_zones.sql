-- One row per ledger day and zone in force in the ledger as of that day: every sender's newest part dated that day or earlier, each zone once. Reads: loaded_files, control_zones_parts.
create or replace table control_zones as
with parts as (
    select * from current_parts('control_zones')
),
part_rows as (
    select parts.day as export_day, parts.part_day, parts.scope as part_scope, zones.* exclude (export_day, sender, part_scope),
    from parts
    join control_zones_parts as zones using (file_id)
),
-- Each area's rows come from one scope: of the current parts whose area holds it, the newest,
-- and between parts of one day the narrower (a street's own ledger before the district's).
areas as (
    select distinct export_day, area_code, from part_rows
),
governing as (
    select areas.export_day, areas.area_code,
        arg_max(parts.scope, struct_pack(d := parts.part_day, n := length(parts.scope))) as part_scope,
    from areas
    join parts on parts.day = areas.export_day and starts_with(areas.area_code, parts.scope)
    group by all
),
governed as (
    select part_rows.* from part_rows join governing using (export_day, area_code, part_scope)
),
once as (
    select * from governed
    qualify max(file_id) over (partition by export_day, zone_id) = file_id
)
select * exclude (part_day, part_scope, file_id) from once;
