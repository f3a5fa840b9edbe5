"""The dialog: a state machine over flows/ plus the conversation habits an elder needs."""

from assistant.dialog.reply import Reply, VoiceSettings
from assistant.dialog.session import Session

__all__ = ["Reply", "Session", "VoiceSettings"]
