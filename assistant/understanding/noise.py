"""Recognition-style noise: how a recogniser might write what was said (deterministic for a given rng).

Used twice, with different seeds: to augment the understanding model's training sentences, and by the bench to
make the noisy copy of the frozen test corpus.
- traditional characters become simplified and punctuation disappears (the recogniser writes neither);
- about one character in seven is damaged, at least one per utterance:
  70 % homophone substitution (same toneless pinyin; a third of them an accent confusion such as
  zh/z, n/l, -ng/-n, f/h instead), 15 % a dropped character, 15 % an inserted common character.
Replacement characters are single-character words of the recogniser's own vocabulary, chosen with
weight by how many vocabulary words contain them (a stand-in for how common they are).
"""

import bisect
import gzip
import random
import re
from collections import Counter, defaultdict
from functools import lru_cache
from pathlib import Path

from assistant.understanding.normalize import FUZZY_FINALS, FUZZY_INITIALS

RATE = 1 / 7
WORDS = Path(__file__).resolve().parent.parent / "recognition" / "data" / "words.txt.gz"
_CJK = re.compile(r"[\u3400-\u9fff]")
_PUNCT = re.compile(r"[\s\W_]+", re.UNICODE)
# Accent confusions (both directions): the same table the understanding's fuzzy pinyin folds (normalize.py).
_INITIALS = FUZZY_INITIALS
_FINALS = FUZZY_FINALS


@lru_cache(maxsize=1)
def _tables():
    """(toneless pinyin -> [(char, weight)], all chars, cumulative weights) over the vocabulary's single chars."""
    from pypinyin import Style, pinyin
    from pypinyin.pinyin_dict import pinyin_dict

    words = gzip.decompress(WORDS.read_bytes()).decode("utf-8").split()
    weight = Counter(ch for w in words for ch in set(w) if _CJK.match(ch))
    singles = sorted(w for w in words if len(w) == 1 and _CJK.match(w) and ord(w) in pinyin_dict)
    by_sound = defaultdict(list)
    for ch in singles:
        for reading in pinyin(ch, style=Style.NORMAL, heteronym=True)[0]:
            by_sound[reading].append((ch, weight[ch]))
    cumulative, total = [], 0
    for ch in singles:
        total += weight[ch]
        cumulative.append(total)
    return by_sound, singles, cumulative


def _weighted(rng: random.Random, pairs):
    total = sum(w for _, w in pairs)
    pick = rng.uniform(0, total)
    for ch, w in pairs:
        pick -= w
        if pick <= 0:
            return ch
    return pairs[-1][0]


def _accent_variants(syllable: str) -> list[str]:
    out = []
    for a, b in _INITIALS:
        for x, y in ((a, b), (b, a)):
            if syllable.startswith(x) and not (x == "z" and syllable.startswith("zh")) \
                    and not (x == "c" and syllable.startswith("ch")) and not (x == "s" and syllable.startswith("sh")):
                out.append(y + syllable[len(x):])
    for a, b in _FINALS:
        for x, y in ((a, b), (b, a)):
            if syllable.endswith(x) and not (x == "an" and syllable.endswith("ang")) \
                    and not (x == "en" and syllable.endswith("eng")) and not (x == "in" and syllable.endswith("ing")):
                out.append(syllable[: -len(x)] + y)
    return out


def _substitute(rng: random.Random, ch: str, syllable: str) -> str:
    by_sound, _, _ = _tables()
    sounds = [syllable]
    if rng.random() < 1 / 3:
        accents = [s for s in _accent_variants(syllable) if s in by_sound]
        if accents:
            sounds = [rng.choice(accents)]
    candidates = [(c, w) for s in sounds for c, w in by_sound.get(s, ()) if c != ch]
    return _weighted(rng, candidates) if candidates else ch


def _common_char(rng: random.Random) -> str:
    _, singles, cumulative = _tables()
    return singles[bisect.bisect_left(cumulative, rng.uniform(0, cumulative[-1]))]


def noisy(text: str, rng: random.Random) -> str:
    """The utterance as a recogniser might write it (see the module docstring)."""
    # One converter for the process (normalize's): building an OpenCC per call was 40 % of building training rows.
    from assistant.understanding.normalize import T2S, readings

    chars = list(_PUNCT.sub("", T2S.convert(text)))
    cjk = [i for i, c in enumerate(chars) if _CJK.match(c)]
    if not cjk:
        return "".join(chars)
    syllables = readings("".join(chars))
    edits = max(1, round(len(cjk) * RATE))
    targets = sorted(rng.sample(cjk, min(edits, len(cjk))), reverse=True)  # right to left keeps indices valid
    for i in targets:
        kind = rng.random()
        if kind < 0.70:
            chars[i] = _substitute(rng, chars[i], syllables[i] if i < len(syllables) else "")
        elif kind < 0.85 and len(chars) > 1:
            del chars[i]
        else:
            chars.insert(i + rng.randint(0, 1), _common_char(rng))
    return "".join(chars)
