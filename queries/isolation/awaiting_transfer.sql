-- One row per person in the area awaiting transfer at the end of the day: a short pseudonymous code (never the key), community, first positive sample and hours waiting. Params: $day, $area. Roles: leader, admin.
with source as (
    select * from transfer_waiting where day = $day and starts_with(area_code, $area)
),
renamed as (
    -- Eight hex characters of the HMAC tell the people on one list apart and lead back to nobody.
    select left(person_key::varchar, 8) as person_code, area_code, sampled_at, hours_waiting,
    from source
),
named as (
    select renamed.*, areas.name as community,
    from renamed
    left join areas using (area_code)
),
ordered as (
    select person_code, community, area_code, sampled_at, hours_waiting,
    from named
    order by hours_waiting desc, person_code
)
select * from ordered
