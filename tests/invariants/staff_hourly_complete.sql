-- Every staffed post has exactly 24 hourly rows per calendar day, and none is negative.
select day, site_id, count(*) as hours, min(on_duty) as least
from staff_hourly
group by all
having count(*) <> 24 or min(on_duty) < 0
