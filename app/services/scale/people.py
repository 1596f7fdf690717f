"""Plausible people for a synthetic district: names, phones, birth dates, ID and credit-code numbers."""

import random
from datetime import date, timedelta
from itertools import accumulate

from app.services.idcard import check_char

# the most common family names, roughly by frequency (王李张刘陈 alone carry about 30 %)
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林高罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任"
    "沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔"
)
_SURNAME_WEIGHTS = list(accumulate(1 / (i + 4) for i in range(len(SURNAMES))))
GIVEN = (
    "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超兰霞平刚桂华建国志淑珍玉文博涵浩然欣怡梓轩诺宇轩晨阳子墨"
    "佳琪思雨嘉欣俊杰海燕红梅春生德福永昌建平卫东小红丽华国强秀珍桂芝凤英"
)
ETHNICITIES = (("汉族", 0.975), ("回族", 0.015), ("满族", 0.005), ("蒙古族", 0.005))
PHONE_PREFIXES = (
    "138",
    "139",
    "135",
    "136",
    "137",
    "150",
    "151",
    "152",
    "158",
    "159",
    "186",
    "187",
    "177",
    "133",
    "189",
)
# where floating residents' ID numbers come from: Shaanxi and the neighbouring provinces
OTHER_AREAS = (
    "610102",
    "610113",
    "610303",
    "610502",
    "610602",
    "610702",
    "611002",
    "610425",
    "610431",
    "620102",
    "640104",
    "410102",
    "410302",
    "140105",
    "510104",
    "500103",
)
CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"  # GB 32100, without I O S V Z
ORG_CHARS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def person_name(rng: random.Random) -> str:
    """A family name by frequency and one or two given-name characters."""
    surname = rng.choices(SURNAMES, cum_weights=_SURNAME_WEIGHTS)[0]
    return surname + rng.choice(GIVEN) + (rng.choice(GIVEN) if rng.random() < 0.7 else "")


def phone(rng: random.Random) -> str:
    return rng.choice(PHONE_PREFIXES) + f"{rng.randrange(10**8):08d}"


def pick(rng: random.Random, table):
    """A value of `table` ((value, share) pairs, shares adding up to 1) drawn by its share, with one roll."""
    roll = rng.random()
    for value, share in table:
        if roll < share:
            return value
        roll -= share
    return table[0][0]


def ethnicity(rng: random.Random) -> str:
    return pick(rng, ETHNICITIES)


def birth_date(rng: random.Random, as_of: date, age: int) -> date:
    """A birth date `age` full years before `as_of`."""
    return as_of - timedelta(days=int(age * 365.25) + 1 + rng.randrange(365))


class IdNumbers:
    """GB 11643 ID numbers, unique per run: the sequence counts per (area, birth date, sex); odd for men."""

    def __init__(self):
        self._used: dict[tuple, int] = {}

    def make(self, area6: str, birth: date, male: bool) -> str:
        key = (area6, birth, male)
        k = self._used.get(key, 0)
        if k >= 500:  # the 3-digit sequence is spent for this day: the next day is as plausible
            return self.make(area6, birth + timedelta(days=1), male)
        self._used[key] = k + 1
        body = f"{area6}{birth:%Y%m%d}{2 * k + (1 if male else 2):03d}"
        return body + check_char(body)


def credit_code(area6: str, serial: int) -> str:
    """A unified social credit code (GB 32100) with valid organisation-code and overall check characters."""
    org8 = f"MA{serial:06d}"
    weights = (3, 7, 9, 10, 5, 8, 4, 2)
    total = sum(ORG_CHARS.index(c) * w for c, w in zip(org8, weights))
    org_check = (11 - total % 11) % 11
    body = "91" + area6 + org8 + ("X" if org_check == 10 else str(org_check))
    total = sum(CREDIT_CHARS.index(c) * pow(3, i, 31) % 31 for i, c in enumerate(body))
    return body + CREDIT_CHARS[(31 - total % 31) % 31]
