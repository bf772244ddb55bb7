"""The one message catalog: every visible word of the dashboard, in Chinese and English.

Pages and builders ask `t(key, lang)` and never write a visible literal themselves, so a
missing translation is a KeyError in the tests rather than a half-English screen.
Numbers get thousands separators in both languages; dates follow the language's habit
(2022年1月6日 / 6 Jan 2022).
"""

from __future__ import annotations

import math
import re
import string
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from dashboard import codes

if TYPE_CHECKING:
    import pandas as pd

LANGS = ("zh", "en")
DEFAULT_LANG = "zh"
LANG_NAMES = {"zh": "中文", "en": "English"}

CATALOG: dict[str, tuple[str, str]] = {
    # App and navigation
    "app.title": ("二七区疫情防控态势", "Erqi District Epidemic Control"),
    "app.subtitle": ("二七区疫情防控指挥部", "Erqi district epidemic-control command center"),
    "app.retrying": ("暂时无法更新，正在重试", "Cannot update just now: retrying"),
    "app.retrying.last_good": ("上次成功更新：{at}", "Last good update: {at}"),
    "app.retrying.never": ("本屏幕尚未成功更新过", "This screen has not updated yet"),
    "app.retrying.next": ("下次重试 {at}", "next try {at}"),
    "app.no_days": ("快照中没有任何导出日的数据，请先运行 python -m dashboard ingest",
                    "The snapshot holds no export day yet: run python -m dashboard ingest first"),
    "app.preparing": ("首次运行：正在准备演示数据……", "First run: preparing the demo data..."),
    # A replica of configured data with no snapshot yet (issue 16): only the ingest makes one.
    "app.waiting_first_ingest": ("等待首次数据导入：数据导入（python -m dashboard ingest）完成后，页面自动显示数据",
                                 "Waiting for the first ingest: the page shows the data by itself once the ingest"
                                 " (python -m dashboard ingest) has run"),
    "app.waiting_first_ingest.failed": ("上次导入未成功：{message}", "The last ingest attempt failed: {message}"),
    "page.overview": ("总览", "Overview"),
    "page.zones": ("封控管控", "Sealed areas"),
    "page.testing": ("核酸检测", "Testing"),
    "page.isolation": ("隔离管控", "Isolation"),
    "page.staff": ("人员排班", "Staff & shifts"),
    "page.health": ("数据状态", "Data health"),
    # Sidebar
    "sidebar.language": ("语言 / Language", "语言 / Language"),
    "sidebar.day": ("数据日期", "As-of day"),
    "sidebar.day.help": ("按每日导出的数据选择日期，默认最新一天", "Pick a day of the daily exports; the newest is the default"),
    "sidebar.street": ("街道", "Street"),
    "sidebar.community": ("社区", "Community"),
    "sidebar.area.help": ("选择街道或社区以下钻；点击地图上的社区也可选择", "Drill down to a street or community; clicking a community on the map does the same"),
    "sidebar.whole_district": ("全区", "Whole district"),
    "sidebar.all_communities": ("全部社区", "All communities"),
    "sidebar.layers": ("地图图层", "Map layers"),
    "sidebar.layers.help": ("所选图层记录在网址中，复制网址即可分享当前视图", "The layers are kept in the URL: a copied link reproduces this view"),
    "sidebar.now": ("在岗统计时点：{at}", "Staff counted at {at}"),
    "sidebar.share": ("选中框内链接并复制，即可分享当前视图", "Select the link in the box and copy it to share this exact view"),
    "sidebar.link": ("本视图链接", "Link to this view"),
    "phone.charts": ("显示地图和图表", "Show maps and charts"),
    "phone.charts.help": ("手机上先显示指标卡和需要关注的事项；地图和图表约 2 MB，打开后本次访问的各页都会显示",
                          "On a phone the cards and the attention list come first; the maps and charts (about 2 MB) load once this is on, on every page of this visit"),
    "phone.chart_hidden": ("地图或图表未加载：打开页首的“显示地图和图表”", "Not loaded: switch on “Show maps and charts” at the top"),
    "sidebar.bad_param": ("网址参数 {name}={value} 无效，已忽略", "URL parameter {name}={value} is not valid and was ignored"),
    "layer.coverage": ("核酸覆盖率", "Testing coverage"),
    "layer.zones": ("封控管控区域", "Control zones"),
    "layer.isolation": ("隔离人数（圆点）", "Isolation (circles)"),
    "layer.isolation_3d": ("隔离人数（立体柱）", "Isolation (3D columns)"),
    "layer.posts": ("点位在岗", "Posts on duty"),
    "layer.labels": ("地名标注", "Place names"),
    # Feeds and staleness
    "feed.control_zones": ("封控管控台账", "Control-zone ledger"),
    "feed.testing_records": ("核酸采样", "Testing records"),
    "feed.isolation": ("隔离台账", "Isolation ledger"),
    "feed.shifts": ("排班", "Shifts"),
    "feed.checkpoint_log": ("卡点查验", "Checkpoint log"),
    "feed.door_visits": ("入户走访", "Door-to-door visits"),
    "feed.fresh": ("{feed} {day} 导出（{ingested} 入库）", "{feed}: export of {day} (ingested {ingested})"),
    "feed.stale": ("{feed}：{day} 无导出，显示 {latest} 的数据", "{feed}: no export for {day}; showing data of {latest}"),
    "feed.missing": ("{feed}：截至 {day} 无任何导出", "{feed}: no export on or before {day}"),
    "feed.optional_missing": ("{feed}：未导出（可选）", "{feed}: not exported (optional)"),
    "feed.as_of": ("数据截至", "Data as of"),
    # Wall screens, login and sharing
    "banner.stale": ("{feed}：最新导出为 {day}，已超过 {hours} 小时未更新，显示的是最后一份数据",
                     "{feed}: newest export is {day}, more than {hours} h old; showing the last data received"),
    "banner.stale_wall": ("已超过 {hours} 小时未更新，显示的是最后一份数据：{feeds}",
                          "More than {hours} h without new data, showing the last received: {feeds}"),
    "banner.stale_wall_group": ("{feeds}（最新 {day}）", "{feeds} (newest {day})"),
    "list.sep": ("、", ", "),
    "banner.ingest_failed": ("最近一次数据导入失败（{at}）：{message}", "The last ingest failed ({at}): {message}"),
    "sidebar.copy_link": ("复制本视图链接", "Copy link to this view"),
    "sidebar.no_login": ("未配置登录：仅本机 127.0.0.1 可访问", "No login configured: reachable from this machine only"),
    "sidebar.user": ("当前用户：{name}（{role}）", "Signed in: {name} ({role})"),
    "sidebar.logout": ("退出登录", "Log out"),
    "role.screen": ("大屏", "screen"),
    "role.leader": ("领导", "leader"),
    "role.admin": ("管理员", "admin"),
    "role.clerk": ("数据员", "data clerk"),
    "app.own_area": ("查看本辖区", "Open my own area"),
    "sidebar.user.area": ("当前用户：{name}（{role}，{area}）", "Signed in: {name} ({role}, {area})"),
    "health.admin_only": ("拒收明细与导入日志仅管理员可见", "Rejects and the ingest log are shown to admins only"),
    "overview.fatigue_hidden": ("疲劳预警含人员姓名，仅领导与管理员可见", "Fatigue alerts name staff and are shown to leaders and admins only"),
    "no_data": ("无数据", "no data"),
    # KPIs
    "kpi.zones_sealed": ("封控区", "Sealed zones"),
    "kpi.zones_controlled": ("管控区", "Controlled zones"),
    "kpi.zones_precaution": ("防范区", "Precaution zones"),
    "kpi.population_sealed": ("封控区人口", "Sealed population"),
    "kpi.samples": ("当日采样", "Samples today"),
    "kpi.positives": ("当日阳性", "Positives today"),
    "kpi.samples_on": ("{day}采样", "Samples on {day}"),
    "kpi.positives_on": ("{day}阳性", "Positives on {day}"),
    "kpi.pending_on": ("{day}待出结果", "Pending on {day}"),
    "kpi.staff_on_duty_on": ("{day}在岗 / 应到", "On duty / required, {day}"),
    "kpi.posts_understaffed_on": ("{day}在岗不足点位", "Understaffed posts, {day}"),
    "kpi.on_duty_on": ("{day}在岗", "On duty, {day}"),
    "kpi.min_staff_on": ("{day}最少在岗", "Minimum, {day}"),
    "kpi.pending": ("待出结果", "Pending"),
    "kpi.on_duty": ("在岗", "On duty"),
    "kpi.min_staff": ("最少在岗", "Minimum"),
    "kpi.round_coverage": ("第 {round} 轮覆盖率", "Round {round} coverage"),
    "kpi.round_coverage_none": ("本轮覆盖率", "Round coverage"),
    "kpi.isolation_home": ("居家隔离", "Home isolation"),
    "kpi.isolation_home_monitoring": ("居家健康监测", "Home monitoring"),
    "kpi.isolation_centralized": ("集中隔离", "Centralized isolation"),
    "kpi.releases_due": ("明日到期解除", "Releases due tomorrow"),
    "kpi.hotel_occupancy": ("隔离酒店入住率", "Hotel occupancy"),
    "kpi.staff_on_duty": ("在岗人数 / 应到", "On duty / required"),
    "kpi.posts_understaffed": ("在岗不足点位", "Understaffed posts"),
    "kpi.help.zones": ("当日结束时生效的区域数，来自封控管控台账", "Zones in force at the end of the day, from the control-zone ledger"),
    "kpi.help.population_sealed": ("生效封控区涉及人口", "Residents of the sealed zones in force"),
    "kpi.help.samples": ("当日采样人次（含单采、复采）", "Test records sampled on the day (repeat samples included)"),
    "kpi.help.positives": ("当日采样中检测结果为阳性的人次", "Samples of the day that came back positive"),
    "kpi.help.coverage": ("本轮已采样人数 ÷ 常住人口（每人只计一次）", "Persons sampled in the round ÷ resident population (each person once)"),
    "kpi.help.isolation": ("当日结束时在隔离中的人数", "People in isolation at the end of the day"),
    "kpi.help.releases": ("计划明日解除隔离的人数", "People whose isolation is planned to end tomorrow"),
    "kpi.help.hotel": ("集中隔离人数 ÷ 隔离酒店房间数", "Centralized cases ÷ isolation-hotel rooms"),
    "kpi.help.staff": ("统计时点在岗人数（不含缺岗）对比各点位最少在岗人数之和", "Staff on duty at the instant (absent excluded) against the sum of the posts' minimum staffing"),
    "kpi.help.understaffed": ("统计时点在岗人数低于最少在岗人数的点位", "Posts with fewer staff on duty at the instant than their minimum"),
    "kpi.delta_help": ("与前一导出日 {day} 相比", "Compared with the previous export day, {day}"),
    # Overview
    "overview.map": ("态势地图", "Situation map"),
    "overview.attention": ("需要关注", "Needs attention now"),
    "overview.attention.none": ("当前没有需要关注的事项", "Nothing needs attention right now"),
    "overview.trends": ("近 14 天趋势", "14-day trends"),
    "overview.replay.day": ("回放日期", "Replay day"),
    "overview.replay.play": ("▶ 播放", "▶ Play"),
    "overview.replay.help": ("逐日播放各导出日的地图", "Step the map through every export day"),
    "overview.replay.caption": ("地图日期：{day}", "Map day: {day}"),
    # The day's briefing (report --format md, and the overview's download)
    "brief.title": ("二七区疫情防控日报（截至 {day}）", "Erqi district epidemic-control briefing, as of {day}"),
    "brief.title_area": ("二七区{area}疫情防控日报（截至 {day}）", "{area}, Erqi district: epidemic-control briefing, as of {day}"),
    "brief.scope": ("范围：{area}；人员在岗统计时点：{at}", "Area: {area}. Staff counted at {at}."),
    "brief.zones": ("{level}：{n} 个", "{level} zones: {n}"),
    "brief.population_sealed": ("封控区涉及人口：{n} 人", "Residents of sealed zones: {n}"),
    "brief.samples": ("当日采样：{samples} 人次，阳性 {positives} 例", "Samples today: {samples}, positives: {positives}"),
    "brief.round": ("当前轮次：第 {round} 轮，覆盖率 {coverage}", "Current round: {round}, coverage {coverage}"),
    "brief.isolation": ("{kind}：{n} 人", "{kind}: {n}"),
    "brief.releases_due": ("明日到期解除：{n} 人", "Releases due tomorrow: {n}"),
    "brief.hotel_occupancy": ("隔离酒店入住率：{share}", "Isolation-hotel occupancy: {share}"),
    "brief.on_duty": ("在岗人数：{n} 人", "Staff on duty: {n}"),
    "brief.understaffed": ("在岗不足的点位：{n} 个", "Understaffed posts: {n}"),
    "brief.feed": ("{feed}：{state}", "{feed}: {state}"),
    "brief.feed_stale": ("未更新，最新为 {day}", "not updated, newest is {day}"),
    "brief.feed_fresh": ("已更新", "up to date"),
    "overview.briefing": ("下载当日简报", "Day's briefing"),
    "overview.briefing.help": ("所选区域、所选语言的日报，数字与命令行 report 一致", "The briefing for the chosen area in the chosen language, the same figures as the report command"),
    "attention.coverage": ("{name}：第 {round} 轮覆盖率 {coverage}，低于目标 {target}", "{name}: round {round} coverage {coverage}, below the {target} target"),
    "attention.lift_review": ("{name}（{community}）：已连续 {days} 天无阳性，应于 {review} 评估解封", "{name} ({community}): {days} days without a positive; lift review due {review}"),
    "attention.understaffed_now": ("{name}：现在在岗 {on_duty} 人，少于最少 {min_staff} 人", "{name}: {on_duty} on duty now, fewer than the minimum {min_staff}"),
    "attention.understaffed_soon": ("{name}：{at} 起在岗将少于 {min_staff} 人", "{name}: below the minimum {min_staff} from {at}"),
    "attention.fatigue_24h": ("{count} 人近 24 小时在岗超过 {hours} 小时", "{count} staff on duty over {hours} h in the last 24 h"),
    "attention.fatigue_7d": ("{count} 人近 7 天在岗超过 {hours} 小时", "{count} staff on duty over {hours} h in the last 7 days"),
    "attention.fatigue_days": ("{count} 人已连续 {days} 天在岗", "{count} staff on duty {days} days in a row"),
    "attention.kind.coverage": ("覆盖率不足", "Coverage below target"),
    "attention.kind.lift_review": ("待评估解封", "Lift review due"),
    "attention.kind.hotel_full": ("酒店将满", "Hotel nearly full"),
    "attention.kind.fatigue": ("疲劳风险", "Fatigue"),
    "trend.positives": ("每日阳性", "Positives per day"),
    "trend.samples": ("每日采样", "Samples per day"),
    "trend.isolation": ("在隔离人数（按方式）", "Active isolation by kind"),
    "trend.zones": ("生效区域数（按级别）", "Active zones by level"),
    # Zones page
    "zones.table": ("生效区域", "Zones in force"),
    "zones.map": ("区域分布", "Where the zones are"),
    "zones.timeline": ("区域时间线", "Zone timeline"),
    "zones.empty": ("所选范围在 {day} 没有生效的封控管控区域", "No control zone is in force in the selected area on {day}"),
    "zones.timeline.empty": ("所选范围在 {day} 前 14 天内没有生效过的区域", "No zone was in force in the selected area in the 14 days up to {day}"),
    "zones.no_ledger": ("截至 {day} 没有封控管控台账导出", "No control-zone ledger exported on or before {day}"),
    "col.zone": ("区域", "Zone"),
    "col.community": ("社区", "Community"),
    "col.level": ("级别", "Level"),
    "col.scope": ("范围", "Scope"),
    "col.started_on": ("开始日期", "Started"),
    "col.days_in_force": ("已实施天数", "Days in force"),
    "col.population": ("人口", "Population"),
    "col.positives_7d": ("近 7 天社区阳性", "Positives in community, 7 days"),
    "col.lift_review_on": ("解封评估日期", "Lift review"),
    "col.due_for_review": ("已到评估期", "Review due"),
    "col.ongoing": ("持续中", "ongoing"),
    # Testing page
    "testing.round": ("轮次", "Round"),
    "testing.round.option": ("第 {round} 轮（{started} 起）", "Round {round} (from {started})"),
    "testing.no_round": ("截至 {day} 还没有开始任何核酸轮次", "No testing round has begun by {day}"),
    "testing.coverage_map": ("覆盖率地图", "Coverage map"),
    "testing.lowest": ("覆盖率最低的社区", "Lowest-coverage communities"),
    "testing.by_hour": ("各点位分时段采样量", "Samples by hour by site"),
    "testing.by_hour.empty": ("{day} 所选范围内的点位没有采样记录", "No samples at sites in the selected area on {day}"),
    "testing.positives": ("各社区阳性", "Positives by community"),
    "testing.positives.empty": ("{day} 所选范围内没有阳性", "No positive sample in the selected area on {day}"),
    "testing.mobile": ("流动", "mobile"),
    "col.coverage": ("覆盖率", "Coverage"),
    "col.persons_sampled": ("已采样人数", "Persons sampled"),
    "col.samples": ("采样人次", "Samples"),
    "col.site": ("点位", "Site"),
    "col.site_kind": ("点位类型", "Site kind"),
    # Isolation page
    "isolation.by_community": ("各社区在隔离人数", "Active isolation per community"),
    "isolation.map": ("隔离分布", "Where isolation is"),
    "isolation.hotels": ("隔离酒店入住", "Isolation hotels: occupancy"),
    "isolation.hotels.empty": ("所选范围内没有隔离酒店", "No isolation hotel in the selected area"),
    "isolation.flow": ("每日新增与解除", "Daily inflow and outflow"),
    "isolation.releases": ("明日到期解除（按社区）", "Releases due tomorrow, per community"),
    "isolation.releases.empty": ("所选范围明日没有到期解除的隔离", "No isolation in the selected area is due to end tomorrow"),
    "isolation.no_ledger": ("截至 {day} 没有隔离台账导出", "No isolation ledger exported on or before {day}"),
    "col.active": ("在隔离", "Active"),
    "col.releases_due": ("明日解除", "Due tomorrow"),
    "col.started": ("新增", "Started"),
    "col.ended": ("解除", "Ended"),
    "col.occupied": ("已入住", "Occupied"),
    "col.free": ("空余", "Free"),
    # Staff page
    "staff.on_duty": ("各点位当前在岗", "On duty now, per post"),
    "staff.on_duty.caption": ("统计时点：{at}", "Counted at {at}"),
    "staff.map": ("点位在岗地图", "Posts on the map"),
    "staff.heatmap": ("24 小时在岗覆盖（红色为低于最少在岗人数）", "24-hour coverage (red: below minimum staffing)"),
    "staff.heatmap.empty": ("{day} 所选范围内没有需要排班的点位", "No staffed post in the selected area on {day}"),
    "staff.roster": ("当日排班表", "Roster for the day"),
    "staff.roster.empty": ("{day} 所选范围内没有排班", "No shift in the selected area on {day}"),
    "staff.fatigue": ("疲劳风险名单", "Fatigue list"),
    "staff.fatigue.caption": ("近 24 小时超过 {h24} 小时、近 7 天超过 {h7} 小时或连续 {days} 天在岗",
                              "Over {h24} h in the last 24 h, over {h7} h in 7 days, or {days} days in a row"),
    "staff.fatigue.empty": ("没有人员超过疲劳阈值", "Nobody is over a fatigue threshold"),
    "staff.checkpoints": ("卡点查验量", "Checkpoint throughput"),
    "staff.checkpoints.empty": ("所选范围近 14 天没有卡点查验记录", "No checkpoint log in the selected area in the last 14 days"),
    "staff.door_visits": ("入户走访", "Door-to-door visits"),
    "staff.door_visits.empty": ("所选范围近 14 天没有入户走访记录", "No door-to-door visit in the selected area in the last 14 days"),
    "staff.optional_absent": ("{feed} 尚未导出（可选文件），此处不显示", "{feed} has not been exported (an optional file), so it is not shown"),
    "staff.no_posts": ("所选范围内没有需要排班的点位", "No staffed post in the selected area"),
    "col.on_duty": ("在岗", "On duty"),
    "col.min_staff": ("最少在岗", "Minimum"),
    "col.understaffed": ("在岗不足", "Understaffed"),
    "col.staff_name": ("姓名", "Name"),
    "col.staff_id": ("工号", "Staff ID"),
    "col.unit": ("单位", "Unit"),
    "col.role": ("角色", "Role"),
    "col.starts_at": ("上岗", "Starts"),
    "col.status": ("状态", "Status"),
    "col.hours_24h": ("近 24 小时工时", "Hours, last 24 h"),
    "col.hours_7d": ("近 7 天工时", "Hours, 7 days"),
    "col.consecutive_days": ("连续在岗天数", "Days in a row"),
    "col.reasons": ("原因", "Why"),
    "col.vehicles_checked": ("查验车辆", "Vehicles checked"),
    "col.people_checked": ("查验人员", "People checked"),
    "col.turned_back": ("劝返", "Turned back"),
    "col.fever_found": ("发热", "Fever found"),
    "col.households_visited": ("走访户数", "Households visited"),
    "col.day": ("日期", "Day"),
    "fatigue.24h": ("24 小时超时", "24-h hours"),
    "fatigue.7d": ("7 天超时", "7-day hours"),
    "fatigue.days": ("连续在岗", "days in a row"),
    # Health page
    "health.matrix": ("各日数据到达情况", "What arrived, per day"),
    "health.missing_legend": ("表中“—”表示该日没有此文件（缺失），不是 0", "In the table, “—” means no file that day (missing), not 0"),
    "health.matrix.caption": ("格内：已入库行数 / 拒收行数；灰色为缺失，红色为失败", "Cell: rows loaded / rejected; grey means missing, red means failed"),
    "health.rejects": ("拒收记录（{day} 及参考数据）", "Rejected rows ({day} and reference files)"),
    "health.rejects.empty": ("{day} 的文件没有拒收记录", "No rejected row in the files of {day}"),
    "health.log": ("入库日志", "Ingest log"),
    "health.log.empty": ("入库日志为空", "The ingest log is empty"),
    "health.status.loaded": ("已入库", "loaded"),
    "health.status.missing": ("缺失", "missing"),
    "health.status.failed": ("失败", "failed"),
    "health.status.removed": ("已移除", "removed"),
    "health.status.unchanged": ("未变化", "unchanged"),
    "col.kind": ("文件", "File kind"),
    "col.file": ("文件名", "File"),
    "col.rows_read": ("读取行数", "Rows read"),
    "col.rows_loaded": ("入库行数", "Rows loaded"),
    "col.rows_rejected": ("拒收行数", "Rows rejected"),
    "col.rows_skipped": ("跳过行数", "Rows skipped"),
    "col.ingested_at": ("入库时间", "Ingested at"),
    "col.latest_export": ("最新导出", "Latest export"),
    "col.stale": ("数据过期", "Stale"),
    "col.encoding": ("编码", "Encoding"),
    "col.line": ("行号", "Line"),
    "col.column": ("列", "Column"),
    "col.reason": ("原因", "Reason"),
    "col.value": ("值（已脱敏）", "Value (masked)"),
    "col.message": ("说明", "Message"),
    "col.reference": ("参考数据", "reference"),
    "yes": ("是", "yes"),
    "no": ("否", "no"),
    # Map tooltips
    "tip.community": ("{name}\n人口 {population}", "{name}\npopulation {population}"),
    "tip.coverage": ("{name}\n第 {round} 轮覆盖率 {coverage}\n已采样 {sampled} / {population} 人",
                     "{name}\nround {round} coverage {coverage}\n{sampled} of {population} sampled"),
    "tip.zone": ("{name}\n{level}·{scope}\n涉及人口 {population}\n{started} 起，已 {days} 天",
                 "{name}\n{level}, {scope}\n{population} residents\nsince {started}, {days} days"),
    "tip.isolation": ("{name}\n在隔离 {active} 人\n居家 {home}·监测 {monitoring}·集中 {centralized}",
                      "{name}\n{active} in isolation\nhome {home}, monitoring {monitoring}, centralized {centralized}"),
    "tip.post": ("{name}（{kind}）\n在岗 {on_duty} / 最少 {min_staff}", "{name} ({kind})\n{on_duty} on duty / minimum {min_staff}"),
    "tip.post_short": ("⚠ 在岗不足", "⚠ understaffed"),
    "map.unplaced": ("⚠ 区划边界中有 {n} 个图形未画出：其 area_code 在 areas.csv 中找不到，自身也没有名称和层级（{codes}）",
                     "⚠ {n} boundary shapes are not drawn: their area_code is not in areas.csv and they name no level ({codes})"),
    "map.no_outlines": ("⚠ 没有可用的区划边界（reference/boundaries.geojson 缺失，或其 area_code 与 areas.csv 对不上），社区以圆点显示",
                        "⚠ No usable boundaries (reference/boundaries.geojson is missing, or its area_code values are not in "
                        "areas.csv): communities are drawn as dots"),
    "map.empty": ("没有区划边界数据，无法绘制地图（请检查 reference/boundaries.geojson）",
                  "No boundary data, so no map can be drawn (check reference/boundaries.geojson)"),
    "map.legend": ("图例：红=封控区 橙=管控区 黄=防范区；覆盖率越低颜色越深；点位红色为在岗不足。点击社区可下钻。",
                   "Legend: red = sealed, orange = controlled, yellow = precaution; darker = lower coverage; red posts are understaffed. Click a community to drill down."),
    "map.alt": ("二七区地图", "Map of Erqi district"),
    # Needs attention, ranked (issue 10): kinds in severity order, per-street lines, the wall's "+k more"
    "attention.kind.understaffed_now": ("在岗不足", "Short now"),
    "attention.kind.understaffed_soon": ("即将缺岗", "Short soon"),
    "attention.kind.positive_uncontained": ("阳性未管控", "Positives, no zone"),
    "attention.hotel_at_threshold": ("{name}：入住 {active}/{capacity} 间（{occupancy}），达到满员线 {threshold}",
                                     "{name}: {active}/{capacity} rooms taken ({occupancy}), at or over the {threshold} full threshold"),
    "attention.positive_uncontained": ("{name}：新增阳性 {positives} 例，尚无生效的封控或管控区域",
                                       "{name}: {positives} new positive(s) and no sealed or controlled zone in force"),
    "attention.coverage_street": ("{street}：{count} 个社区第 {round} 轮覆盖率低于 {target}",
                                  "{street}: {count} communities below the {target} round {round} coverage target"),
    "attention.lift_review_street": ("{street}：{count} 个封控区已连续 {days} 天无阳性，应评估解封",
                                     "{street}: {count} sealed zones {days} days without a positive; lift review due"),
    "attention.more": ("另有 {count} 项", "+{count} more"),
    # Across feeds, corrections and the sent briefing (issue 12)
    "kpi.awaiting_transfer": ("阳性待转运", "Positives awaiting transfer"),
    "kpi.help.awaiting_transfer": ("近 14 天核酸阳性、在截至当日的最新隔离台账中仍无已开始的集中隔离的人数",
                                   "People with a positive sample in the 14 days up to the day who, in the newest isolation ledger, have no centralized isolation started by then"),
    "kpi.releases_overdue": ("逾期未解除", "Releases overdue"),
    "kpi.help.releases_overdue": ("仍在隔离、计划解除日期已过的人数", "People still in isolation after their planned end date"),
    "kpi.corrected": ("已更正", "corrected"),
    "kpi.corrected_help": ("已更正：{day} 的{feed}于 {at} 重新导出，全区此前为 {before}，现为 {after}",
                           "Corrected: the {feed} of {day} was re-exported at {at}; district figure was {before}, now {after}"),
    "layer.awaiting": ("阳性待转运", "Awaiting transfer"),
    "tip.awaiting": ("{name}\n阳性待转运 {awaiting} 人\n最长等待 {hours} 小时",
                     "{name}\n{awaiting} positives awaiting transfer\nlongest wait {hours} h"),
    "isolation.awaiting": ("阳性待转运名单", "Positives awaiting transfer"),
    "isolation.awaiting.empty": ("所选范围内没有阳性待转运人员", "No positive in the selected area is awaiting transfer"),
    "isolation.awaiting.restricted": ("待转运名单仅指挥长与管理员可见；此处只显示人数",
                                      "The list is shown to leaders and admins only; here only the count"),
    "isolation.hotel_table": ("各隔离酒店：集中隔离人数与房间数", "Isolation hotels: centralized cases placed against rooms"),
    "col.person_code": ("人员代码", "Person code"),
    "col.sampled_at": ("阳性采样时间", "Positive sampled at"),
    "col.hours_waiting": ("已等待（小时）", "Hours waiting"),
    "col.capacity": ("房间数", "Rooms"),
    "col.over_capacity": ("超出房间数", "Over capacity"),
    "col.occupancy": ("入住率", "Occupancy"),
    "col.problem": ("问题", "Problem"),
    "col.found": ("数量", "Count"),
    "col.before": ("更正前", "Before"),
    "col.after": ("更正后", "After"),
    "health.conflicts": ("隔离台账核对（{day}）", "Isolation ledger checks ({day})"),
    "health.conflicts.empty": ("隔离台账未发现问题", "No problem found in the isolation ledger"),
    "health.problem.centralized_not_hotel": ("集中隔离点位不是隔离酒店", "Centralized case at a site that is not an isolation hotel"),
    "health.problem.two_kinds": ("同一人同时处于两种隔离方式", "Person active in two isolation kinds at once"),
    "health.problem.two_active_cases": ("同一人同时有两条在隔记录", "Person with two active cases at once"),
    "health.corrections": ("重新导出的更正（截至 {day}）", "Corrections by re-exports (up to {day})"),
    "health.corrections.empty": ("截至 {day} 没有重新导出替换过的文件", "No file up to {day} has been replaced by a re-export"),
    # Re-exports held back (issue 16): far fewer rows than the file serving the day.
    "attention.kind.held": ("导出暂缓", "Re-export held"),
    "attention.held": ("{day}{feed}新导出仅 {rows} 行（现用文件 {serving} 行），已暂缓，仍显示原数据",
                       "{feed} for {day}: the new export has {rows} rows against {serving} in use; held, the"
                       " current figures stay"),
    "health.held": ("{file} 已暂缓：{rows} 行，现用文件 {serving} 行，仍显示原数据。确认新文件无误后运行"
                    " python -m dashboard ingest --accept {accept}",
                    "{file} held: {rows} rows against {serving} in the file in use, whose figures stay. If the"
                    " new file is right, run python -m dashboard ingest --accept {accept}"),
    "health.status.held": ("已暂缓", "held"),
    "health.status.empty": ("仅表头", "header only"),
    "figure.rows": ("行数", "rows"),
    "figure.samples_on_day": ("采样", "samples"),
    "figure.positives_on_day": ("阳性", "positives"),
    "figure.staff_on_duty": ("在岗", "on duty"),
    "brief.awaiting_transfer": ("阳性待转运：{n} 人", "Positives awaiting transfer: {n}"),
    "brief.releases_overdue": ("逾期未解除：{n} 人", "Releases overdue: {n}"),
    "brief.awaiting_line": ("{community}：{n} 人，最长等待 {hours} 小时", "{community}: {n}, longest wait {hours} h"),
    "brief.corrections": ("数据更正", "Corrections"),
    "brief.correction_line": ("{day} {feed}（{at} 重新导出）：{changes}", "{feed} of {day} (re-exported {at}): {changes}"),
    "brief.none": ("无", "none"),
    "brief.attention": ("需要关注", "Needs attention"),
    "brief.trends": ("近 14 天趋势", "14-day trends"),
    "brief.filters": ("筛选：日期 {day}，范围 {area}，语言 {language}", "Filters: day {day}, area {area}, language {language}"),
    "brief.data_as_of": ("数据截至 {day}，最近入库 {moment}", "Data as of {day}, last ingested {moment}"),
    "brief.context": ("数据说明", "About these figures"),
    "brief.stale_feeds": ("未更新的数据：{feeds}", "Stale feeds: {feeds}"),
    "brief.no_stale_feeds": ("各类数据均已更新", "Every feed is up to date"),
    "trend.isolation_total": ("在隔离人数", "People in isolation"),
    "brief.written": ("已写入：{files}", "Written: {files}"),
    "brief.sent": ("已发送到群机器人", "Sent to the group robot"),
    # Needs attention: positives awaiting transfer and recent corrections (issue 12)
    "attention.kind.awaiting_transfer": ("阳性待转运", "Awaiting transfer"),
    "attention.awaiting_transfer": ("{name}：{count} 名阳性尚未转运集中隔离，最长已等待 {hours} 小时",
                                    "{name}: {count} positive, not yet in centralized isolation, longest wait {hours} h"),
    "attention.kind.correction": ("数据已更正", "Corrected"),
    "attention.correction": ("{day}{feed}已更正：{changes}", "{feed} for {day} corrected: {changes}"),
    "attention.correction_change": ("{figure} {before}→{after}", "{figure} {before}→{after}"),
    "correction.figure.rows": ("行数", "rows"),
    "correction.figure.samples_on_day": ("采样", "samples"),
    "correction.figure.positives_on_day": ("阳性", "positives"),
    "correction.figure.sealed": ("封控区", "sealed zones"),
    "correction.figure.controlled": ("管控区", "controlled zones"),
    "correction.figure.precaution": ("防范区", "precaution zones"),
    "correction.figure.home": ("居家隔离", "home isolation"),
    "correction.figure.home_monitoring": ("居家健康监测", "home monitoring"),
    "correction.figure.centralized": ("集中隔离", "centralized"),
    "correction.figure.staff_on_duty": ("在岗", "on duty"),
    # Wall screens and phones (issue 10): the map legend, kiosk status line, "what changed" chips
    "legend.community_points": ("社区（无边界数据，圆点大小=人口）", "Community (no boundaries; dot size = population)"),
    "legend.coverage_ok": ("覆盖率 ≥ {target}", "Coverage ≥ {target}"),
    "legend.coverage_low": ("低于目标", "Below target"),
    "legend.coverage_far": ("≤ {half}", "≤ {half}"),
    "legend.isolation": ("隔离人数（圆越大越多）", "In isolation (bigger = more)"),
    "legend.post_ok": ("点位在岗充足", "Post staffed"),
    "legend.post_short": ("点位在岗不足", "Post understaffed"),
    "map.drill_down": ("点击社区可下钻", "Click a community to drill down"),
    "kiosk.refreshed": ("数据刷新 {at}", "Refreshed {at}"),
    "kiosk.next_check": ("下次检查 {at}", "next check {at}"),
    "kiosk.more": ("另有 {count} 项", "+{count} more"),
    "kpi.updated": ("新", "updated"),
    "kpi.as_of": ("，截至{day}", ", as of {day}"),
    "kpi.updated.help": ("最近一次数据更新后变化的数值", "Changed by the latest data update"),
    # First run on the demo (issue 9): staged progress, then the older days in the background.
    "app.preparing.generate": ("第 1 步，共 2 步：正在生成演示数据（约 100 万居民）：{done} / {total} 天",
                               "Step 1 of 2: generating the demo data (about 1M residents): {done} / {total} days"),
    "app.preparing.ingest": ("第 2 步，共 2 步：正在导入最近 {days} 天的文件：{done} / {total}",
                             "Step 2 of 2: ingesting the newest {days} days' files: {done} / {total}"),
    "app.older_days_failed": ("首次运行：较早日期的演示数据未能生成（详见服务器日志），只有最近 {days} 天的数据。",
                              "First run: the demo's older days could not be generated (see the server's log); only"
                              " the newest {days} days are in."),
    "app.loading_older": ("首次运行：较早日期的数据仍在导入（约一分钟），完成后页面自动更新。在此之前，日期只有最近 {days} 天，"
                          "本轮覆盖率只计入这几天的采样。",
                          "First run: the older days are still being ingested (about a minute); the page updates"
                          " by itself when they are in. Until then only the newest {days} days are shown, and this"
                          " round's coverage counts only their samples."),
    # Who has reported (issue 18): one line per sender that sent nothing, or sent late.
    "attention.kind.sender_missing": ("未报送", "Not sent"),
    "attention.kind.sender_late": ("迟报", "Sent late"),
    "attention.sender_missing": ("{sender}：{feed}今日未报送", "{sender}: no {feed} sent today"),
    "attention.sender_late": ("{sender}：{feed}迟报（{at}，应于 {due} 前）", "{sender}: {feed} sent late ({at}, due by {due})"),
    "health.reporting": ("报送情况（{day}）", "Who has reported ({day})"),
    "health.reporting.caption": ("每行一个报送单位，每列一类文件；“—”表示该单位不报送此类文件",
                                 "One row per sender, one column per kind of file; “—”: the sender does not send it"),
    "health.reporting.empty": ("{day} 没有应报送的单位", "Nobody was expected to send a file for {day}"),
    "health.reporting.received": ("已报送 {at}", "sent {at}"),
    "health.reporting.late": ("迟报 {at}", "late {at}"),
    "health.reporting.missing": ("未报送", "not sent"),
    "health.reporting.missing_kept": ("未报送（沿用 {day}）", "not sent (kept from {day})"),
    "col.sender": ("报送单位", "Sender"),
    "health.unrecognised": ("未识别的文件（最近一次入库）", "Files not recognised (newest ingest)"),
    "health.unrecognised.empty": ("最近一次入库没有未识别的文件", "The newest ingest recognised every file"),
    "kpi.partial": ("部分报送", "partial"),
    "kpi.partial_help": ("截至 {day} · 部分报送：缺 {senders}", "As of {day} · partial: {senders} missing"),
    "feed.partial": ("{feed} {day} 导出（{ingested} 入库），部分报送：缺 {senders}",
                     "{feed}: export of {day} (ingested {ingested}), partial: {senders} missing"),
    # the upload page (issue 19)
    "page.upload": ("上传数据", "Upload"),
    "upload.intro": ("为 {area} 上传 CSV 或 XLSX 文件，每个不超过 {max_mb} MB。每个文件立即按入库规则检查；确认后保存到当日文件夹并入库。",
                     "Upload CSV or XLSX files for {area}, up to {max_mb} MB each. Each file is checked at once by the"
                     " ingest's own rules; on confirm it is saved into the day's folder and taken in."),
    "upload.pick_area": ("请在侧边栏选择一个街道或社区：每次上传属于一个区域",
                         "Choose a street or community in the sidebar: an upload is one area's"),
    "upload.day": ("导出日期", "Export day"),
    "upload.files": ("选择文件（可多选）", "Files (one or more)"),
    "upload.none": ("尚未选择文件", "No file chosen yet"),
    "upload.checking": ("正在检查 {file}……", "Checking {file}..."),
    "upload.rejects": ("前 {n} 条拒收记录（共 {total} 条）", "First {n} rejected rows (of {total})"),
    "upload.no_rejects": ("没有拒收的行", "No row was rejected"),
    "upload.confirm": ("确认上传", "Confirm upload"),
    "upload.nothing_to_save": ("没有可保存的文件：未通过检查的文件不会保存", "Nothing to save: a file that failed its check is not kept"),
    "upload.saved": ("已保存 {file}", "Saved {file}"),
    "upload.refused": ("未保存 {file}：{reason}", "Not saved {file}: {reason}"),
    "upload.ingest_started": ("已开始入库", "The ingest has been started"),
    "upload.by_watcher": ("文件将由自动入库程序导入", "The watcher takes the files in"),
    "upload.waiting": ("{file}：等待入库……", "{file}: waiting for the ingest..."),
    "upload.live": ("{file}：{taken} 入库（{status}），数据自 {live} 起生效",
                    "{file}: taken in at {taken} ({status}), figures live since {live}"),
    "upload.not_live": ("{file}：{taken} 已处理（{status}），数据未生效：{message}",
                        "{file}: handled at {taken} ({status}), its figures are not live: {message}"),
    "upload.ingest_failed": ("{file}：已保存，但入库失败，数据未生效：{message}",
                             "{file}: saved, but the ingest failed and its figures are not live: {message}"),
    "upload.kind.none": ("未识别", "not recognised"),
    "upload.outcome.new": ("首次报送", "first send"),
    "upload.outcome.replaces": ("更正：替换 {file}", "correction: replaces {file}"),
    "upload.outcome.refused": ("不可用：{reason}", "not usable: {reason}"),
    "upload.col.sheet": ("工作表", "Sheet"),
    "upload.col.outcome": ("结果", "Outcome"),
    "upload.col.row": ("行", "Row"),
    "upload.col.column": ("列", "Column"),
    "upload.col.reason": ("原因", "Reason"),
    "upload.col.value": ("值（已遮蔽）", "Value (masked)"),
    "upload.col.at": ("时间", "When"),
    "upload.col.user": ("上传人", "Who"),
    "upload.col.area": ("区域", "Area"),
    "upload.col.saved": ("保存为", "Saved as"),
    "upload.col.sha256": ("SHA-256", "SHA-256"),
    "upload.log": ("上传日志", "Upload log"),
    "upload.log.empty": ("尚无上传记录", "Nothing has been uploaded yet"),
    "upload.log.saved": ("已保存", "saved"),
    "upload.log.refused": ("未保存", "refused"),
    "upload.log.correction": ("已保存（更正）", "saved (correction)"),
    # The rules issue 20 added to the one table (figures/rules.py), on the list and in alerts.
    "attention.kind.feed_stale": ("数据中断", "Feed stale"),
    "attention.feed_stale": ("{feed}已中断：最新导出为 {day}，超过 {hours} 小时未更新",
                             "{feed} has stopped: the newest export is {day}, over {hours} h old"),
    "attention.kind.releases_overdue": ("逾期未解除", "Releases overdue"),
    "attention.releases_overdue": ("{name}：{count} 人隔离期满仍未解除", "{name}: {count} past their planned release"),
    "attention.kind.positives_over_samples": ("阳性多于采样", "Positives above samples"),
    "attention.positives_over_samples": ("{name}：阳性 {positives} 例多于采样 {samples} 份，请核对数据",
                                         "{name}: {positives} positives but only {samples} samples: check the data"),
    "attention.kind.hotel_over_rooms": ("入住超房间数", "Hotel over its rooms"),
    "attention.hotel_over_rooms": ("{name}：集中隔离 {active} 人，超过房间数 {capacity}，请核对数据",
                                   "{name}: {active} centralized cases in {capacity} rooms: check the data"),
    "attention.kind.coverage_over_full": ("覆盖率超过 100%", "Coverage above 100%"),
    "attention.coverage_over_full": ("{name}：第 {round} 轮覆盖率 {coverage}，超过 100%，请核对人口或采样",
                                     "{name}: round {round} coverage {coverage}, above 100%: check population or samples"),
    # The alerts page (issue 20).
    "page.alerts": ("告警", "Alerts"),
    "alerts.not_running": ("告警尚未运行：启动 `python -m dashboard ingest --watch`（或 `alerts --watch`）后，这里显示告警和通知记录",
                           "Alerts have not run yet: once `python -m dashboard ingest --watch` (or `alerts --watch`)"
                           " runs, open alerts and who was notified show here"),
    "alerts.as_of": ("最近一次评估：{at} · 未解除 {count} 条", "Last evaluated {at} · {count} open"),
    "alerts.open": ("未解除的告警", "Open alerts"),
    "alerts.kpi.open": ("未解除告警", "Open alerts"),
    "alerts.kpi.severity": ("其中{severity}", "of which {severity}"),
    "alerts.kpi.help": ("最近一次评估：{at}", "Last evaluated {at}"),
    "alerts.none_open": ("当前没有未解除的告警", "No alert is open"),
    "alerts.notified": ("通知记录", "Who was notified when"),
    "alerts.none_notified": ("尚未发送任何通知", "Nobody has been notified yet"),
    "alerts.history": ("告警历史", "History"),
    "alerts.none_history": ("尚无告警记录", "No alert yet"),
    "alerts.delivery_log": ("告警发送记录", "Alert delivery log"),
    "alerts.delivery_log.caption": ("每次推送一行，失败的会按退避时间重试，直到送达", "One row per attempt to post; a failed one is retried with backoff until delivered"),
    "alerts.none_delivered": ("尚无推送记录", "Nothing has been posted yet"),
    "alerts.col.severity": ("级别", "Severity"),
    "alerts.col.rule": ("规则", "Rule"),
    "alerts.col.area": ("区域", "Area"),
    "alerts.col.text": ("内容", "What"),
    "alerts.col.opened": ("开始", "Since"),
    "alerts.col.notified": ("最近通知", "Last notified"),
    "alerts.col.resolved": ("解除", "Cleared"),
    "alerts.col.created": ("时间", "When"),
    "alerts.col.event": ("类型", "Event"),
    "alerts.col.destination": ("通知对象", "Sent to"),
    "alerts.col.status": ("状态", "State"),
    "alerts.col.sent": ("送达", "Delivered"),
    "alerts.col.attempts": ("尝试次数", "Attempts"),
    "alerts.col.error": ("错误", "Error"),
    "alerts.col.attempted": ("推送时间", "Attempted"),
    "alerts.still_open": ("未解除", "open"),
    "alerts.delivered": ("已送达", "delivered"),
    "alerts.failed": ("失败", "failed"),
    "alerts.severity.critical": ("紧急", "Critical"),
    "alerts.severity.high": ("重要", "High"),
    "alerts.severity.low": ("一般", "Low"),
    "alerts.event.start": ("开始", "started"),
    "alerts.event.renotify": ("再次提醒", "reminder"),
    "alerts.event.resolve": ("已解除", "cleared"),
    "alerts.event.summary": ("静默期汇总", "mute summary"),
    "alerts.status.pending": ("待发送", "pending"),
    "alerts.status.sent": ("已送达", "delivered"),
    "alerts.status.muted": ("静默中", "muted"),
    "alerts.status.summarised": ("已汇总", "summarised"),
    "alerts.destination.on_duty": ("值班群", "on-duty group"),
    "alerts.destination.district": ("全区群", "district group"),
    "alerts.destination.override": ("指定地址（--post）", "the --post URL"),
    "alerts.destination.area": ("{area}群", "{area} group"),
    "overview.attention.alerts": ("需要关注 · 未解除告警 {count} 条", "Needs attention · {count} alerts open"),
    "attention.kind.outlier": ("数据异常", "Outlier"),
    "attention.outlier": ("{day}{figure} {value}，超出前 {days} 天的范围 {low}–{high}，请核对数据",
                          "{figure} on {day}: {value}, outside the {low}–{high} range of the {days} days before: check the data"),
}

