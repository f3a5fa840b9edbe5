"""Words heard while the assistant talks that are its own voice coming back (issue 14).

With barge-in, the microphone hears the user through an echo canceller; on open speakers the canceller leaves some
of the assistant's voice in, and the recogniser makes words of it ("上次养老金资格", README): two characters would
stop the voice and the loop would answer itself. The assistant knows what it is saying, so words that read like a
stretch of it (as fuzzy toneless pinyin, with at most one syllable in four heard differently) are taken for its own
voice. The cost: a user who repeats the very words the voice is saying ("好了" over "说好了") is not taken for a
barge-in; they are heard once the voice ends, as without barge-in.
"""

from assistant.understanding.normalize import Normalizer

_NORMALIZER = Normalizer([])


def _syllables(text: str) -> list[str]:
    return _NORMALIZER.syllables(_NORMALIZER.text(text))


def reads_like(heard: str, said: str) -> bool:
    """True when `heard` reads like a stretch of `said`: the edit distance of its syllables to the closest
    stretch of said's (anywhere inside it) is at most one in four of them."""
    h, s = _syllables(heard), _syllables(said)
    if not h or not s:
        return False
    # Edit distance of h to its best-matching stretch of s: row 0 is all zeros, so the stretch may start
    # anywhere, and the answer is the best cell of the last row, so it may end anywhere.
    previous = [0] * (len(s) + 1)
    for i, a in enumerate(h, 1):
        current = [i] + [0] * len(s)
        for j, b in enumerate(s, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a != b))
        previous = current
    return min(previous) <= len(h) // 4


def own_voice_now(speaker) -> str:
    """What `speaker` is saying now (Speaker.sounding); "" for a speaker that cannot say (a neighbour in a test)."""
    sounding = getattr(speaker, "sounding", None)
    return sounding() if sounding is not None else ""
