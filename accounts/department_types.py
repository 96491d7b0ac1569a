"""The standard kinds of professional department (专业部门): codes, Chinese names, descriptions.

Plain data on the accounts floor, so the city import (accounts.city_import) can
accept a type a city names before `load_reference` has stored it, and
`load_reference` (fixtures.reference.department_types) stores the same list.
The first eight are the codes every existing city already uses; the rest are
departments most cities also have. DEPARTMENTS.csv names a type by its code
or its Chinese name.
"""

from __future__ import annotations

# (code, 中文, description)
DEPARTMENT_TYPES: list[tuple[str, str, str]] = [
    ("chengguan", "城管", "城市管理行政执法 (urban management enforcement)"),
    ("huanwei", "环卫", "环境卫生 (sanitation)"),
    ("shuiwu", "水务", "水务 (water and drainage)"),
    ("yuanlin", "园林", "园林绿化 (parks and greening)"),
    ("shizheng", "市政", "市政设施 (roads, bridges, streetlights)"),
    ("zhujian", "住建", "住房和城乡建设 (housing and construction)"),
    ("gongan", "公安", "公安 (police)"),
    ("yingji", "应急", "应急管理 (emergency management)"),
    ("jiaojing", "交警", "公安交通管理 (traffic police)"),
    ("fangguan", "房管", "房屋管理 (housing administration)"),
    ("shichang", "市场监管", "市场监督管理 (market regulation)"),
    ("shengtai", "生态环境", "生态环境 (ecology and environment)"),
    ("ranqi", "燃气", "燃气 (gas supply)"),
    ("gongshui", "供水", "供水 (water supply)"),
]