# Coded values: the Chinese words are the contract's (the words exports may use), the English
# ones are the dashboard's own.
ENGLISH_WORDS: dict[str, dict[str, str]] = {
    "level": {"sealed": "sealed", "controlled": "controlled", "precaution": "precaution"},
    "scope": {"building": "building", "compound": "compound", "community": "community"},
    "isolation_kind": {"home": "home isolation", "home_monitoring": "home monitoring", "centralized": "centralized"},
    "site_kind": {"checkpoint": "checkpoint", "testing_fixed": "fixed testing site",
                  "testing_mobile": "mobile testing vehicle", "isolation_hotel": "isolation hotel",
                  "community_office": "community office"},
    "role": {"cadre": "cadre", "party_member": "party member", "police": "police", "doctor": "doctor",
             "grid_worker": "grid worker", "volunteer": "volunteer"},
    "shift_status": {"planned": "planned", "on_duty": "on duty", "done": "done", "absent": "absent"},
    "area_level": {"district": "district", "street": "street", "community": "community"},
}
CHINESE_WORDS = {
    "level": codes.ZONE_LEVELS, "scope": codes.ZONE_SCOPES, "isolation_kind": codes.ISOLATION_KINDS,
    "site_kind": codes.SITE_KINDS, "role": codes.STAFF_ROLES, "shift_status": codes.SHIFT_STATUSES,
    "area_level": codes.AREA_LEVELS,
}
ENUMS: dict[str, dict[str, tuple[str, str]]] = {
    kind: {code: (zh, ENGLISH_WORDS[kind][code]) for code, zh in words.items()} for kind, words in CHINESE_WORDS.items()
}


