"""A short answer said first and explained after a pause ("好了……但是那个按钮没有") is read as one turn (issue 14).

The end-of-turn judge (assistant/audio/endpoint.py) ends a short move after 0.35 s of quiet, so a lone "好了" is
answered at once. An elder who pauses 1–2 s and goes on would have the first half acted on, and the rest taken
as a new turn in the step the first half moved to. No quiet short enough for the quick answer tells those pauses
apart (bench/endpointing.py: a 1.0 s wait cut nearly as many turns as 0.35 s; the pauses were 1.1–1.9 s), so the
loop answers at once and keeps what the session was before that turn: when the user speaks again within
JOIN_SECONDS of the turn's end, the reply already begun is stopped (barge-in does that), the session is put back,
and both parts are handled as one turn.

Only with barge-in (an input that does not hear the assistant): half-duplex, the microphone hears the reply
itself, so speech during it cannot be told from the assistant's own voice and is dropped anyway.

The first part's words are kept in memory for one turn only, never logged or stored (assistant/privacy.py).
"""

import copy
from dataclasses import dataclass

JOIN_SECONDS = 1.6
"""Speech whose words begin this soon after a turn ended continues that turn. On bench/endpointing.py's dev-made
turns (0.5–2 s hesitation pauses), joining within 1.0 s left 5 of 135 turns cut off, within 1.3 s 2, within 1.6 s
none. Longer would join a user's reaction to the reply itself (the reply has played about this long by then)."""

_NOT_STATE = frozenset({"flows", "remind", "config", "today", "understander", "machine", "_position"})
"""Session attributes that are its parts and settings, not the conversation: shared, never copied back."""


@dataclass(frozen=True)
class Before:
    """The session as it was before one turn was handled, and that turn's words."""

    text: str
    state: str
    history: tuple
    returns: tuple
    fields: dict


def remember(session, text: str) -> Before:
    """What `session` is now, before `text` is handled (a copy: handling it changes nothing here)."""
    fields = {name: copy.deepcopy(value) for name, value in vars(session).items() if name not in _NOT_STATE}
    return Before(text, session.state, tuple(session.history), tuple(session.returns), fields)


def put_back(session, before: Before) -> None:
    """The session as it was when `before` was taken: its step, its way back and its own fields."""
    session.machine.set_state(before.state)
    # In place: the lists belong to the machine's position (a kiosk's snapshot may hold older ones).
    session.history[:] = before.history
    session.returns[:] = before.returns
    for name, value in before.fields.items():
        setattr(session, name, copy.deepcopy(value))


def joined(before: Before | None, text: str, onset: float | None) -> bool:
    """Whether `text`, whose words began `onset` s after the last turn ended, continues that turn."""
    return before is not None and bool(text) and onset is not None and onset <= JOIN_SECONDS
