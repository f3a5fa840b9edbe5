"""Understanding: what the user meant, robust to fillers, accents and recognition errors."""

from assistant.understanding.dates import parse_date, spoken_date
from assistant.understanding.matcher import ACCEPT, CONFIRM, IntentMatcher, Match
from assistant.understanding.normalize import Normalizer, has_chinese

__all__ = ["parse_date", "spoken_date", "ACCEPT", "CONFIRM", "IntentMatcher", "Match", "Normalizer", "has_chinese"]
