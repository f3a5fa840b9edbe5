"""Understanding: what the user meant, robust to fillers, accents and recognition errors.

A learned model (model.py, trained from flows/ by data.py) with guards around it (understander.py)."""

from assistant.understanding.data import OUT_OF_SCOPE
from assistant.understanding.dates import parse_date, spoken_date
from assistant.understanding.normalize import Normalizer, chinese_count, has_chinese
from assistant.understanding.understander import ACT, CHOOSE, CONFIRM, UNKNOWN, Understander, Understanding

__all__ = ["parse_date", "spoken_date", "ACT", "CHOOSE", "CONFIRM", "UNKNOWN", "OUT_OF_SCOPE", "Understander",
           "Understanding", "Normalizer", "chinese_count", "has_chinese"]