def _index(lang: str) -> int:
    return 1 if lang == "en" else 0


def t(key: str, lang: str, **values) -> str:
    """The message for key in the language, with {placeholders} filled in."""
    text = CATALOG[key][_index(lang)]
    return text.format(**values) if values else text


# CommonMark lets any ASCII punctuation be escaped with a backslash, and then shows it as typed.
_MARKDOWN_PUNCTUATION = re.compile(f"([{re.escape(string.punctuation)}])")
# GitHub-style Markdown also turns bare addresses (http://, www., name@host) into links, and
# does so after escapes are resolved, so a backslash cannot stop it. An invisible word joiner
# inside the address does.
WORD_JOINER = "\u2060"
_AUTOLINK_TRIGGERS = re.compile(r"(?i)(?:(?<=http:)|(?<=https:))(?=//)|(?<=www)(?=\.)|(?<=@)")


def literal(value) -> str:
    """A value from a URL or an export, ready to go into Markdown (st.warning, st.caption, a
    metric label...) and be shown exactly as typed: no link, emphasis, HTML or directive.

    Line breaks become spaces, since a new line could start a heading or a list.
    """
    text = _AUTOLINK_TRIGGERS.sub(WORD_JOINER, " ".join(str(value).split()))
    return _MARKDOWN_PUNCTUATION.sub(r"\\\1", text)


