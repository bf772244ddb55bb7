-- One row per boundary polygon (the district, its streets and communities) as GeoJSON text in GCJ-02. Params: none. Area: all.
with source as (
    select * from boundaries
),
renamed as (
    select area_code, name, level, parent_code, geometry,
    from source
),
ordered as (
    select * from renamed
    order by list_position(['district', 'street', 'community'], level), area_code
)
select * from ordered
