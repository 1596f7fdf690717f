"""What the demo's parts share: the district's names, the demo logins, and small helpers."""

import random

from sqlalchemy import select

from app.extensions import db
from app.models.choices import Role

DISTRICT = ("610404", "渭城区")


STREETS = [
    ("001", "渭阳街道", [("001", "文汇社区", 3), ("002", "渭滨社区", 2)]),
    ("002", "人民路街道", [("001", "东风社区", 2), ("002", "北平社区", 2)]),
    ("003", "新兴路街道", [("001", "新兴社区", 2)]),
]


DEPARTMENTS = [
    ("ZF", "区综治中心"),
    ("XF", "区信访局"),
    ("HB", "区生态环境分局"),
    ("AJ", "区应急管理局"),
    ("HW", "区城市管理和综合执法局"),
    ("ZJ", "区住房和城乡建设局"),
    ("MZ", "区民政局"),
    ("GA", "渭城公安分局"),
]


MATTERS = [
    ("WD-001", "矛盾纠纷调解", "stability", "ZF", True),
    ("WD-002", "重点人员稳控", "stability", "GA", True),
    ("XF-001", "群众来信来访", "petition", "XF", True),
    ("HJ-001", "噪声扰民", "environment", "HB", True),
    ("HJ-002", "油烟污染", "environment", "HB", True),
    ("AQ-001", "消防通道堵塞", "work_safety", "AJ", True),
    ("AQ-002", "电动车楼道充电", "work_safety", "AJ", True),
    ("HW-001", "垃圾清运不及时", "sanitation", "HW", True),
    ("HW-002", "占道经营", "urban_management", "HW", True),
    ("WY-001", "物业服务纠纷", "property", "ZJ", True),
    ("WY-002", "电梯故障", "property", "ZJ", True),
    ("MZ-001", "困难群众救助", "civil_affairs", "MZ", True),
    ("MZ-002", "高龄津贴申领", "civil_affairs", "MZ", False),
]


UNITS = [
    ("咸阳市渭城区财政局", "区财政局机关党支部", "610404001001"),
    ("国网咸阳供电公司", "供电公司第一党支部", "610404001001"),
    ("咸阳市第一人民医院", "医院内科党支部", "610404001002"),
    ("渭城区人民法院", "区法院机关党支部", "610404002001"),
    ("咸阳职业技术学院", "学院机关党总支", "610404002002"),
    ("渭城区税务局", "区税务局第二党支部", "610404003001"),
]


SURNAMES = (
    "王李张刘陈杨赵黄周吴徐孙马朱胡郭何高林罗郑梁谢宋唐韩冯于董萧程曹袁邓许傅沈曾彭吕苏卢蒋蔡贾丁魏薛叶阎"
)


GIVEN = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国志强淑珍玉兰文博子涵浩然欣怡梓轩一诺"


DEMO_PASSWORDS = {
    "admin": ("onegrid-admin", Role.ADMIN, None, None, "系统管理员"),
    "street": ("onegrid-street", Role.STREET_ADMIN, "610404001", None, "渭阳街道办"),
    "community": ("onegrid-community", Role.COMMUNITY_ADMIN, "610404001001", None, "文汇社区工作站"),
    "grid": ("onegrid-grid", Role.GRID_WORKER, "610404001001001", None, "李网格"),
    "grid2": ("onegrid-grid", Role.GRID_WORKER, "610404001001002", None, "赵网格"),
    "dept": ("onegrid-dept", Role.DEPARTMENT, None, "HW", "城管执法局值班员"),
    "member": ("onegrid-member", Role.MEMBER, "610404001001001", None, "王建国"),
    "resident": ("onegrid-resident", Role.RESIDENT, "610404001001001", None, "陈秀英"),
    "hotline": ("onegrid-hotline", Role.INTEGRATION, None, None, "12345热线"),
    "captain": ("onegrid-captain", Role.MEMBER, "610404001001001", None, "张卫东"),
    "leader": ("onegrid-leader", Role.GRID_WORKER, "610404001001001", None, "周丽华"),
}


def _get_or_create(model, lookup: dict, **values):
    obj = db.session.scalar(select(model).filter_by(**lookup))
    if obj is None:
        obj = model(**lookup, **values)
        db.session.add(obj)
        db.session.flush()
    return obj


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def _phone(rng: random.Random) -> str:
    return rng.choice(("138", "139", "135", "150", "186", "177")) + f"{rng.randrange(10**8):08d}"
