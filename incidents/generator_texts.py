"""Titles and descriptions for generated events, in the voices a city hears them in.

12345 hotline tickets in the third person ("市民来电反映：…"), grid workers' patrol notes, residents
typing on a phone, sensor and video-AI alarm text; with places, times, asks and the typos people
make. The phrase banks per 小类 are in incidents.generator_phrases.
"""

from __future__ import annotations

import functools
import random
from itertools import accumulate

from incidents.generator_phrases import PHRASES, SENSOR_ALARMS, VIDEO_ALARMS


def _items(text: str) -> list[str]:
    return text.split()


ROADS = _items(
    "人民路 解放路 中山路 建设大道 滨江路 文化路 学府路 新华街 和平路 长江路 黄河路 光明街 幸福路 南湖路 柳岸路 "
    "西岭大道 清河路 海湾路 港口大街 工业园路 体育路 健康路 东风路 胜利路 朝阳路 青年路 迎宾大道 环城北路 "
    "江南大道 河西路 新港三路 育才路 商业街 花园路 跃进路 望江路"
)
ESTATES = _items("阳光 锦绣 金色 翠苑 春江 绿城 丽景 和谐 枫林 桂花 紫荆 香樟 碧水 东方 世纪 康乐 滨湖 怡景")
ESTATE_KINDS = _items("小区 花园 新村 家园 公寓 苑 华庭 名都")
SPOTS = _items(
    "东门 西门 南门口 北侧 门口 对面 旁边 拐角处 十字路口 公交站旁 菜市场门口 学校门口 超市旁边 地铁站出口 "
    "停车场 3号楼下 12栋旁边 小区里面 沿街 桥下 河边 公园入口 幼儿园边上 医院对面 后门 底商前面 广场"
)
TIMES = _items(
    "今天早上 昨晚 昨天下午 这两天 最近一周 凌晨两点多 中午 傍晚 每天晚上 已经好几天了 刚才 上午9点左右 "
    "周末 这个月 一直以来 下班路上"
)
IMPACTS = _items(
    "影响居民出行 严重影响生活 存在安全隐患 很不方便 附近居民意见很大 影响市容 老人小孩经过很危险 "
    "大家都很担心 影响周边商户 已经反映过好几次"
)
ASKS = _items(
    "希望尽快处理 请相关部门核实处理 要求尽快解决 希望有关部门管一管 请派人来看看 诉求尽快整改 "
    "希望给个答复 麻烦尽快处理一下"
)
SURNAMES = _items("张 王 李 赵 刘 陈 杨 黄 周 吴 徐 孙 马 朱 胡 郭 何 林")
# Slips people make typing Chinese: homophones and wrong characters.
TYPOS = {
    "垃圾": "拉圾", "堆放": "推放", "积水": "急水", "路灯": "路登", "噪音": "躁音", "占道": "站道", "广告": "广吿",
    "渣土": "碴土", "施工": "施功", "油烟": "油咽", "破损": "坡损", "流浪": "流狼", "厕所": "侧所", "塌陷": "坍陷",
    "泄漏": "泄露", "消防栓": "消防拴", "信号灯": "信号登", "护栏": "护拦", "树枝": "树支", "摊贩": "滩贩",
    "井盖": "井gai", "红绿灯": "红绿等", "小区": "小去", "电动车": "电瓶车", "焚烧": "焚绕",
}  # fmt: skip


def _place(rng: random.Random) -> str:
    road = rng.choice(ROADS)
    estate = rng.choice(ESTATES) + rng.choice(ESTATE_KINDS)
    spot = rng.choice(SPOTS)
    options = (
        f"{road}{rng.randint(1, 999)}号{spot}",
        f"{estate}{spot}",
        f"{road}与{rng.choice(ROADS)}交叉口",
        f"{road}{spot}",
        f"{estate}",
        f"{road}{estate}{spot}",
        f"{road}",
    )
    return rng.choice(options)


def _typo(text: str, rng: random.Random) -> str:
    if rng.random() < 0.15:
        found = [w for w in TYPOS if w in text]
        if found:
            word = rng.choice(found)
            text = text.replace(word, TYPOS[word], 1)
    if rng.random() < 0.05 and len(text) > 8:  # a dropped character
        i = rng.randrange(len(text))
        text = text[:i] + text[i + 1 :]
    if rng.random() < 0.1:
        text = text.replace("，", " ").replace("。", "")
    return text


