"""The Chengdu catalogue of renovation items (成都老旧院落改造内容清单), by category.

Each item has a stable code (stored in answers and decisions, never renamed) and a Chinese and an
English name. A survey copies the catalogue when it is created, so a later change here never alters a
survey that residents have already answered.

Categories, in the order they are listed:
安全类 safety — hazards fixed on discovery, listed first and never voted or ranked;
基础类 basic; 完善类 improvement; 提升类 enhancement.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from flask_babel import lazy_gettext as _l


class Category(enum.StrEnum):
    SAFETY = "safety"  # 安全类
    BASIC = "basic"  # 基础类
    IMPROVEMENT = "improvement"  # 完善类
    ENHANCEMENT = "enhancement"  # 提升类


#: the order categories are listed in: safety first
CATEGORY_ORDER: tuple[Category, ...] = (
    Category.SAFETY,
    Category.BASIC,
    Category.IMPROVEMENT,
    Category.ENHANCEMENT,
)

CATEGORY_LABELS = {
    Category.SAFETY: _l("Safety items"),
    Category.BASIC: _l("Basic items"),
    Category.IMPROVEMENT: _l("Improvement items"),
    Category.ENHANCEMENT: _l("Enhancement items"),
}


def category_label(category: Category | str) -> str:
    return str(CATEGORY_LABELS[Category(category)])


@dataclass(frozen=True)
class CatalogueItem:
    code: str
    category: Category
    name_zh: str
    name_en: str

    def name(self, locale: str) -> str:
        return self.name_zh if locale.startswith("zh") else self.name_en


def _items(category: Category, prefix: str, names: list[tuple[str, str]]) -> list[CatalogueItem]:
    return [CatalogueItem(f"{prefix}{n:02d}", category, zh, en) for n, (zh, en) in enumerate(names, start=1)]


CATALOGUE: tuple[CatalogueItem, ...] = (
    *_items(
        Category.SAFETY,
        "S",
        [
            ("燃气管道老化、漏气", "Old or leaking gas pipes"),
            ("电线老化、私拉乱接", "Old or unsafe electric wiring"),
            ("排水堵塞、污水外溢", "Blocked drains or sewage overflow"),
            ("消防设施缺失、消防通道堵塞", "Missing fire equipment or blocked fire lanes"),
            ("房屋开裂、构件脱落", "Cracked walls or falling parts of the building"),
        ],
    ),
    *_items(
        Category.BASIC,
        "B",
        [
            ("屋面防水", "Roof waterproofing"),
            ("外墙修缮", "Repair of outer walls"),
            ("楼道、楼梯扶手修缮", "Stairwells and handrails"),
            ("供水管网改造", "Water supply pipes"),
            ("小区道路平整", "Roads and paths in the compound"),
            ("架空线规整", "Tidying overhead cables"),
            ("门禁和安防监控", "Entrance gates and security cameras"),
        ],
    ),
    *_items(
        Category.IMPROVEMENT,
        "I",
        [
            ("绿化美化", "Trees, plants and green spaces"),
            ("停车位", "Parking spaces"),
            ("电动车、汽车充电设施", "Charging points for e-bikes and cars"),
            ("无障碍通道", "Step-free paths and ramps"),
            ("适老设施（扶手、座椅）", "Facilities for older people (rails, seats)"),
            ("儿童活动场地", "Children's play area"),
            ("加装电梯", "Adding lifts"),
            ("建筑节能（保温、节能窗）", "Energy saving (insulation, windows)"),
            ("公共照明", "Lighting of paths and yards"),
        ],
    ),
    *_items(
        Category.ENHANCEMENT,
        "E",
        [
            ("社区服务站", "Community service point"),
            ("老年食堂、助餐点", "Meals for older people"),
            ("养老、托育服务", "Care for older people and young children"),
            ("物业服务", "Property management services"),
            ("智慧社区（智能门禁、快递柜）", "Smart community (smart gates, parcel lockers)"),
        ],
    ),
)

BY_CODE: dict[str, CatalogueItem] = {item.code: item for item in CATALOGUE}