# What makes Excel or WPS read a cell as a formula (OWASP, "CSV Injection"): a staff name exported
# as =HYPERLINK(...) or @SUM(...) would run when the downloaded CSV is opened.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value):
    """Text from an export, ready for a cell of a CSV or a table someone may paste into a
    spreadsheet: if it starts like a formula, a leading ' makes the spreadsheet show it as typed.

    Only text is changed. A count, a share, a date or a missing value comes back as it is, so a
    numeric column stays numeric and a real -3 stays a number.
    """
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return "'" + value
    return value


def spreadsheet_safe_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with spreadsheet_safe applied to every cell of its text columns: what a page
    hands to st.dataframe, whose "Download as CSV" writes the cells exactly as it got them."""
    text_columns = list(frame.select_dtypes(include=["object", "string"]).columns)
    if not text_columns:
        return frame
    safe = frame.copy()
    for column in text_columns:
        safe[column] = safe[column].map(spreadsheet_safe)
    return safe


def feed_in_sentence(kind: str, lang: str) -> str:
    """A feed's name inside a sentence: "no isolation ledger sent", not "no Isolation ledger"."""
    name = t(f"feed.{kind}", lang)
    return name if lang == "zh" else name[:1].lower() + name[1:]


def label_on(key: str, data_day, day, lang: str) -> str:
    """A figure's label, or its "on <day>" form when the figure comes from an earlier export
    than the day shown: "Samples today", or "Samples on 5 Jan"."""
    if data_day is None or day is None or data_day == day:
        return t(key, lang)
    return t(f"{key}_on", lang, day=short_day(data_day, lang))


