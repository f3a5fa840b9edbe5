"""The recogniser's vocabulary, and turning flow phrases into a vosk grammar of vocabulary words.

vosk silently drops a grammar phrase that is not split into words it knows (recognition then degrades to
"[unk]"), so every phrase is split here and an impossible one is a FlowError pointing at its file:line.
"""

import gzip
import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from assistant.errors import FlowError

UNK = "[unk]"
_STRIP = re.compile(r"[\s\W_]+")  # spaces and punctuation; CJK and Latin letters are "word" characters
_DIGIT_RUN = re.compile(r"\d+")


@dataclass(frozen=True)
class Vocabulary:
    """The words the model can output, and the longest of them in characters."""

    words: frozenset
    longest: int


@lru_cache(maxsize=1)
def vocabulary() -> Vocabulary:
    """Load the vendored word list once (about 0.1 s)."""
    data = resources.files("assistant.recognition").joinpath("data/words.txt.gz").read_bytes()
    words = frozenset(gzip.decompress(data).decode("utf-8").split())
    return Vocabulary(words, max(map(len, words)))


def spoken_forms(text: str) -> list[str]:
    """How a written phrase is said: punctuation gone, numbers in Chinese (12333 as 一二三三三 and 幺二三三三)."""
    text = _STRIP.sub("", text)
    if not _DIGIT_RUN.search(text):
        return [text]
    # Three or more digits are read one by one (hotlines, years); shorter ones as a number (15 -> 十五).
    from assistant.numbers import as_number, digit_by_digit

    def say(match):
        run = match.group()
        return digit_by_digit(run) if len(run) >= 3 else as_number(run)

    plain = _DIGIT_RUN.sub(say, text)
    # People read the digit 1 in numbers as 幺; both must be in the grammar.
    yao = _DIGIT_RUN.sub(lambda m: say(m).replace("一", "幺") if len(m.group()) >= 3 else say(m), text)
    return list(dict.fromkeys([plain, yao]))


@lru_cache(maxsize=8192)
def _split(text: str) -> tuple[tuple[str, ...] | None, int]:
    """Fewest vocabulary words covering text (ties: longest word first); else (None, furthest position reached)."""
    vocab = vocabulary()
    n = len(text)
    # best[i]: the segmentation of text[i:], built right to left so each choice knows the rest's cost.
    best: list[tuple[int, tuple[str, ...]] | None] = [None] * (n + 1)
    best[n] = (0, ())
    for i in range(n - 1, -1, -1):
        for j in range(min(n, i + vocab.longest), i, -1):  # longest first: wins ties on word count
            rest, here = best[j], best[i]
            if rest is not None and text[i:j] in vocab.words:
                if here is None or rest[0] + 1 < here[0]:
                    best[i] = (rest[0] + 1, (text[i:j], *rest[1]))
    if best[0] is not None:
        return best[0][1], n
    # Forward pass: how far from the start the words can reach; the character there is the culprit.
    reach, furthest = {0}, 0
    for i in range(n):
        if i in reach:
            furthest = i
            reach.update(j for j in range(i + 1, min(n, i + vocab.longest) + 1) if text[i:j] in vocab.words)
    return None, furthest


def segment(text: str) -> list[str] | None:
    """Split one spoken form into vocabulary words, or None when it cannot be said."""
    words = _split(_STRIP.sub("", text))[0]
    return None if words is None else list(words)


def _phrase_fields(phrase) -> tuple[str, str, int]:
    if isinstance(phrase, str):
        return phrase, "<phrase>", 0
    return phrase.text, phrase.file, phrase.line


def grammar_phrases(phrase) -> list[str]:
    """The space-separated grammar entries for one phrase (str or an object with .text/.file/.line)."""
    text, file, line = _phrase_fields(phrase)
    entries = []
    for form in spoken_forms(text):
        words, stuck = _split(form)
        if words is None:
            culprit = form[stuck] if form else ""
            why = ("识别模型没有英文字母，请写成汉字 (the model has no Latin letters; write it in Chinese)"
                   if culprit.isascii() else "请换个常用说法 (use a more common wording)")
            raise FlowError(file, line, f"短语“{text}”无法用识别模型的词表说出：'{culprit}'。{why} / "
                                        f"phrase '{text}' cannot be said with the recogniser's vocabulary: '{culprit}'")
        entries.append(" ".join(words))
    return entries


def build_grammar(phrases) -> list[str]:
    """A vosk grammar for these phrases: unique space-separated word sequences, plus "[unk]" for anything else."""
    entries = [entry for phrase in phrases for entry in grammar_phrases(phrase)]
    return [*dict.fromkeys(e for e in entries if e), UNK]
