-- No community has sampled more distinct persons in a round than it has residents.
select rc.day, rc.round, rc.area_code, rc.persons_sampled, areas.population
from round_coverage as rc
join areas using (area_code)
where areas.level = 'community' and rc.persons_sampled > areas.population