def enum(kind: str, value, lang: str) -> str:
    """The word for a coded value (a zone level, a site kind...); unknown codes show as they are."""
    words = ENUMS[kind].get(value)
    return words[_index(lang)] if words else ("" if is_missing(value) else str(value))


def is_missing(value) -> bool:
    if value is None:
        return True
    import pandas as pd  # here, not above: the ingest's command line starts 0.4 s sooner without it

    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def num(value, lang: str) -> str:
    """An integer count with thousands separators; a missing value says so instead of 0."""
    if is_missing(value):
        return t("no_data", lang)
    return f"{int(round(float(value))):,}"


def pct(value, lang: str, digits: int = 1) -> str:
    """A share as a percentage, rounded half up as people do (0.9125 -> 91.3%, not 91.2%)."""
    if is_missing(value):
        return t("no_data", lang)
    percent = (Decimal(repr(float(value))) * 100).quantize(Decimal(1).scaleb(-digits), rounding=ROUND_HALF_UP)
    return f"{percent:,}%"


def hours(value, lang: str) -> str:
    if is_missing(value):
        return t("no_data", lang)
    return f"{float(value):,.1f}"


def _as_date(value) -> date:
    if isinstance(value, str):
        return date.fromisoformat(value[:10])
    if isinstance(value, datetime):  # a pandas Timestamp too
        return value.date()
    return value


