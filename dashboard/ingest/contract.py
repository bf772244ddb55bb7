"""The export contract: which files exist, their columns, header aliases and value words.

This module is the single source of truth for data/README.md, the ingest and the demo
generator. Header aliases belong to a file kind: 解除日期 is `lifted_on` in control_zones
but `ended_on` in isolation.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from dashboard.codes import (  # noqa: F401  (the value words are part of the contract)
    AREA_LEVELS,
    ISOLATION_KINDS,
    SHIFT_STATUSES,
    SITE_KINDS,
    STAFF_ROLES,
    TEST_RESULTS,
    ZONE_LEVELS,
    ZONE_SCOPES,
)

# Column types understood by the ingest.
TEXT, INT, FLOAT, DATE, TIMESTAMP, ENUM, PERSON_ID = (
    "text", "int", "float", "date", "timestamp", "enum", "person_id",
)


@dataclass(frozen=True)
class Column:
    name: str
    zh: str
    type: str = TEXT
    required: bool = True
    # For ENUM: canonical value -> Chinese word.
    values: dict[str, str] = field(default_factory=dict)
    # Must match a key in reference data: "area" or "site".
    references: str | None = None


@dataclass(frozen=True)
class FileKind:
    kind: str
    zh: str
    columns: tuple[Column, ...]
    # "reference" (rarely changes), "ledger" (full snapshot as known on the day) or
    # "event" (that day's rows only).
    role: str
    optional: bool = False
    # Columns that must be unique within a file.
    unique: tuple[str, ...] = ()
    # (start, end) pairs: a row whose end is before its start is rejected.
    ordered: tuple[tuple[str, str], ...] = ()

    @property
    def filename(self) -> str:
        return f"{self.kind}.csv"

    def header_aliases(self) -> dict[str, str]:
        """Every accepted header (canonical or Chinese) -> canonical column name."""
        aliases = {}
        for column in self.columns:
            aliases[column.name] = column.name
            aliases[column.zh] = column.name
        return aliases

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)




AREAS = FileKind(
    "areas", "区划", role="reference",
    columns=(
        Column("area_code", "区划代码"),
        Column("name", "名称"),
        Column("level", "级别", ENUM, values=AREA_LEVELS),
        Column("parent_code", "上级代码", required=False),
        Column("population", "常住人口", INT),
        Column("households", "户数", INT),
        Column("lat", "纬度", FLOAT),
        Column("lon", "经度", FLOAT),
    ),
    unique=("area_code",),
)

SITES = FileKind(
    "sites", "点位", role="reference",
    columns=(
        Column("site_id", "点位编号"),
        Column("name", "点位名称"),
        Column("kind", "类型", ENUM, values=SITE_KINDS),
        Column("area_code", "区划代码", references="area"),
        Column("lat", "纬度", FLOAT),
        Column("lon", "经度", FLOAT),
        Column("capacity", "房间数", INT, required=False),
        Column("min_staff", "最少在岗人数", INT, required=False),
    ),
    unique=("site_id",),
)

CONTROL_ZONES = FileKind(
    "control_zones", "封控管控区域", role="ledger",
    columns=(
        Column("zone_id", "区域编号"),
        Column("area_code", "区划代码", references="area"),
        Column("name", "区域名称"),
        Column("level", "管控级别", ENUM, values=ZONE_LEVELS),
        Column("scope", "范围", ENUM, values=ZONE_SCOPES),
        Column("started_on", "开始日期", DATE),
        Column("lifted_on", "解除日期", DATE, required=False),
        Column("population", "涉及人口", INT),
        Column("lat", "纬度", FLOAT, required=False),
        Column("lon", "经度", FLOAT, required=False),
    ),
    unique=("zone_id",),
    ordered=(("started_on", "lifted_on"),),
)

TESTING_RECORDS = FileKind(
    "testing_records", "核酸采样记录", role="event",
    columns=(
        Column("sample_id", "样本编号"),
        Column("person_id", "身份证号", PERSON_ID),
        Column("area_code", "区划代码", references="area"),
        Column("site_id", "点位编号", references="site"),
        Column("round", "轮次", INT),
        Column("sampled_at", "采样时间", TIMESTAMP),
        Column("result", "检测结果", ENUM, values=TEST_RESULTS),
    ),
    unique=("sample_id",),
)

ISOLATION = FileKind(
    "isolation", "隔离台账", role="ledger",
    columns=(
        Column("case_id", "身份证号", PERSON_ID),
        Column("area_code", "区划代码", references="area"),
        Column("kind", "隔离方式", ENUM, values=ISOLATION_KINDS),
        Column("site_id", "点位编号", required=False, references="site"),
        Column("started_on", "开始日期", DATE),
        Column("planned_end_on", "计划解除日期", DATE, required=False),
        Column("ended_on", "解除日期", DATE, required=False),
        Column("reason", "原因", required=False),
    ),
    ordered=(("started_on", "ended_on"), ("started_on", "planned_end_on")),
)

SHIFTS = FileKind(
    "shifts", "排班", role="event",
    columns=(
        Column("shift_id", "班次编号"),
        Column("staff_id", "工号"),
        Column("staff_name", "姓名", required=False),
        Column("unit", "单位", required=False),
        Column("role", "角色", ENUM, values=STAFF_ROLES),
        Column("site_id", "点位编号", references="site"),
        Column("team_id", "小组编号", required=False),
        Column("starts_at", "上岗时间", TIMESTAMP),
        Column("ends_at", "下岗时间", TIMESTAMP),
        Column("status", "状态", ENUM, values=SHIFT_STATUSES),
    ),
    unique=("shift_id",),
    ordered=(("starts_at", "ends_at"),),
)

CHECKPOINT_LOG = FileKind(
    "checkpoint_log", "卡点查验", role="event", optional=True,
    columns=(
        Column("site_id", "点位编号", references="site"),
        Column("period_start", "开始时间", TIMESTAMP),
        Column("period_end", "结束时间", TIMESTAMP),
        Column("vehicles_checked", "查验车辆", INT),
        Column("people_checked", "查验人员", INT),
        Column("turned_back", "劝返", INT),
        Column("fever_found", "发热人数", INT),
    ),
    ordered=(("period_start", "period_end"),),
)

DOOR_VISITS = FileKind(
    "door_visits", "入户走访", role="event", optional=True,
    columns=(
        Column("team_id", "小组编号"),
        Column("area_code", "区划代码", references="area"),
        Column("visited_on", "走访日期", DATE),
        Column("households_visited", "走访户数", INT),
        Column("people_checked", "排查人数", INT),
        Column("fever_found", "发热人数", INT),
    ),
)

EXPORT_KINDS = (CONTROL_ZONES, TESTING_RECORDS, ISOLATION, SHIFTS, CHECKPOINT_LOG, DOOR_VISITS)
# Who is expected to send which export, and by when (the reporting matrix, issue 18). Optional.
REPORTING = FileKind(
    "reporting", "报送要求", role="reference", optional=True,
    columns=(
        Column("kind", "数据类型", ENUM, values={k.kind: k.zh for k in EXPORT_KINDS}),
        Column("sender", "报送单位", required=False),
        Column("area_code", "区划代码", required=False, references="area"),
        Column("due", "截止时间", required=False),
    ),
)

REFERENCE_KINDS = (AREAS, SITES, REPORTING)
KINDS = {k.kind: k for k in REFERENCE_KINDS + EXPORT_KINDS}

# Rows whose first non-empty cell is one of these are Excel summary rows, not data.
SUMMARY_WORDS = ("合计", "总计", "小计", "total", "Total", "TOTAL")
# Rows whose first non-empty cell starts with one of these and a colon are the signature lines
# under a ledger (填报人：王某某  联系电话：…), not data.
SIGNATURE_WORDS = ("填报人", "填表人", "制表人", "审核人", "负责人", "联系人", "联系电话", "填报单位", "填报日期",
                   "填报时间", "报送单位", "报送时间")
