"""The coded values of the export contract and the Chinese words exports write for them.

One catalog, below everything: the contract (ingest/contract.py) reads these words in exports,
the message catalog (i18n.py) shows them, in Chinese, beside its own English words.
"""

AREA_LEVELS = {"district": "区", "street": "街道", "community": "社区"}
SITE_KINDS = {
    "checkpoint": "卡点",
    "testing_fixed": "固定采样点",
    "testing_mobile": "流动采样车",
    "isolation_hotel": "隔离酒店",
    "community_office": "社区办公点",
}
ZONE_LEVELS = {"sealed": "封控区", "controlled": "管控区", "precaution": "防范区"}
ZONE_SCOPES = {"building": "楼栋", "compound": "小区", "community": "社区"}
TEST_RESULTS = {"negative": "阴性", "positive": "阳性", "pending": "待出"}
ISOLATION_KINDS = {"home": "居家隔离", "home_monitoring": "居家健康监测", "centralized": "集中隔离"}
STAFF_ROLES = {
    "cadre": "干部",
    "party_member": "党员",
    "police": "民警",
    "doctor": "医生",
    "grid_worker": "网格员",
    "volunteer": "志愿者",
}
SHIFT_STATUSES = {"planned": "计划", "on_duty": "在岗", "done": "已完成", "absent": "缺岗"}