def _human(code: str, source: str, rng: random.Random) -> str:
    _titles, clauses = PHRASES[code]
    clause = rng.choice(clauses)
    if rng.random() < 0.3:  # two ways of saying it, as a caller repeats themselves
        clause = f"{clause}，{rng.choice(clauses)}"
    place, when = _place(rng), rng.choice(TIMES)
    impact, ask = rng.choice(IMPACTS), rng.choice(ASKS)
    if source == "hotline_12345":
        who = rng.choice(SURNAMES) + rng.choice(("先生", "女士", "阿姨", "师傅"))
        templates = (
            f"市民来电反映：{place}{clause}，{impact}，{ask}。",
            f"来电人称{when}{place}{clause}，{ask}。",
            f"{who}来电，反映{place}{clause}，{impact}。",
            f"市民反映{place}{when}{clause}，诉求：{ask}。",
            f"工单内容：{place}，{clause}。来电人{ask}。",
            f"12345转办：{place}{clause}，{impact}，{ask}。",
            f"市民来电：{when}在{place}发现{clause}，{ask}。",
        )
    elif source == "grid_worker":
        templates = (
            f"巡查发现{place}{clause}。",
            f"{place}{clause}，已拍照上报。",
            f"网格巡查：{place}，{clause}，需相关部门处置。",
            f"{when}巡查至{place}，发现{clause}，请派单处理。",
            f"{clause}（{place}）",
            f"日常巡查中发现{place}{clause}，现场已告知。",
        )
    else:  # a resident on a phone, an Open311 app
        templates = (
            f"我家楼下{clause}，{ask}",
            f"{place}{clause}！！有没有人管",
            f"在{place}看到{clause}，{impact}",
            f"{when}路过{place}，{clause}，{ask}",
            f"{clause}",
            f"{place}，{clause}，{impact}，{ask}",
        )
    return _typo(rng.choice(templates), rng)


def _device(code: str, source: str, rng: random.Random) -> str:
    place = _place(rng)
    if source == "sensor":
        alarm = rng.choice(SENSOR_ALARMS[code]).format(n=rng.randint(5, 95))
        return rng.choice(
            (
                f"【物联感知】{place}{alarm}",
                f"设备编号{rng.randint(10000, 99999)}（{place}）：{alarm}，请核实",
                f"{alarm}。位置：{place}",
            )
        )
    alarm = rng.choice(VIDEO_ALARMS[code])
    return rng.choice(
        (
            f"视频AI告警：{place}摄像头{alarm}，置信度0.{rng.randint(70, 99)}",
            f"【智能识别】点位{place}，{alarm}，抓拍时间{rng.randint(0, 23):02d}:{rng.randint(0, 59):02d}",
            f"AI巡检{alarm}（{place}）",
        )
    )


@functools.cache
def _cumulative_sources(code: str) -> tuple[list[str], list[int]]:
    sources, weights = sources_for(code)
    return sources, list(accumulate(weights))


def sources_for(code: str) -> tuple[list[str], list[int]]:
    """The channels an event of this 小类 arrives by, with weights."""
    sources, weights = ["hotline_12345", "grid_worker", "other"], [45, 35, 8]
    if code in SENSOR_ALARMS:
        sources.append("sensor")
        weights.append(10)
    if code in VIDEO_ALARMS:
        sources.append("video_ai")
        weights.append(10)
    return sources, weights


def event_text(code: str, rng: random.Random) -> tuple[str, str, str]:
    """(source, title, description) for one generated event of 小类 `code`."""
    sources, cumulative = _cumulative_sources(code)
    source = rng.choices(sources, cum_weights=cumulative)[0]  # the same draw as with plain weights
    titles, clauses = PHRASES[code]
    if source in ("sensor", "video_ai"):
        description = _device(code, source, rng)
        title = description.split("：", 1)[-1][:40]
    else:
        description = _human(code, source, rng)
        r = rng.random()
        if r < 0.5:
            title = rng.choice(titles)
        elif r < 0.8:
            title = rng.choice(clauses).split("，")[0][:30]
        else:
            title = rng.choice(ROADS) + rng.choice(titles)
        title = _typo(title, rng)
    return source, title[:120], description[:4000]
