"""Prompt understanding: what an English or Chinese prompt states, as a ``PromptInfo``.

No model and no download: a curated bilingual vocabulary (data tables below) and a few
precompiled patterns for numbers with units. The parser reads in three steps:

1. *Patterns* claim numbers with units and key names, most specific first: time signatures
   ("3/4", "四三拍"), tempos ("120 bpm", "每分钟120拍"), durations ("2:30", "1分30秒",
   "two minutes"), keys ("B flat major", "降B大调", "key of D", "in G").
2. *Vocabulary* reads what is left: English words (longest phrase first, plurals folded) and
   runs of Chinese characters (longest entry first) become genres, moods, instruments, tempo
   words and meters.
3. *Resolution* walks the claims in the order of the prompt. The first value stated for a
   single-valued field (tempo, tempo words, key, duration, time signature) wins; a later
   *different* value has no effect and is reported in ``ignored``. The genre is the candidate of
   the highest tier (see ``GENRE_WORDS``), the earliest on a tie, so that "lo-fi hip hop" is
   lo-fi by rule rather than by accident of order.

``used`` lists the phrases that had an effect, spelled as in the prompt. ``ignored`` lists the
rest: unknown English words lower-cased, unknown runs of Chinese characters as written, and
recognised phrases that had no effect as written ("7/4", a second tempo). Stop words ("a",
"the", "song", "的", "音乐" ...) are filler and go to neither list; punctuation, symbols and emoji
are dropped. Values are reported as stated, never clamped: ``build_spec`` validates them and
raises a clear error, so "1000 bpm" gives ``tempo == 1000.0``.

Every pattern is bounded and anchored by a look-behind, so a 100 kB prompt parses in linear time.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any, Final, NamedTuple

from overture.errors import InvalidInputError
from overture.spec import PromptInfo
from overture.theory import parse_key, parse_time_signature

__all__ = [
    "BROAD",
    "GENRE",
    "GENRE_WORDS",
    "HINT",
    "INSTRUMENT_WORDS",
    "METER_WORDS",
    "MOOD_WORDS",
    "SPECIFIC",
    "STOP_WORDS",
    "TEMPO_WORDS",
    "parse_prompt",
]

# --------------------------------------------------------------------------------------------
# Vocabulary. Keys of the inner tables are written naturally ("lo-fi", "drum & bass", "古筝");
# English phrases are matched on words, so "lo-fi", "lo fi" and "Lo-Fi" are the same phrase.
# --------------------------------------------------------------------------------------------

# Genre tiers: when a prompt names several genres, the highest tier wins (earliest on a tie).
HINT: Final = 0  # a word that suggests a genre only when nothing else does ("swing")
BROAD: Final = 10  # umbrella or adjective words ("electronic", "latin", "funky", "trailer")
GENRE: Final = 20  # a genre proper ("pop", "rock", "hip hop", "jazz")
SPECIFIC: Final = 30  # a sub-genre or a form that refines a genre ("lo-fi", "ballad", "trap")

# The tables are kept compact by hand, one canonical entry per line or two.
# fmt: off
GENRE_WORDS: Final[dict[str, dict[int, tuple[str, ...]]]] = {
    "pop": {
        GENRE: ("pop", "pop music", "k-pop", "j-pop", "c-pop", "kpop", "jpop", "cpop",
                "synth pop", "synthpop", "流行", "流行乐", "流行音乐"),
    },
    "ballad": {SPECIFIC: ("ballad", "power ballad", "抒情", "情歌", "抒情歌")},
    "rock": {
        GENRE: ("rock", "hard rock", "soft rock", "classic rock", "indie rock", "alt rock",
                "alternative rock", "pop rock", "punk", "pop punk", "grunge", "rockabilly",
                "rock and roll", "rock n roll", "rock'n'roll", "rock & roll",
                "摇滚", "硬摇滚", "朋克"),
    },
    "metal": {
        SPECIFIC: ("metal", "heavy metal", "metalcore", "thrash", "thrash metal", "death metal",
                   "black metal", "nu metal", "djent", "金属", "重金属"),
    },
    "edm": {
        GENRE: ("edm", "house", "deep house", "techno", "trance", "dubstep", "electro",
                "big room", "future bass", "电音", "电子舞曲", "浩室"),
        BROAD: ("electronic", "electronica", "dance", "drop", "club", "rave", "电子", "舞曲"),
    },
    "drum and bass": {
        SPECIFIC: ("drum and bass", "drum & bass", "drum n bass", "drum'n'bass", "drumnbass",
                   "dnb", "d&b", "d'n'b", "jungle", "鼓打贝斯", "鼓贝"),
    },
    "synthwave": {
        SPECIFIC: ("synthwave", "synth wave", "retrowave", "outrun", "darksynth", "vaporwave",
                   "80s synth", "80s synths", "合成器浪潮"),
    },
    "hip hop": {
        GENRE: ("hip hop", "hiphop", "rap", "boom bap", "boombap", "嘻哈", "说唱"),
    },
    "trap": {SPECIFIC: ("trap", "drill", "陷阱")},
    "lo-fi": {SPECIFIC: ("lo-fi", "lofi", "chillhop", "低保真")},
    "jazz": {
        GENRE: ("jazz", "bebop", "big band", "爵士", "爵士乐"),
        BROAD: ("jazzy", "jazz guitar", "jazz drums", "爵士吉他"),
        HINT: ("swing", "摇摆"),
    },
    "blues": {GENRE: ("blues", "布鲁斯", "蓝调"), BROAD: ("bluesy",)},
    "funk": {SPECIFIC: ("funk", "disco", "放克", "迪斯科"), BROAD: ("funky",)},
    "r&b": {
        GENRE: ("r&b", "rnb", "r'n'b", "r and b", "rhythm and blues", "soul", "neo soul",
                "motown", "节奏布鲁斯", "灵魂乐"),
        BROAD: ("soulful",),
    },
    "country": {
        GENRE: ("country", "bluegrass", "honky tonk", "americana", "乡村", "乡村音乐"),
    },
    "folk": {
        GENRE: ("folk", "acoustic folk", "singer songwriter", "celtic", "民谣", "民歌"),
    },
    "reggae": {SPECIFIC: ("reggae", "ska", "dub", "雷鬼")},
    "salsa": {SPECIFIC: ("salsa", "mambo", "萨尔萨"), BROAD: ("latin", "拉丁")},
    "bossa nova": {
        SPECIFIC: ("bossa nova", "bossa", "bossanova", "samba", "波萨诺瓦", "巴萨诺瓦"),
    },
    "tango": {SPECIFIC: ("tango", "探戈")},
    "classical": {
        GENRE: ("classical", "baroque", "chamber music", "sonata", "concerto",
                "古典", "古典音乐", "巴洛克"),
    },
    "orchestral": {
        SPECIFIC: ("orchestral", "orchestra", "symphonic", "symphony", "philharmonic",
                   "管弦", "管弦乐", "交响", "交响乐"),
    },
    "cinematic": {
        GENRE: ("cinematic", "film score", "movie score", "soundtrack", "电影配乐", "影视"),
        BROAD: ("trailer", "underscore", "horror", "film", "movie", "ost",
                "电影", "配乐", "预告片", "恐怖"),
    },
    "ambient": {
        GENRE: ("ambient", "new age", "soundscape", "氛围", "环境音乐"),
        BROAD: ("drone", "meditation", "meditative", "冥想"),
    },
    "chiptune": {
        SPECIFIC: ("chiptune", "chip tune", "chip", "8-bit", "8bit", "16-bit", "16bit", "bitpop",
                   "芯片", "芯片音乐", "8位", "8比特"),
    },
    "chinese-traditional": {
        SPECIFIC: ("chinese traditional", "traditional chinese", "chinese folk", "chinese style",
                   "guofeng", "gufeng", "国风", "中国风", "古风", "民乐", "民族乐"),
        BROAD: ("chinese",),
    },
}

# Canonical mood -> words. A word may sit under two moods ("轻快" is cheerful and upbeat).
MOOD_WORDS: Final[dict[str, tuple[str, ...]]] = {
    "happy": ("happy", "joyful", "joyous", "glad", "快乐", "开心", "高兴", "欢乐", "喜悦", "愉快",
              "幸福"),
    "cheerful": ("cheerful", "cheery", "merry", "jolly", "欢快", "轻快"),
    "upbeat": ("upbeat", "lively", "peppy", "轻快", "动感", "明快"),
    "energetic": ("energetic", "energized", "high energy", "high-energy", "powerful", "intense",
                  "pumping", "激昂", "激情", "热血", "有力", "活力", "澎湃"),
    "calm": ("calm", "calming", "serene", "tranquil", "quiet", "soothing", "平静", "宁静",
             "安静", "沉静"),
    "peaceful": ("peaceful", "安详", "祥和", "平和"),
    "relaxed": ("relaxed", "relaxing", "laid back", "laidback", "easygoing", "mellow", "放松",
                "轻松", "悠闲", "慵懒"),
    "chill": ("chill", "chilled", "chillout", "chill out"),
    "sad": ("sad", "sorrowful", "mournful", "tearful", "heartbroken", "heartbreaking", "tragic",
            "伤感", "悲伤", "难过", "哀伤", "悲情"),
    "melancholic": ("melancholic", "melancholy", "wistful", "somber", "sombre", "bittersweet",
                    "忧郁", "忧伤", "惆怅"),
    "dreamy": ("dreamy", "dreamlike", "ethereal", "hazy", "floating", "梦幻", "空灵", "飘渺",
               "缥缈"),
    "dark": ("dark", "ominous", "sinister", "brooding", "gloomy", "spooky", "creepy", "黑暗",
             "阴暗", "暗黑", "阴郁", "诡异"),
    "epic": ("epic", "heroic", "grand", "majestic", "triumphant", "史诗", "史诗般", "宏大",
             "壮丽", "恢弘", "磅礴", "大气"),
    "romantic": ("romantic", "love", "loving", "tender", "sweet", "浪漫", "爱情", "甜蜜"),
    "aggressive": ("aggressive", "angry", "fierce", "furious", "brutal", "愤怒", "激烈", "狂暴"),
    "suspenseful": ("suspenseful", "suspense", "eerie", "thriller", "悬疑", "惊悚"),
    "mysterious": ("mysterious", "mystical", "mystery", "神秘"),
    "playful": ("playful", "whimsical", "quirky", "fun", "funny", "silly", "bouncy", "cute",
                "俏皮", "调皮", "可爱", "活泼"),
    "bright": ("bright", "sunny", "uplifting", "明亮", "阳光"),
    "tense": ("tense", "anxious", "nervous", "urgent", "紧张", "焦虑", "紧迫"),
    "nostalgic": ("nostalgic", "nostalgia", "retro", "vintage", "怀旧", "复古"),
    "smooth": ("smooth", "silky", "丝滑", "顺滑"),
    "warm": ("warm", "cozy", "cosy", "温暖", "温馨"),
    "hopeful": ("hopeful", "inspiring", "inspirational", "希望", "励志", "鼓舞"),
    "gentle": ("gentle", "soft", "温柔", "柔和", "轻柔"),
    "lonely": ("lonely", "solitary", "孤独", "寂寞"),
    "groovy": ("groovy", "groove", "律动"),
}

# Canonical instrument (a key of overture.instruments.INSTRUMENTS) -> words. Plurals of English
# words are folded ("guitars", "basses"), so only irregular ones are listed.
INSTRUMENT_WORDS: Final[dict[str, tuple[str, ...]]] = {
    "piano": ("piano", "grand piano", "acoustic piano", "keys", "keyboard", "钢琴", "鋼琴"),
    "bright piano": ("bright piano",),
    "electric piano": ("electric piano", "e-piano", "epiano", "rhodes", "wurlitzer", "wurli",
                       "电钢琴", "电钢"),
    "harpsichord": ("harpsichord", "大键琴", "羽管键琴"),
    "celesta": ("celesta", "celeste", "钢片琴"),
    "glockenspiel": ("glockenspiel", "bell", "bells", "chimes", "钟琴", "铃铛"),
    "music box": ("music box", "musicbox", "八音盒", "音乐盒"),
    "vibraphone": ("vibraphone", "颤音琴"),
    "marimba": ("marimba", "xylophone", "马林巴", "木琴"),
    "organ": ("organ", "hammond", "hammond organ", "风琴", "电风琴"),
    "rock organ": ("rock organ",),
    "church organ": ("church organ", "pipe organ", "管风琴"),
    "accordion": ("accordion", "手风琴"),
    "harmonica": ("harmonica", "口琴"),
    "bandoneon": ("bandoneon", "班多钮", "班多钮手风琴"),
    "nylon guitar": ("nylon guitar", "nylon string guitar", "classical guitar", "spanish guitar",
                     "flamenco guitar", "古典吉他", "尼龙吉他", "尼龙弦吉他"),
    "acoustic guitar": ("guitar", "acoustic guitar", "steel string guitar", "吉他", "木吉他",
                        "民谣吉他", "原声吉他"),
    "jazz guitar": ("jazz guitar", "archtop", "爵士吉他"),
    "clean guitar": ("electric guitar", "clean guitar", "clean electric guitar", "电吉他"),
    "muted guitar": ("muted guitar", "palm muted guitar"),
    "overdriven guitar": ("overdriven guitar", "overdrive guitar", "crunchy guitar",
                          "crunch guitar"),
    "distortion guitar": ("distortion guitar", "distorted guitar", "distorted electric guitar",
                          "heavy guitar", "失真吉他"),
    "acoustic bass": ("acoustic bass", "upright bass", "原声贝斯"),
    "electric bass": ("bass", "bass guitar", "electric bass", "贝斯", "贝司", "电贝斯", "低音吉他"),
    "picked bass": ("picked bass",),
    "fretless bass": ("fretless bass", "fretless", "无品贝斯"),
    "slap bass": ("slap bass", "slapped bass", "slap"),
    "synth bass": ("synth bass", "808", "808 bass", "sub bass", "bass synth", "合成器贝斯"),
    "violin": ("violin", "小提琴"),
    "viola": ("viola", "中提琴"),
    "cello": ("cello", "violoncello", "大提琴"),
    "contrabass": ("contrabass", "double bass", "低音提琴"),
    "tremolo strings": ("tremolo strings", "string tremolo", "颤音弦乐"),
    "pizzicato strings": ("pizzicato", "pizzicato strings", "拨弦"),
    "harp": ("harp", "竖琴"),
    "timpani": ("timpani", "kettle drum", "定音鼓"),
    "strings": ("strings", "string section", "string ensemble", "string orchestra",
                "string quartet", "弦乐", "弦乐团", "弦乐队", "弦乐四重奏"),
    "slow strings": ("slow strings",),
    "synth strings": ("synth strings", "string synth", "合成弦乐"),
    "choir": ("choir", "choral", "voices", "合唱", "合唱团", "唱诗班"),
    "voice": ("voice", "vocal", "vocals", "singer", "singing", "人声", "歌声", "哼唱"),
    "orchestra hit": ("orchestra hit", "orchestral hit"),
    "trumpet": ("trumpet", "小号"),
    "trombone": ("trombone", "长号"),
    "tuba": ("tuba", "大号"),
    "muted trumpet": ("muted trumpet", "弱音小号"),
    "french horn": ("french horn", "horn", "圆号"),
    "brass": ("brass", "brass section", "horns", "horn section", "铜管", "铜管乐"),
    "synth brass": ("synth brass",),
    "soprano sax": ("soprano sax", "soprano saxophone", "高音萨克斯"),
    "alto sax": ("alto sax", "alto saxophone", "中音萨克斯"),
    "tenor sax": ("sax", "saxophone", "tenor sax", "tenor saxophone", "萨克斯", "萨克斯风",
                  "萨克斯管", "次中音萨克斯"),
    "baritone sax": ("baritone sax", "bari sax", "baritone saxophone", "上低音萨克斯"),
    "oboe": ("oboe", "双簧管"),
    "english horn": ("english horn", "cor anglais", "英国管"),
    "bassoon": ("bassoon", "巴松", "大管"),
    "clarinet": ("clarinet", "单簧管", "黑管"),
    "piccolo": ("piccolo", "短笛"),
    "flute": ("flute", "长笛"),
    "recorder": ("recorder", "竖笛"),
    "pan flute": ("pan flute", "panflute", "panpipes", "pan pipes", "排箫"),
    "shakuhachi": ("shakuhachi", "尺八"),
    "whistle": ("whistle", "tin whistle", "whistling", "口哨"),
    "ocarina": ("ocarina", "陶笛"),
    "square lead": ("square lead", "square wave", "square synth", "方波"),
    "saw lead": ("saw lead", "sawtooth", "saw synth", "supersaw", "锯齿波"),
    "synth lead": ("synth", "synth lead", "lead synth", "synthesizer", "synthesiser", "合成器"),
    "warm pad": ("warm pad",),
    "synth pad": ("pad", "synth pad", "铺底"),
    "choir pad": ("choir pad", "vocal pad"),
    "halo pad": ("halo pad",),
    "sweep pad": ("sweep pad",),
    "sitar": ("sitar", "西塔琴"),
    "banjo": ("banjo", "班卓琴"),
    "shamisen": ("shamisen", "三味线"),
    "koto": ("koto", "日本筝"),
    "kalimba": ("kalimba", "thumb piano", "mbira", "卡林巴", "拇指琴"),
    "bagpipe": ("bagpipe", "风笛"),
    "fiddle": ("fiddle",),
    "shanai": ("shanai", "shehnai"),
    "steel drums": ("steel drums", "steel drum", "steel pan", "steelpan", "钢鼓"),
    "guzheng": ("guzheng", "zheng", "chinese zither", "古筝"),
    "erhu": ("erhu", "二胡"),
    "dizi": ("dizi", "bamboo flute", "笛子", "竹笛"),
    "pipa": ("pipa", "琵琶"),
    # 爵士鼓 ("jazz drum") is the everyday Chinese name of any drum kit.
    "drums": ("drums", "drum", "drum kit", "drumkit", "drum set", "鼓", "架子鼓", "鼓组", "爵士鼓"),
    "jazz drums": ("jazz drums",),
    "electronic drums": ("electronic drums", "drum machine", "808 drums", "电子鼓"),
    "brush drums": ("brush drums", "brushes", "brushed drums"),
    "orchestral percussion": ("orchestral percussion", "percussion", "打击乐"),
}

# Tempo words -> a range in bpm, which build_spec picks from with the seed.
TEMPO_WORDS: Final[dict[str, tuple[float, float]]] = {
    "very slow": (40, 60), "slow": (60, 80), "slowly": (60, 80),
    "moderate": (90, 115), "moderately": (90, 115), "medium tempo": (90, 115),
    "mid tempo": (90, 115), "midtempo": (90, 115),
    "fast": (130, 160), "quick": (130, 160), "very fast": (160, 200),
    "uptempo": (120, 140), "up tempo": (120, 140), "downtempo": (70, 95), "down tempo": (70, 95),
    "largo": (40, 60), "lento": (45, 60), "larghetto": (60, 66), "adagio": (66, 76),
    "andante": (76, 108), "moderato": (108, 120), "allegretto": (112, 120),
    "allegro": (120, 156), "vivace": (156, 176), "presto": (168, 200),
    "prestissimo": (200, 240),
    "慢板": (50, 70), "慢": (60, 80), "慢速": (60, 80), "缓慢": (60, 80), "很慢": (40, 60),
    "非常慢": (40, 60), "广板": (40, 60), "柔板": (66, 76), "行板": (76, 108),
    "中速": (90, 115), "中板": (90, 115), "快板": (120, 156), "快": (130, 160),
    "快速": (130, 160), "很快": (160, 200), "非常快": (160, 200), "急板": (168, 200),
}

# Words that imply a metre (the genre is left to other words: a waltz can be pop or classical).
METER_WORDS: Final[dict[str, str]] = {
    "waltz": "3/4", "华尔兹": "3/4", "圆舞曲": "3/4", "jig": "6/8",
}

# Filler: understood as carrying no request, so in neither ``used`` nor ``ignored``.
STOP_WORDS: Final[frozenset[str]] = frozenset({
    "a", "an", "the", "in", "on", "at", "with", "without", "for", "of", "and", "or", "to", "by",
    "from", "into", "some", "&", "song", "songs", "music", "musical", "track", "tracks", "tune",
    "tunes", "beat", "beats", "piece", "composition", "instrumental", "bgm", "please", "make",
    "create", "generate", "write", "compose", "give", "me", "i", "want", "would", "like",
    "about", "that", "this", "is", "it", "its", "my", "our", "very", "really", "quite", "style",
    "vibe", "vibes", "feel", "feeling", "sound", "sounding", "type", "kind", "long", "length",
    "duration", "using", "featuring", "feat", "ft", "plus", "just", "also", "as", "mood",
    "tempo", "key", "time", "signature",
    "的", "地", "了", "和", "与", "跟", "及", "或", "首", "一首", "一段", "段", "一个", "个",
    "歌曲", "歌", "曲子", "曲", "乐曲", "音乐", "背景音乐", "旋律", "风格", "风", "感觉", "带",
    "带有", "有", "用", "使用", "加", "加上", "请", "帮我", "给我", "我", "想要", "要", "来",
    "写", "生成", "做", "制作", "创作", "在", "是", "长", "时长", "长度", "左右", "大约", "约",
    "节奏", "伴奏", "很", "非常", "一点", "适合", "速度", "每分钟",
})

# Numbers that name gear, not durations: "808s" is a drum machine, not 808 seconds.
_GEAR_NUMBERS: Final = frozenset({"808", "909"})

_EN_NUMBERS: Final[dict[str, int]] = {
    "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "fourteen": 14,
    "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18, "nineteen": 19,
    "twenty": 20, "thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70,
    "eighty": 80, "ninety": 90, "a": 1, "an": 1,
}
_CN_DIGITS: Final[dict[str, int]] = {
    "零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7,
    "八": 8, "九": 9,
}
_CN_UNITS: Final[dict[str, int]] = {"十": 10, "百": 100, "千": 1000}
# Small numerals of Chinese metre names ("四三拍", "四分之三拍", "三拍子").
_CN_SMALL: Final[dict[str, int]] = {
    "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十二": 12,
}
_ACCIDENTALS: Final[dict[str, str]] = {
    "#": "#", "♯": "#", "sharp": "#", "升": "#", "b": "b", "♭": "b", "flat": "b", "降": "b",
}
# fmt: on

# --------------------------------------------------------------------------------------------
# The vocabulary index, built once at import.
# --------------------------------------------------------------------------------------------

_HAN_CLASS: Final = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002ebef"
_HAN_RE: Final = re.compile(f"[{_HAN_CLASS}]")
# Tokens of the text left over by the patterns: runs of Chinese characters, words of any other
# script (apostrophes and "&" may join parts: "rock'n'roll", "r&b"), or a lone "&".
_TOKEN_RE: Final = re.compile(
    rf"(?P<han>[{_HAN_CLASS}]+)"
    rf"|(?P<word>[^\W_{_HAN_CLASS}]+(?:['’&][^\W_{_HAN_CLASS}]+)*)"
    r"|(?P<amp>&)"
)
# What may separate the words of one phrase: "lo-fi", "hip hop", "drum & bass".
_PHRASE_GAP_RE: Final = re.compile(r"[\s\-‐‑–_]{1,4}")
# Full-width ASCII and the ideographic space, mapped one character to one (offsets survive).
_FULLWIDTH: Final = {0xFF01 + i: 0x21 + i for i in range(94)} | {0x3000: 0x20}


@dataclass(frozen=True, slots=True)
class _Effect:
    """One thing a phrase says. ``field`` names a ``PromptInfo`` field, or "stop"/"reject"."""

    field: str
    value: Any = None
    tier: int = 0


class _Hit(NamedTuple):
    """A claimed stretch of the prompt; no effects means a word that was not understood."""

    start: int
    end: int
    effects: tuple[_Effect, ...] = ()


_STOP: Final = (_Effect("stop"),)
_REJECT: Final = (_Effect("reject"),)


def _phrase_key(phrase: str) -> str:
    """The lookup form of an English phrase: lower-case words joined by single spaces."""
    return " ".join(m.group().lower().replace("’", "'") for m in _TOKEN_RE.finditer(phrase))


def _vocabulary_effects() -> Iterable[tuple[str, _Effect]]:
    for genre, tiers in GENRE_WORDS.items():
        for tier, words in tiers.items():
            yield from ((w, _Effect("genre", genre, tier)) for w in words)
    for mood, words in MOOD_WORDS.items():
        yield from ((w, _Effect("moods", mood)) for w in words)
    for name, words in INSTRUMENT_WORDS.items():
        yield from ((w, _Effect("instruments", name)) for w in words)
    for word, span in TEMPO_WORDS.items():
        yield word, _Effect("tempo_range", (float(span[0]), float(span[1])))
    for word, meter in METER_WORDS.items():
        yield word, _Effect("time_signature", parse_time_signature(meter))
    for word in STOP_WORDS:
        yield word, _STOP[0]


def _build_index() -> tuple[dict[str, tuple[_Effect, ...]], dict[str, tuple[_Effect, ...]]]:
    """Split the vocabulary into English phrases (by words) and Chinese/mixed entries (by text).

    A phrase listed in several tables carries all their effects ("jazz guitar" could name an
    instrument and hint a genre); a stop word listed elsewhere too loses its stop effect.
    """
    latin: dict[str, list[_Effect]] = {}
    han: dict[str, list[_Effect]] = {}
    for phrase, effect in _vocabulary_effects():
        if _HAN_RE.search(phrase):
            bucket = han.setdefault(phrase.lower(), [])
        else:
            bucket = latin.setdefault(_phrase_key(phrase), [])
        if effect not in bucket:
            bucket.append(effect)

    def finish(table: dict[str, list[_Effect]]) -> dict[str, tuple[_Effect, ...]]:
        out = {}
        for key, effects in table.items():
            real = [e for e in effects if e.field != "stop"]
            out[key] = tuple(real) if real else _STOP
        return out

    return finish(latin), finish(han)


_LATIN, _HAN_WORDS = _build_index()
_LATIN_MAX_WORDS: Final = max(k.count(" ") + 1 for k in _LATIN)
# First words of multi-word phrases: only these need a look at the words that follow.
_PHRASE_STARTS: Final = frozenset(k.split(" ", 1)[0] for k in _LATIN if " " in k)
# Entries that mix scripts ("8位") cannot be found inside a run of Chinese characters alone.
_MIXED: Final = {k: v for k, v in _HAN_WORDS.items() if not _HAN_RE.fullmatch(k[0])}
_HAN_ONLY: Final = {k: v for k, v in _HAN_WORDS.items() if k not in _MIXED}
_HAN_MAX_CHARS: Final = max(len(k) for k in _HAN_ONLY)


def _lookup_words(key: str) -> tuple[_Effect, ...] | None:
    """Vocabulary effects of an English phrase, folding a regular plural ("guitars")."""
    found = _LATIN.get(key)
    if found is None and len(key) > 3 and key.endswith("s"):
        found = _LATIN.get(key[:-2]) if key.endswith("es") else None
        found = found or _LATIN.get(key[:-1])
    return found


# --------------------------------------------------------------------------------------------
# Numbers.
# --------------------------------------------------------------------------------------------

_CN_NUM_CHARS: Final = "".join(_CN_DIGITS) + "".join(_CN_UNITS)
_DIGITS: Final = r"[0-9]+(?:\.[0-9]+)?"
_EN_WORD_NUM: Final = (
    r"(?:(?:twenty|thirty|forty|fifty|sixty|seventy|eighty|ninety)"
    r"(?:[\s-](?:one|two|three|four|five|six|seven|eight|nine)(?![A-Za-z]))?"
    r"|eleven|twelve|thirteen|fourteen|fifteen|sixteen|seventeen|eighteen|nineteen"
    r"|one|two|three|four|five|six|seven|eight|nine|ten)(?![A-Za-z])"
)
# A number that starts where a word starts (look-behind), in digits or English words ...
# (The look-ahead on the first character lets the regex engine skip most positions quickly.)
_NUM_EN: Final = rf"(?<![A-Za-z0-9_.])(?=[0-9efnostw])(?:{_DIGITS}|{_EN_WORD_NUM})"
# ... the same with "a"/"an", which count as one only before a minute or an hour.
_NUM_EN_A: Final = (
    rf"(?<![A-Za-z0-9_.])(?=[0-9aefnostw])(?:{_DIGITS}|{_EN_WORD_NUM}|an?(?![A-Za-z]))"
)
# ... or in digits or Chinese numerals (bounded, so a long run of numerals stays cheap).
_NUM_CN_BARE: Final = rf"(?:{_DIGITS}|[{_CN_NUM_CHARS}]{{1,12}})"
_NUM_CN: Final = rf"(?<![A-Za-z0-9_.{_CN_NUM_CHARS}])(?=[0-9{_CN_NUM_CHARS}]){_NUM_CN_BARE}"


def _cn_number(text: str) -> float:
    """Value of a Chinese numeral: "十五" 15, "二十" 20, "一百二十" 120, "一二〇" 120."""
    if not any(ch in _CN_UNITS for ch in text):
        return float("".join(str(_CN_DIGITS[ch]) for ch in text))
    total = current = 0
    for ch in text:
        if ch in _CN_UNITS:
            total += (current or 1) * _CN_UNITS[ch]
            current = 0
        else:
            current = current * 10 + _CN_DIGITS[ch]
    return float(total + current)


def _number(text: str) -> float | None:
    """Value of a number in digits, English words or Chinese numerals; None if not finite."""
    text = text.strip().lower()
    if text[:1].isdigit():
        value = float(text)
    elif text[:1] in _CN_DIGITS or text[:1] in _CN_UNITS:
        value = _cn_number(text)
    else:
        value = float(sum(_EN_NUMBERS[w] for w in re.split(r"[\s-]+", text) if w))
    return value if math.isfinite(value) else None


# --------------------------------------------------------------------------------------------
# Rules: a pattern and its handler, in priority order. A handler turns a match into effects,
# or returns None to leave the text to later rules and to the vocabulary.
# --------------------------------------------------------------------------------------------

Handler = Callable[[re.Match[str]], tuple[_Effect, ...] | None]


def _scalar(name: str, value: Any) -> tuple[_Effect, ...]:
    return (_Effect(name, value),)


@lru_cache(maxsize=256)
def _meter(numerator: str, denominator: str) -> tuple[_Effect, ...]:
    """A time signature effect, or a rejection for one the engine does not support ("7/4")."""
    try:
        return _scalar("time_signature", parse_time_signature(f"{numerator}/{denominator}"))
    except InvalidInputError:
        return _REJECT


def _on_meter(m: re.Match[str]) -> tuple[_Effect, ...]:
    return _meter(m["n"], m["d"])


def _on_cn_fraction_meter(m: re.Match[str]) -> tuple[_Effect, ...]:
    """Read "四分之三拍" and "四三拍", which name the denominator first."""
    return _meter(str(_CN_SMALL[m["n"]]), str(_CN_SMALL[m["d"]]))


def _on_cn_beats_meter(m: re.Match[str]) -> tuple[_Effect, ...]:
    """Read "三拍子", a count of beats in a bar: up to five quarters, beyond that eighths."""
    beats = _CN_SMALL.get(m["n"]) or int(m["n"])
    return _meter(str(beats), "4" if beats <= 5 else "8")


def _on_tempo(m: re.Match[str]) -> tuple[_Effect, ...]:
    value = _number(m["n"])
    return _REJECT if value is None else _scalar("tempo", value)


def _on_cn_beats(m: re.Match[str]) -> tuple[_Effect, ...] | None:
    """Read "120拍" as a tempo; a Chinese numeral needs a unit ("一百二十拍"): "四三拍" is 3/4."""
    if not m["n"][0].isdigit() and not any(ch in _CN_UNITS for ch in m["n"]):
        return None
    return _on_tempo(m)


def _seconds(value: float | None, scale: float = 1.0, extra: float = 0.0) -> tuple[_Effect, ...]:
    return _REJECT if value is None else _scalar("duration", value * scale + extra)


def _on_clock(m: re.Match[str]) -> tuple[_Effect, ...]:
    return _seconds(float(m["m"]), 60.0, float(m["s"]))


def _on_min_sec(m: re.Match[str]) -> tuple[_Effect, ...]:
    minutes, seconds = _number(m["m"]), _number(m["s"])
    return _REJECT if minutes is None or seconds is None else _seconds(minutes, 60.0, seconds)


def _half(m: re.Match[str]) -> bool:
    """Whether a duration says "and a half" (before or after its unit) or "半"."""
    groups = m.groupdict()
    return bool(groups.get("half") or groups.get("half2"))


def _on_minutes(m: re.Match[str]) -> tuple[_Effect, ...]:
    return _seconds(_number(m["n"]), 60.0, 30.0 if _half(m) else 0.0)


def _on_hours(m: re.Match[str]) -> tuple[_Effect, ...]:
    return _seconds(_number(m["n"]), 3600.0, 1800.0 if _half(m) else 0.0)


def _on_seconds(m: re.Match[str]) -> tuple[_Effect, ...]:
    return _seconds(_number(m["n"]))


def _on_half_minute(m: re.Match[str]) -> tuple[_Effect, ...]:
    return _seconds(30.0)


def _on_half_hour(m: re.Match[str]) -> tuple[_Effect, ...]:
    return _seconds(1800.0)


def _on_bare_seconds(m: re.Match[str]) -> tuple[_Effect, ...] | None:
    """Read "90s" as 90 seconds, but not "808s" (gear) nor "80s synth", "the 90s" (decades)."""
    number = m["n"]
    if number in _GEAR_NUMBERS:
        return None
    decade = not m["space"] and _DECADE_RE.fullmatch(number)
    if decade and (len(number) == 4 or _is_decade_context(m.string, m.start(), m.end())):
        return None
    return _on_seconds(m)


_DECADE_RE: Final = re.compile(r"(?:19|20)?[0-9]0")
_THE_BEFORE_RE: Final = re.compile(r"(?<![a-z])the\s+$")


def _is_decade_context(text: str, start: int, end: int) -> bool:
    """True when "NNs" reads as a decade: after "the" or an apostrophe, or before a style word."""
    before = text[max(0, start - 5) : start].lower()
    if before.endswith(("'", "’")) or _THE_BEFORE_RE.search(before):
        return True
    following = [t.group().lower() for t in _TOKEN_RE.finditer(text, end, min(len(text), end + 48))]
    for n in range(min(3, len(following)), 0, -1):
        effects = _lookup_words(" ".join(following[:n]))
        if effects and effects is not _STOP:
            return True
    return False


@lru_cache(maxsize=256)
def _key_effect(letter: str, accidental: str | None, mode: str | None) -> tuple[_Effect, ...]:
    """Build the "Bb major" form ``parse_key`` reads from the parts a pattern found."""
    acc = _ACCIDENTALS.get(_SPACES_RE.sub("", accidental or "").lower().strip("-"), "")
    minor = (mode or "").lower() in {"minor", "min", "m", "小调", "小調"}
    try:
        return _scalar("key", parse_key(f"{letter.upper()}{acc} {'minor' if minor else 'major'}"))
    except InvalidInputError:
        return _REJECT


def _on_key(m: re.Match[str]) -> tuple[_Effect, ...]:
    groups = m.groupdict()
    return _key_effect(m["l"], groups.get("acc") or groups.get("pre"), groups.get("mode"))


def _on_in_key(m: re.Match[str]) -> tuple[_Effect, ...] | None:
    """Read "in G" as a key; in "in A dreamy forest" A is an article, so a bare A ends a phrase."""
    if m["l"] == "A" and not m["acc"]:
        rest = m.string[m.end() : m.end() + 8].lstrip()
        if rest[:1].isalpha():
            return None
    return _on_key(m)


def _on_mixed_word(m: re.Match[str]) -> tuple[_Effect, ...]:
    return _MIXED[_SPACES_RE.sub("", m.group()).lower()]


_SPACES_RE: Final = re.compile(r"\s+")
_ACC: Final = r"(?P<acc>#|♯|♭|b(?![A-LN-Za-ln-z])|[\s-]{1,2}(?:sharp|flat)(?![A-Za-z]))"
_EN_MODE: Final = r"(?P<mode>major|minor|maj|min)(?![A-Za-z])"
_SECONDS: Final = r"(?:seconds?|secs?)(?![A-Za-z])"
_MINUTES: Final = r"(?:minutes?|mins?)(?![A-Za-z])"
_HOURS: Final = r"(?:hours?|hrs?)(?![A-Za-z])"
_BPM: Final = r"(?:bpm|b\.p\.m\.?|beats?\s{1,3}per\s{1,3}minute|beats?\s?/\s?min)(?![A-Za-z])"
_AND_A_HALF: Final = r"\s{1,3}and\s{1,3}a\s{1,3}half"
_UNIT_GAP: Final = r"\s{0,3}-?\s{0,3}"  # "5 second", "5-second", "5second"
_NUM_DIGITS: Final = rf"(?<![A-Za-z0-9_.])(?P<n>{_DIGITS})"
_MIXED_WORDS: Final = "|".join(re.escape(k) for k in sorted(_MIXED, key=len, reverse=True))


@dataclass(frozen=True, slots=True)
class _Rule:
    """A pattern, what to make of its matches, and words without which it cannot match.

    ``needles`` lets a long prompt skip a pattern with one substring test: a prompt with no
    "bpm" in it cannot state "120 bpm".
    """

    regex: re.Pattern[str]
    handler: Handler
    needles: tuple[str, ...] = ()


def _rule(needles: str, handler: Handler, pattern: str, flags: int = re.IGNORECASE) -> _Rule:
    return _Rule(re.compile(pattern, flags), handler, tuple(needles.split()))


_RULES: Final[tuple[_Rule, ...]] = (
    # Time signatures first, so that "3/4拍" and "四三拍" are not read as tempos.
    _rule(
        "/",
        _on_meter,
        r"(?<![0-9/.])(?P<n>[0-9]{1,2})\s{0,2}/\s{0,2}(?P<d>[0-9]{1,2})(?![0-9/.])"
        r"(?:\s{0,3}(?:time(?:\s{1,3}signature)?|meter|metre|拍子|拍)(?![A-Za-z]))?",
    ),
    _rule(
        "分之",
        _on_cn_fraction_meter,
        r"(?P<d>[四八])分之(?P<n>十二|[二三四五六七九])\s{0,2}(?:拍子|拍)?",
    ),
    _rule(
        "拍",
        _on_cn_fraction_meter,
        rf"(?<![0-9{_CN_NUM_CHARS}])(?P<d>[四八])(?P<n>[二三四五六七九])拍子?",
    ),
    _rule(
        "拍子",
        _on_cn_beats_meter,
        rf"(?<![0-9.{_CN_NUM_CHARS}])(?P<n>[2-9]|[二三四五六七九])\s{{0,2}}拍子",
    ),
    # Tempos: "120 bpm" first, so that in "140 bpm 45秒" the "bpm" is not read as "bpm 45".
    _rule("bpm b.p.m beat", _on_tempo, rf"{_NUM_DIGITS}{_UNIT_GAP}{_BPM}"),
    _rule(
        "tempo bpm",
        _on_tempo,
        rf"(?<![A-Za-z])(?:tempo|bpm)\s{{0,3}}(?:(?:of|at|is|=|:)\s{{0,3}})?(?P<n>{_DIGITS})"
        rf"(?:\s{{0,3}}{_BPM})?(?![A-Za-z0-9.])",
    ),
    _rule(
        "速度",
        _on_tempo,
        rf"速度\s{{0,2}}(?:为|是|:|=)?\s{{0,2}}(?P<n>{_NUM_CN_BARE})(?:\s{{0,2}}(?:bpm|拍))?",
    ),
    _rule("每分钟", _on_tempo, rf"每分钟\s{{0,2}}(?P<n>{_NUM_CN_BARE})\s{{0,2}}(?:拍|下|次|bpm)"),
    _rule("拍", _on_cn_beats, rf"(?P<n>{_NUM_CN})\s{{0,2}}拍(?!子)"),
    # Durations: combined forms before single units, words before bare letters.
    _rule(":", _on_clock, r"(?<![0-9:.])(?P<m>[0-9]{1,3}):(?P<s>[0-5][0-9])(?![0-9:])"),
    _rule(
        "m",
        _on_min_sec,
        rf"(?P<m>{_NUM_EN}){_UNIT_GAP}(?:{_MINUTES}|m)\s{{0,3}}(?:and\s{{1,3}})?"
        rf"(?P<s>{_DIGITS}|{_EN_WORD_NUM}){_UNIT_GAP}(?:{_SECONDS}|s(?![A-Za-z]))",
    ),
    _rule(
        "秒",
        _on_min_sec,
        rf"(?P<m>{_NUM_CN})\s{{0,2}}分钟?\s{{0,2}}(?P<s>{_NUM_CN_BARE})\s{{0,2}}秒钟?",
    ),
    _rule("half", _on_half_minute, r"(?<![A-Za-z])half[\s-]{1,3}(?:an?\s{1,3})?minute(?![A-Za-z])"),
    _rule(
        "min",
        _on_minutes,
        rf"(?P<n>{_NUM_EN_A})(?P<half>{_AND_A_HALF})?{_UNIT_GAP}{_MINUTES}"
        rf"(?P<half2>{_AND_A_HALF})?",
    ),
    _rule("m", _on_minutes, rf"{_NUM_DIGITS}m(?![A-Za-z0-9])"),
    _rule("hour hr", _on_hours, rf"(?P<n>{_NUM_EN_A})(?P<half>{_AND_A_HALF})?{_UNIT_GAP}{_HOURS}"),
    _rule("h", _on_hours, rf"{_NUM_DIGITS}h(?![A-Za-z0-9])"),
    _rule("sec", _on_seconds, rf"(?P<n>{_NUM_EN}){_UNIT_GAP}{_SECONDS}"),
    _rule("s", _on_bare_seconds, rf"(?<!['’]){_NUM_DIGITS}(?P<space>\s?)s(?![A-Za-z0-9'’])"),
    _rule("半", _on_minutes, rf"(?P<n>{_NUM_CN})\s{{0,2}}分钟?(?P<half>半)钟?"),
    _rule("半分钟", _on_half_minute, r"半分钟"),
    _rule(
        "小时 钟头", _on_hours, rf"(?P<n>{_NUM_CN})\s{{0,2}}个?(?P<half>半)?\s{{0,2}}(?:小时|钟头)"
    ),
    _rule("半", _on_half_hour, r"半个?(?:小时|钟头)"),
    _rule("分钟", _on_minutes, rf"(?P<n>{_NUM_CN})\s{{0,2}}分钟"),
    _rule("秒", _on_seconds, rf"(?P<n>{_NUM_CN})\s{{0,2}}秒钟?"),
    # Keys: Chinese, "key of", a mode word, "Am", then "in G".
    _rule(
        "调 調",
        _on_key,
        r"(?:(?P<pre>降|升)\s?)?(?<![A-Za-z0-9_])(?P<l>[A-Ga-g])\s?(?P<acc>#|♯|b|♭)?\s{0,2}"
        r"(?P<mode>大调|小调|大調|小調|调|調)",
    ),
    _rule(
        "key",
        _on_key,
        rf"(?<![A-Za-z])key\s{{1,3}}of\s{{1,3}}(?P<l>[A-Ga-g]){_ACC}?"
        rf"(?:[\s-]{{0,3}}{_EN_MODE})?(?![A-Za-z0-9#♯♭])",
    ),
    _rule(
        "maj min",
        _on_key,
        rf"(?<![A-Za-z0-9_'’])(?P<l>[A-Ga-g]){_ACC}?[\s-]{{0,2}}{_EN_MODE}"
        r"(?:\s{1,2}key(?![A-Za-z]))?",
    ),
    _rule(
        "m",
        _on_key,
        r"(?<![A-Za-z0-9_#♯♭'’])(?P<l>[A-G])(?P<acc>#|♯|b|♭)?(?P<mode>m)(?![A-Za-z0-9])",
        0,
    ),
    _rule(
        "in",
        _on_in_key,
        r"(?<![A-Za-z])(?i:in)\s{1,3}(?P<l>[A-G])"
        r"(?P<acc>#|♯|♭|b(?![A-Za-z])|[\s-](?i:sharp|flat)(?![A-Za-z]))?"
        r"(?![A-Za-z0-9#♯♭'’])",
        0,
    ),
    # Vocabulary entries that mix scripts ("8位"), which the word scan cannot see whole.
    _rule("", _on_mixed_word, rf"(?<![A-Za-z0-9])(?:{_MIXED_WORDS or '(?!)'})"),
)


# --------------------------------------------------------------------------------------------
# Scanning.
# --------------------------------------------------------------------------------------------


@dataclass(slots=True)
class _Scan:
    """The prompt being read: its normalised text, what is claimed, and the hits so far."""

    text: str
    claimed: bytearray = field(init=False)
    hits: list[_Hit] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.claimed = bytearray(len(self.text))

    def claim(self, start: int, end: int, effects: tuple[_Effect, ...]) -> bool:
        if end <= start or self.claimed.find(1, start, end) != -1:
            return False
        self.claimed[start:end] = b"\x01" * (end - start)
        self.hits.append(_Hit(start, end, effects))
        return True

    def free_stretches(self) -> Iterable[tuple[int, int]]:
        """Unclaimed stretches of the text, in order."""
        pos, n = 0, len(self.text)
        while pos < n:
            start = self.claimed.find(0, pos)
            if start == -1:
                return
            end = self.claimed.find(1, start)
            end = n if end == -1 else end
            yield start, end
            pos = end


def _apply_rules(scan: _Scan) -> None:
    """Run the rules in priority order; a match may not overlap text an earlier one claimed."""
    folded = scan.text.lower()
    for rule in _RULES:
        if rule.needles and not any(needle in folded for needle in rule.needles):
            continue
        for m in rule.regex.finditer(scan.text):
            if scan.claimed.find(1, m.start(), m.end()) != -1:
                continue
            effects = rule.handler(m)
            if effects is not None:
                scan.claim(m.start(), m.end(), effects)


def _scan_words(scan: _Scan) -> None:
    """Read the unclaimed text with the vocabulary; every token ends up in some hit."""
    for start, end in scan.free_stretches():
        words: list[re.Match[str]] = []
        for token in _TOKEN_RE.finditer(scan.text, start, end):
            if token["han"]:
                _scan_english(scan, words)
                words = []
                _scan_chinese(scan, token.start(), token.end())
            else:
                words.append(token)
        _scan_english(scan, words)


def _scan_english(scan: _Scan, words: list[re.Match[str]]) -> None:
    """Longest known phrase first; words of a phrase may be split only by spaces or hyphens."""
    keys = [w.group().lower().replace("’", "'") for w in words]
    i = 0
    while i < len(words):
        size, effects = 1, None
        longest = _joined_run(scan.text, words, i) if keys[i] in _PHRASE_STARTS else 1
        for n in range(longest, 0, -1):
            effects = _lookup_words(" ".join(keys[i : i + n]))
            if effects is not None:
                size = n
                break
        scan.hits.append(_Hit(words[i].start(), words[i + size - 1].end(), effects or ()))
        i += size


def _joined_run(text: str, words: list[re.Match[str]], i: int) -> int:
    """How many words from ``i`` on (at most a phrase's length) are joined by spaces/hyphens."""
    n = 1
    while n < _LATIN_MAX_WORDS and i + n < len(words):
        if not _PHRASE_GAP_RE.fullmatch(text, words[i + n - 1].end(), words[i + n].start()):
            break
        n += 1
    return n


def _scan_chinese(scan: _Scan, start: int, end: int) -> None:
    """Greedy longest match; consecutive unknown characters are reported as one run."""
    text, i, unknown = scan.text, start, -1
    while i < end:
        size, effects = 0, None
        for n in range(min(_HAN_MAX_CHARS, end - i), 0, -1):
            effects = _HAN_ONLY.get(text[i : i + n])
            if effects is not None:
                size = n
                break
        if effects is None:
            unknown = i if unknown < 0 else unknown
            i += 1
            continue
        if unknown >= 0:
            scan.hits.append(_Hit(unknown, i))
            unknown = -1
        scan.hits.append(_Hit(i, i + size, effects))
        i += size
    if unknown >= 0:
        scan.hits.append(_Hit(unknown, end))


# --------------------------------------------------------------------------------------------
# Resolution.
# --------------------------------------------------------------------------------------------

_SINGLE_VALUED: Final = frozenset({"tempo", "tempo_range", "key", "duration", "time_signature"})


def _apply(info: PromptInfo, effect: _Effect, genres: list[tuple[int, int, str]], at: int) -> bool:
    """Record one effect; False when it changes nothing (a rejection or a conflicting value)."""
    if effect.field == "genre":
        genres.append((effect.tier, -at, effect.value))
        return True
    if effect.field in _SINGLE_VALUED:
        current = getattr(info, effect.field)
        if current is None:
            setattr(info, effect.field, effect.value)
            return True
        return bool(current == effect.value)
    if effect.field in {"moods", "instruments"}:
        values: list[str] = getattr(info, effect.field)
        if effect.value not in values:
            values.append(effect.value)
        return True
    return False


def _resolve(original: str, hits: list[_Hit]) -> PromptInfo:
    info = PromptInfo(text=original)
    genres: list[tuple[int, int, str]] = []
    for hit in sorted(hits, key=lambda h: h.start):
        surface = original[hit.start : hit.end]
        if not hit.effects:
            info.ignored.append(surface.lower())
        elif hit.effects is not _STOP:
            applied = [_apply(info, e, genres, hit.start) for e in hit.effects]
            (info.used if any(applied) else info.ignored).append(surface)
    if genres:
        info.genre = max(genres)[2]
    return info


def parse_prompt(text: str) -> PromptInfo:
    """Read what an English or Chinese prompt states. Never raises on any string.

    >>> info = parse_prompt("upbeat pop song, 120 bpm, G major, 60 seconds")
    >>> info.genre, info.tempo, info.key.name, info.duration
    ('pop', 120.0, 'G major', 60.0)
    """
    original = text if isinstance(text, str) else ("" if text is None else str(text))
    scan = _Scan(original.translate(_FULLWIDTH))
    _apply_rules(scan)
    _scan_words(scan)
    return _resolve(original, scan.hits)
