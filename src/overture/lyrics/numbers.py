"""Digits spelled out as words, because a singer sings words: English or Mandarin readings.

Only the common written forms are read specially (years, clock times, ordinals, decimals,
percentages, thousands separators); anything else is a cardinal, or a digit string read digit by
digit when it is too long or starts with a zero (a phone number, "007").
"""

from __future__ import annotations

import re

from overture.lyrics.text import is_cjk

_EN_ONES = (
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen",
)  # fmt: skip
_EN_TENS = ("", "", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety")
_EN_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_EN_ORDINAL = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}
_ZH_DIGITS = "零一二三四五六七八九"
_ZH_GROUPS = ("", "万", "亿", "万亿")
_LONGEST = 15  # digits; longer strings are read digit by digit

# One pattern, so that a number is read once: a clock time, or a number with its decoration.
_NUMBER = re.compile(
    r"(?<!\d)(?:(?P<hour>\d{1,2}):(?P<minute>\d{2})(?!\d)"
    r"|(?P<int>\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.(?P<frac>\d+))?"
    r"(?P<suffix>%|(?:st|nd|rd|th)(?![A-Za-z]))?)",
    re.IGNORECASE,
)


def english_cardinal(n: int) -> str:
    """``n`` (>= 0) in words, American style: 105 -> "one hundred five"."""
    if n < 20:
        return _EN_ONES[n]
    if n < 100:
        tens, ones = divmod(n, 10)
        return _EN_TENS[tens] + (f"-{_EN_ONES[ones]}" if ones else "")
    if n < 1000:
        hundreds, rest = divmod(n, 100)
        return f"{_EN_ONES[hundreds]} hundred" + (f" {english_cardinal(rest)}" if rest else "")
    for value, name in _EN_SCALES:
        if n >= value:
            high, rest = divmod(n, value)
            return f"{english_cardinal(high)} {name}" + (
                f" {english_cardinal(rest)}" if rest else ""
            )
    raise AssertionError("unreachable")


def english_ordinal(n: int) -> str:
    """21 -> "twenty-first"."""
    words = english_cardinal(n)
    cut = max(words.rfind(" "), words.rfind("-")) + 1
    head, last = words[:cut], words[cut:]
    if last in _EN_ORDINAL:
        return head + _EN_ORDINAL[last]
    if last.endswith("y"):
        return head + last[:-1] + "ieth"
    return head + last + "th"


def english_year(n: int) -> str | None:
    """A year read in pairs (1999 -> "nineteen ninety-nine"), or None when not read so."""
    if not (1100 <= n <= 1999 or 2010 <= n <= 2099):
        return None
    high, low = divmod(n, 100)
    if low == 0:
        return f"{english_cardinal(high)} hundred"
    if low < 10:
        return f"{english_cardinal(high)} oh {_EN_ONES[low]}"
    return f"{english_cardinal(high)} {english_cardinal(low)}"


def chinese_cardinal(n: int) -> str:
    """``n`` (>= 0) in Chinese numerals: 105 -> 一百零五, 18 -> 十八, 10005 -> 一万零五,
    2000 -> 两千."""
    if n == 0:
        return _ZH_DIGITS[0]
    groups: list[int] = []
    while n:
        n, group = divmod(n, 10000)
        groups.append(group)
    out = ""
    gap = False  # a zero group since the last one written: read as 零
    for i in reversed(range(len(groups))):
        group = groups[i]
        if group == 0:
            gap = bool(out)
            continue
        if out and (gap or group < 1000):
            out += "零"
        out += ("两" if group == 2 and i > 0 else _chinese_group(group)) + _ZH_GROUPS[i]
        gap = False
    return out[1:] if out.startswith("一十") else out  # 十八, not 一十八


def _chinese_group(n: int) -> str:
    """1..9999 with its inner zeros: 1005 -> 一千零五."""
    out = ""
    zero = False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit = n // value % 10
        if digit == 0:
            zero = bool(out)
            continue
        if zero:
            out += "零"
            zero = False
        out += ("两" if digit == 2 and value == 1000 else _ZH_DIGITS[digit]) + unit
    return out


def _digits(s: str, lang: str) -> str:
    if lang == "zh":
        return "".join(_ZH_DIGITS[int(d)] for d in s)
    return " ".join(_EN_ONES[int(d)] for d in s)


def _read(m: re.Match[str], lang: str, after: str) -> str:
    if m.group("hour") is not None:
        hour, minute = int(m.group("hour")), int(m.group("minute"))
        if lang == "zh":
            mins = "" if minute == 0 else ("零" if minute < 10 else "") + chinese_cardinal(minute)
            return chinese_cardinal(hour) + "点" + mins
        if minute == 0:
            return f"{english_cardinal(hour)} o'clock"
        sep = " oh " if minute < 10 else " "
        return english_cardinal(hour) + sep + english_cardinal(minute)
    raw = m.group("int").replace(",", "")
    frac, suffix = m.group("frac"), (m.group("suffix") or "").lower()
    whole_digits = len(raw) > _LONGEST or (len(raw) > 1 and raw.startswith("0"))
    if lang == "zh":
        # A year is read digit by digit (二零二四年), a round thousand is a span (一千年).
        year = len(raw) == 4 and int(raw) % 1000 != 0 and after.startswith("年") and not frac
        words = _digits(raw, lang) if whole_digits or year else chinese_cardinal(int(raw))
        if frac:
            words += "点" + _digits(frac, lang)
        return "百分之" + words if suffix == "%" else words
    value = int(raw)
    if whole_digits:
        words = _digits(raw, lang)
    elif suffix in ("st", "nd", "rd", "th") and not frac:
        return english_ordinal(value)
    else:
        year = english_year(value) if len(raw) == 4 and not frac else None
        words = year or english_cardinal(value)
    if frac:
        words += " point " + _digits(frac, lang)
    return words + (" percent" if suffix == "%" else "")


def spell_numbers(text: str, lang: str) -> str:
    """``text`` with every digit string read out in ``lang``: "en", "zh" or "mixed".

    In a mixed line a number written against a Chinese character is read in Chinese
    ("1000年" -> 一千年), any other in English. English words are kept apart from the letters
    around them ("4ever" -> "four ever"), so that each stays a word of its own.
    """

    def repl(m: re.Match[str]) -> str:
        before = text[m.start() - 1] if m.start() > 0 else ""
        after = text[m.end()] if m.end() < len(text) else ""
        here = lang
        if lang == "mixed":
            here = "zh" if (before and is_cjk(before)) or (after and is_cjk(after)) else "en"
        words = _read(m, here, text[m.end() :])
        if here == "en":
            if before.isalpha():
                words = " " + words
            if after.isalpha():
                words += " "
        return words

    return _NUMBER.sub(repl, text)
