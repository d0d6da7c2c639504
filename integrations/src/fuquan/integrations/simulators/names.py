"""Vocabulary of the synthetic population: surnames, given-name characters, trades, banks.

Everything here is generic; combined at random it yields plausible-looking but invented names.
"""

from __future__ import annotations

from typing import Final

from fuquan.integrations.partners.schemas import DisabilityCategory

# Common surnames with rough weights (马 is frequent in Ningxia).
SURNAMES: Final[tuple[tuple[str, int], ...]] = (
    ("马", 14),
    ("王", 12),
    ("李", 11),
    ("张", 9),
    ("刘", 8),
    ("杨", 6),
    ("田", 3),
    ("丁", 3),
    ("陈", 4),
    ("赵", 3),
    ("周", 2),
    ("吴", 2),
    ("徐", 2),
    ("孙", 2),
    ("郭", 2),
    ("何", 2),
    ("罗", 2),
    ("高", 2),
    ("冯", 2),
    ("苏", 2),
    ("韩", 2),
    ("朱", 2),
    ("胡", 2),
    ("白", 2),
    ("金", 1),
    ("海", 1),
    ("纳", 1),
    ("余", 1),
    ("虎", 1),
    ("穆", 1),
    ("沙", 1),
    ("黄", 2),
    ("杜", 1),
    ("梁", 1),
    ("宋", 1),
)

MALE_CHARS: Final = (
    "伟强磊军勇杰涛明超刚平辉鹏华飞鑫波斌宇浩凯健俊帆旭宁龙林洋文博亮成建国志海峰东福贵德才银全忠有"
    "春生金荣贤清山学武兵振宏发喜占仁义彪庆涵轩泽睿"
)
FEMALE_CHARS: Final = "芳娜敏静丽艳娟霞燕玲桂英兰秀梅琴红萍雪慧婷倩洁琳莉云花凤莲翠玉珍月佳欣悦怡雨梓涵婧蓉香琼晶瑶"

# Trades of individual businesses (个体工商户) and words of company names.
SHOP_TRADES: Final = (
    "便利店",
    "牛羊肉店",
    "清真餐馆",
    "农资经营部",
    "汽车修理部",
    "理发店",
    "建材经营部",
    "枸杞种植园",
    "家电维修部",
    "五金店",
    "面馆",
    "养殖场",
    "服装店",
    "蔬菜店",
)
COMPANY_WORDS: Final = (
    "鑫源",
    "恒泰",
    "盛达",
    "丰泽",
    "瑞丰",
    "嘉禾",
    "宏图",
    "汇通",
    "金穗",
    "润泽",
    "兴旺",
    "福盈",
    "华盛",
    "塞上",
    "六盘",
    "贺兰",
    "朔方",
    "明德",
    "安达",
    "正阳",
)
COMPANY_TRADES: Final = (
    "农业科技",
    "商贸",
    "建筑工程",
    "物流",
    "餐饮管理",
    "枸杞",
    "牧业",
    "劳务服务",
    "新能源科技",
    "物业管理",
    "机械设备",
    "食品",
    "建材",
    "信息技术",
)

# Banks issuing the social security card's financial account, with a plausible card prefix.
BANKS: Final[tuple[tuple[str, str], ...]] = (
    ("中国农业银行宁夏分行", "6228"),
    ("宁夏黄河农村商业银行", "6231"),
    ("中国工商银行宁夏分行", "6222"),
    ("中国建设银行宁夏分行", "6217"),
    ("中国银行宁夏分行", "6216"),
    ("宁夏银行", "6236"),
    ("中国邮政储蓄银行宁夏分行", "6210"),
)

# In the order of the category digit of the certificate number (1 视力 … 7 多重).
DISABILITY_CATEGORIES: Final[tuple[DisabilityCategory, ...]] = (
    "visual",
    "hearing",
    "speech",
    "physical",
    "intellectual",
    "mental",
    "multiple",
)

# Suffixes of the official village/community names and what an address uses instead.
VILLAGE_SUFFIXES: Final = (
    ("村村民委员会", "村"),
    ("村民委员会", "村"),
    ("社区居民委员会", "社区"),
    ("居民委员会", "社区"),
    ("社区居委会", "社区"),
    ("居委会", "社区"),
    ("村委员会", "村"),
    ("村委会", "村"),
    ("委员会", ""),
)


def village_short_name(official: str) -> str:
    """``崇安社区居委会`` → ``崇安社区``, ``芦花村村民委员会`` → ``芦花村``."""
    for suffix, replacement in VILLAGE_SUFFIXES:
        if official.endswith(suffix):
            return official[: -len(suffix)] + replacement
    return official
