"""How a slower speed is said: mostly longer pauses between phrases and word groups, phones only a little longer.

Shared by the engines' render children (the natural voice in its own venv, espeak-ng through pyttsx3 in the main
one), so it imports only the standard library at top level; jieba (word boundaries, its dictionary ships in the
wheel) is loaded when a clause is first split.
"""

import re
from dataclasses import dataclass

#: Pauses after a clause at the engine's normal speed (rate 1.0), in seconds.
CLAUSE_PAUSE, SENTENCE_PAUSE = 0.18, 0.35


@dataclass(frozen=True)
class Pace:
    """How the natural voice realises a speed factor: slower is mostly longer pauses, and only a little longer
    phones. Stretching every phone (FastSpeech2's speed ratio alone) blurred the voice: the recogniser's CER
    rose 3 points by the second 慢一点. People who talk slowly to an older listener pause more between phrases
    and keep their syllables nearly as they are, so that is what each step adds."""

    phone_scale: float
    """FastSpeech2's speed ratio: every phone's duration times this (> 1 is slower; the pitch stays)."""
    clause_pause: float
    """Seconds of silence after 、，: and the like."""
    sentence_pause: float
    """Seconds after 。！？ inside one part (between parts the profile's sentence_pause_ms is used)."""
    group_syllables: int
    """A clause longer than this many syllables is said in word groups of about this size; 0 = never split."""
    group_pause: float
    """Seconds of silence between two word groups of a clause."""


#: Phones lengthen by slowdown ** PHONE_EXPONENT (slowdown = 1 / rate): at rate 0.6 by 1.23 instead of 1.67.
PHONE_EXPONENT = 0.4
#: Pauses at punctuation lengthen by slowdown ** PAUSE_EXPONENT: they carry most of the slowing.
PAUSE_EXPONENT = 2.0
#: Below this rate long clauses are split into word groups with a pause between them.
GROUPS_BELOW = 0.95


def pace(rate: float) -> Pace:
    """The Pace for speed factor `rate` (1.0 = the voice's normal speed; the profile and 慢一点 choose it).

    At 1.0 and faster it is the voice as it was: phones scaled by 1 / rate, the usual pauses, no groups. Slower,
    each step adds more pause than phone length, and the word groups get shorter: about 7 syllables at rate
    0.8, 6 at 0.7, 5 at 0.6.
    """
    if rate >= 1.0:
        return Pace(1.0 / rate, CLAUSE_PAUSE / rate, SENTENCE_PAUSE / rate, 0, 0.0)
    slowdown = 1.0 / rate
    pause = slowdown ** PAUSE_EXPONENT
    groups = rate < GROUPS_BELOW
    return Pace(
        phone_scale=round(slowdown ** PHONE_EXPONENT, 4),
        clause_pause=round(CLAUSE_PAUSE * pause, 3),
        sentence_pause=round(SENTENCE_PAUSE * pause, 3),
        group_syllables=max(4, round(10 * rate - 1)) if groups else 0,
        group_pause=round(0.6 * CLAUSE_PAUSE * pause, 3) if groups else 0.0,
    )


_SYLLABLE = re.compile(r"[\u4e00-\u9fff0-9]")
#: Words a group never starts with: they lean on the word before them (的, 了, 吗, 上 in 手机上 …).
_LEANS_LEFT = frozenset("的 了 着 过 吗 呢 吧 啊 呀 嘛 么 上 里 中 下 后 前 时 得 地 们 就 都 也".split())
#: Words a group never ends with: they lean on the word after them (在, 把, 请, 不 …).
_LEANS_RIGHT = frozenset("在 把 对 给 和 跟 从 向 被 让 请 就 也 都 再 先 还 又 只 才 不 没 别 很 要 会 能 是 用 点 个 "
                         "一 这 那 第 每 从 等 到 为 往".split())
#: jieba part-of-speech tags after which a phrase naturally ends (nouns, pronouns, places, times, 方位词),
#: and before which one naturally begins (prepositions, conjunctions, adverbs). Elsewhere a break costs more.
_ENDS_PHRASE = ("n", "r", "s", "t", "f", "j", "l", "i")
_STARTS_PHRASE = ("p", "c", "d")
#: Extra cost (in squared syllables) of a break between two words where no phrase boundary is likely.
_WEAK_BREAK = 3.0


def syllables(text: str) -> int:
    """Syllables the voice says: one per Chinese character or digit."""
    return len(_SYLLABLE.findall(text))


def _tagged_words(clause: str) -> list[tuple[str, str]]:
    """(word, part of speech) by jieba, whose dictionary ships in its wheel; one piece if jieba is missing."""
    try:
        import jieba
        import jieba.posseg
    except ImportError:  # a natural venv from before jieba: pauses at punctuation only
        return [(clause, "x")]
    import logging

    jieba.setLogLevel(logging.WARNING)  # its "Building prefix dict" lines are not for the user
    return [(w.word, w.flag) for w in jieba.posseg.lcut(clause) if w.word]


def word_groups(clause: str, size: int) -> list[str]:
    """Split a clause at word boundaries into groups of about `size` syllables (none when it is that short).

    The split with the least cost over the whole clause (few words, so exact): each group costs its squared
    distance from `size`, a break where no phrase ends costs _WEAK_BREAK more; never inside a word, never
    before a word that leans left (的, 了) nor after one that leans right (在, 把, 请), never a one-syllable
    group."""
    if size <= 0 or syllables(clause) <= size + 1:
        return [clause]
    tagged = _tagged_words(clause)
    words = [w for w, _ in tagged]
    n = len(words)
    lengths = [syllables(w) for w in words]
    bad = float("inf")

    def break_cost(i: int) -> float:  # a group ends after words[i - 1] and the next starts at words[i]
        (before, tag_before), (after, tag_after) = tagged[i - 1], tagged[i]
        if before in _LEANS_RIGHT or after in _LEANS_LEFT or tag_after.startswith(("u", "y")):
            return bad
        natural = tag_before.startswith(_ENDS_PHRASE) or tag_after.startswith(_STARTS_PHRASE)
        return 0.0 if natural else _WEAK_BREAK

    best: list[float] = [0.0] + [bad] * n
    cut = [0] * (n + 1)
    for end in range(1, n + 1):
        closing = break_cost(end) if end < n else 0.0
        if closing == bad:
            continue
        for start in range(end):
            length = sum(lengths[start:end])
            if best[start] == bad or length < 2:
                continue
            cost = best[start] + (length - size) ** 2 + closing
            if cost < best[end]:
                best[end], cut[end] = cost, start
    if best[n] == bad:
        return [clause]
    groups, end = [], n
    while end:
        groups.append("".join(words[cut[end]:end]))
        end = cut[end]
    return groups[::-1]
