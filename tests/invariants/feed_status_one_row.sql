-- Exactly one feed_status row per calendar day and export kind (six kinds).
select day, count(*) as kinds from feed_status group by all having count(*) <> 6
