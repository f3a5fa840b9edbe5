"""What one turn produces, and the voice settings the user can change by speaking."""

from dataclasses import dataclass, field

VOICE_STEP_LIMIT = 3
"""How many times 慢一点/快一点 (and 大声点/小声点) can be said before the voice stops changing."""


@dataclass
class Reply:
    """The assistant's answer to one turn."""

    say: str
    """the full text spoken (and printed)"""
    parts: list[str]
    """the same text as sentences; fixed ones are pre-rendered, only dates are synthesised live"""
    state: str
    intent: str | None
    controls: list[str] = field(default_factory=list)
    """voice or session actions for the speech stage: slower, faster, louder, softer, goodbye"""
    options: list[str] = field(default_factory=list)
    """the 2–3 things the user can say now (for the big-text screen)"""
    progress: tuple[int, int] | None = None
    """(step, steps) inside a certification walk"""


@dataclass
class VoiceSettings:
    """How far the user has asked the voice to move from its profile: steps, not absolute values."""

    rate_step: int = 0
    volume_step: int = 0
    limits: dict = field(default_factory=dict)
    """field -> (lowest, highest) step that still changes the voice, from the voice profile (VoiceProfile.
    step_limits); without it, ±VOICE_STEP_LIMIT"""

    def step(self, field_name: str, delta: int) -> bool:
        """Move one step; False when already at the limit."""
        value = getattr(self, field_name) + delta
        low, high = self.limits.get(field_name, (-VOICE_STEP_LIMIT, VOICE_STEP_LIMIT))
        if not low <= value <= high:
            return False
        setattr(self, field_name, value)
        return True
