-- One row per street and community with its population and label point (GCJ-02). Params: none. Area: all.
with source as (
    select * from areas
),
renamed as (
    select area_code, name, level, parent_code, population, households, lat, lon,
    from source
    where level in ('street', 'community')
),
ordered as (
    select * from renamed
    order by area_code
)
select * from ordered