def day(value, lang: str) -> str:
    """A calendar day: 2022年1月6日 or 6 Jan 2022."""
    if is_missing(value):
        return t("no_data", lang)
    d = _as_date(value)
    return f"{d.year}年{d.month}月{d.day}日" if lang == "zh" else f"{d.day} {d:%b} {d.year}"


def short_day(value, lang: str) -> str:
    """A day within the current year's view: 1月6日 or 6 Jan."""
    if is_missing(value):
        return t("no_data", lang)
    d = _as_date(value)
    return f"{d.month}月{d.day}日" if lang == "zh" else f"{d.day} {d:%b}"


def moment(value, lang: str) -> str:
    """A date and time to the minute."""
    if is_missing(value):
        return t("no_data", lang)
    import pandas as pd

    ts = pd.Timestamp(value)
    return f"{day(ts, lang)} {ts:%H:%M}"


def short_moment(value, lang: str) -> str:
    """A date and time without the year, for captions."""
    if is_missing(value):
        return t("no_data", lang)
    import pandas as pd

    ts = pd.Timestamp(value)
    return f"{short_day(ts, lang)} {ts:%H:%M}"


def clock(value) -> str:
    import pandas as pd

    return "" if is_missing(value) else f"{pd.Timestamp(value):%H:%M}"


def finite(value) -> bool:
    return not is_missing(value) and math.isfinite(float(value))
