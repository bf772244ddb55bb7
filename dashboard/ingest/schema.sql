-- Staging tables: one per file kind, columns in contract order, renamed and cast, nothing more.
-- Export tables (<kind>_parts) carry export_day, the folder the row came from, and the sender whose
-- file it was (senders.py), so a re-send replaces that sender's rows of the day and nobody else's.
-- The tables the marts and queries read (isolation, shifts, ...) are composed from them by the
-- marts/00_*.sql: a ledger as of each day from every sender's newest part, each row once.
create table if not exists meta (
    key varchar primary key,
    value varchar,
);

-- The export kinds of the contract, in the order pages list them; written by every ingest
-- from dashboard/ingest/contract.py, so SQL never spells the list out.
create table if not exists feeds (
    kind varchar primary key,
    position integer not null,
    optional boolean not null,
);

create table if not exists ingest_log (
    file_id bigint,
    file varchar,
    sha256 varchar,
    kind varchar,
    day date,
    encoding varchar,
    rows_read bigint,
    rows_loaded bigint,
    rows_rejected bigint,
    rows_skipped bigint,
    status varchar,       -- loaded | failed | removed | ...
    message varchar,
    ingested_at timestamp,
    sender varchar,       -- senders.Sender.key; null for reference files
    sheet varchar,        -- the workbook sheet read; null for CSV
);

-- The file currently serving each (kind, day, sender); reference files have day null.
create table if not exists loaded_files (
    kind varchar,
    day date,
    file varchar,
    sha256 varchar,
    file_id bigint,
    sender varchar,       -- senders.Sender.key: stable from day to day
    sender_name varchar,  -- as people say it: the area's name or the file name's sender part
    scope varchar,        -- a ledger part's area code ('' = the whole district)
    sheet varchar,
    received_at timestamp, -- the file's modification time: when it arrived
);

-- The sha256 of each file the newest ingest read, with the file's stat when it was hashed
-- (hashes.py): the next ingest does not read a file again whose stat is the same.
create table if not exists file_hashes (
    path varchar primary key,
    device ubigint,
    inode ubigint,
    size ubigint,
    mtime_ns bigint,
    ctime_ns bigint,
    sha256 varchar,
);

-- The first parse.STORED_REJECTS (1,000) rejects of each file, by line; ingest_log.rows_rejected
-- counts all of them.
create table if not exists rejects (
    file_id bigint,
    file varchar,
    kind varchar,
    day date,
    line bigint,
    "column" varchar,
    reason varchar,
    value varchar,        -- ID numbers masked
    sheet varchar,        -- a workbook's sheet (line is then its row); null for CSV
);

create table if not exists areas (
    area_code varchar,
    name varchar,
    level varchar,
    parent_code varchar,
    population bigint,
    households bigint,
    lat double,
    lon double,
);

create table if not exists sites (
    site_id varchar,
    name varchar,
    kind varchar,
    area_code varchar,
    lat double,
    lon double,
    capacity bigint,
    min_staff bigint,
);

create table if not exists boundaries (
    area_code varchar,
    name varchar,
    level varchar,
    parent_code varchar,
    geometry varchar,     -- GeoJSON geometry, GCJ-02
);

create table if not exists control_zones_parts (
    export_day date,
    sender varchar,
    part_scope varchar,   -- the sender's area ('' = the whole district): see loaded_files.scope
    file_id bigint,
    zone_id varchar,
    area_code varchar,
    name varchar,
    level varchar,
    scope varchar,
    started_on date,
    lifted_on date,
    population bigint,
    lat double,
    lon double,
);

-- Per-person testing rows are no table here: each sender's good rows of a day are a Parquet file
-- under <db>.parts/ (partitions.py), named below, with the small aggregates the marts sum.
create table if not exists partitions (
    kind varchar,
    day date,
    file varchar,         -- relative to <db>.parts/
    sender varchar,
    file_id bigint,
    rows bigint,          -- the file's rows, checked against its footer before every ingest
    sha256 varchar,       -- the file's bytes, checked before an ingest reads its rows
);

create table if not exists testing_daily_parts (
    export_day date,
    day date,
    area_code varchar,
    site_id varchar,
    round integer,
    samples bigint,
    positives bigint,
    pending bigint,
);

create table if not exists testing_hourly_parts (
    export_day date,
    day date,
    site_id varchar,
    hour bigint,
    samples bigint,
);

create table if not exists testing_positives (
    export_day date,
    person_key uuid,      -- the first 128 bits of the ID number's HMAC-SHA256, never the number
    area_code varchar,
    sampled_at timestamp,
);

-- Persons sampled for the first time in a round, per community and day: exact, recounted
-- for the rounds a changed day touches.
create table if not exists round_firsts (
    round integer,
    area_code varchar,
    first_day date,
    persons bigint,
);

create table if not exists isolation_parts (
    export_day date,
    sender varchar,
    part_scope varchar,   -- the sender's area ('' = the whole district): see loaded_files.scope
    file_id bigint,
    case_key uuid,        -- the first 128 bits of the ID number's HMAC-SHA256, never the number
    area_code varchar,
    kind varchar,
    site_id varchar,
    started_on date,
    planned_end_on date,
    ended_on date,
    reason varchar,
);

create table if not exists shifts_parts (
    export_day date,
    sender varchar,
    part_scope varchar,   -- the sender's area ('' = the whole district): see loaded_files.scope
    file_id bigint,
    shift_id varchar,
    staff_id varchar,
    staff_name varchar,
    unit varchar,
    role varchar,
    site_id varchar,
    team_id varchar,
    starts_at timestamp,
    ends_at timestamp,
    status varchar,
);

create table if not exists checkpoint_log_parts (
    export_day date,
    sender varchar,
    part_scope varchar,   -- the sender's area ('' = the whole district): see loaded_files.scope
    file_id bigint,
    site_id varchar,
    period_start timestamp,
    period_end timestamp,
    vehicles_checked bigint,
    people_checked bigint,
    turned_back bigint,
    fever_found bigint,
);

create table if not exists door_visits_parts (
    export_day date,
    sender varchar,
    part_scope varchar,   -- the sender's area ('' = the whole district): see loaded_files.scope
    file_id bigint,
    team_id varchar,
    area_code varchar,
    visited_on date,
    households_visited bigint,
    people_checked bigint,
    fever_found bigint,
);

-- The on-duty rule, in one place for the staff_hourly mart and the staff/on_duty_at query:
-- a shift counts from its start up to, not including, its end, unless the person was absent.
create or replace macro on_duty_at(starts_at, ends_at, status, instant) as
    starts_at <= instant and instant < ends_at and status <> 'absent';

-- In force on a day: started by then and not yet ended. The one rule for a zone (ended_on is its
-- lifted_on) and an isolation case, in the marts, the queries and the vintages' figures alike.
create or replace macro in_force_on(started_on, ended_on, day) as
    started_on <= day and (ended_on is null or ended_on > day);

-- The parts of a ledger current on each of its days (issue 18, senders.py): per scope (an area code,
-- '' for the whole district), the newest part dated that day or earlier. A header-only part counts:
-- it says nothing is active in its area. From loaded_files, so such a part needs no row.
create or replace macro current_parts(ledger) as table
with arrived as (
    select day as part_day, scope, sender, sender_name, file_id, from loaded_files where kind = ledger
),
days as (
    select distinct part_day as day from arrived
),
newest as (
    select days.day, arrived.scope, max(arrived.part_day) as part_day,
    from days
    join arrived on arrived.part_day <= days.day
    group by all
)
select newest.day, newest.scope, newest.part_day, arrived.sender, arrived.sender_name, arrived.file_id,
from newest
join arrived using (scope, part_day);

-- A ledger as of each of its days (issue 18): the rows of its current parts, each area's from one
-- scope: of the current parts whose area holds it, the newest, and between parts of one day the
-- narrower (a street's own ledger before the district's). file_id says which file a row came from.
create or replace macro governed_ledger(ledger, parts_table) as table
with parts as (
    select * from current_parts(ledger)
),
part_rows as (
    select parts.day as export_day, parts.part_day, parts.scope as part_scope,
        sent.* exclude (export_day, sender, part_scope),
    from parts
    join query_table(parts_table) as sent using (file_id)
),
areas as (
    select distinct export_day, area_code, from part_rows
),
governing as (
    select areas.export_day, areas.area_code,
        arg_max(parts.scope, struct_pack(d := parts.part_day, n := length(parts.scope))) as part_scope,
    from areas
    join parts on parts.day = areas.export_day and starts_with(areas.area_code, parts.scope)
    group by all
)
select part_rows.* exclude (part_day, part_scope),
from part_rows
join governing using (export_day, area_code, part_scope);

-- The trend window: the 14 days up to and including a day, for every 14-day figure and trend
-- (its calendar days: trend_days, made with the calendar mart).
-- The area a file's sender covers (senders.py): a street's or community's code for its ledger and
-- for its clerk's uploads (sender keys 'area:<code>' and 'area:<code>:<name>'), '' for a file of
-- the whole district. What a street's people may see of the files (issue 19):
-- file_in_area: the file is of the area, so its rows, rejects and figures are the area's;
-- file_covers_area: it is of the area or wider, so they see that it arrived (a wider file's
-- figures are other areas' too, and stay with the district).
create or replace macro sender_scope(sender) as coalesce(regexp_extract(sender, '^area:([0-9]+)', 1), '');
create or replace macro file_in_area(sender, area) as starts_with(sender_scope(sender), area);
create or replace macro file_covers_area(sender, area) as
    file_in_area(sender, area) or starts_with(area, sender_scope(sender));

create or replace macro trend_window_start(up_to) as up_to - interval 13 day;
create or replace macro in_trend_window(d, up_to) as d between trend_window_start(up_to) and up_to;

-- What each re-export replaced (issue 12, vintages): the figures of the superseded file and of
-- its replacement, never its rows. before/after are JSON text: {"rows": n, <figure>: value, ...}.
create table if not exists corrections (
    kind varchar,
    day date,
    ingested_at timestamp,
    before varchar,
    after varchar,
    sender varchar,       -- whose file was re-sent: its figures are that file's alone
);

-- reference/reporting.csv (optional): who must send what, by when (contract.REPORTING).
create table if not exists reporting (
    kind varchar,
    sender varchar,
    area_code varchar,
    due varchar,          -- HH:MM on the export day, or null
);

-- Re-exports held back (issue 16, vintages.hold_reason): far fewer rows than the file serving their
-- day, which keeps serving. Rewritten by every ingest: a row lasts while its file is still there.
create table if not exists held_files (
    kind varchar,
    day date,
    file varchar,
    sha256 varchar,
    rows_read bigint,
    rows_loaded bigint,
    serving_rows_read bigint,
    serving_rows_loaded bigint,
    held_at timestamp,
);

-- Files the operator accepted with `python -m dashboard ingest --accept`, by sha256: that exact
-- file is applied however few rows it has; a later, different file is checked again.
create table if not exists accepted_files (
    kind varchar,
    day date,
    file varchar,
    sha256 varchar,
    accepted_at timestamp,
);
