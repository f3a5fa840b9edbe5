"""Today's date, from one place: `--today`, else $ASSISTANT_TODAY, else the system clock.

Every command, the settings check, the dialog and the kiosk ask here, so pretending another date
(`--today 2026-11-23`) changes all of them at once.
"""

import os
from collections.abc import Callable
from datetime import date

from assistant.errors import AssistantError


def pretended(args=None) -> str | None:
    """The date asked for on the command line or in the environment, as written (None: the real clock)."""
    return getattr(args, "today", None) or os.environ.get("ASSISTANT_TODAY") or None


def today(args=None) -> date:
    """Today for this command; a pretended date that is not YYYY-MM-DD is an AssistantError (one plain line)."""
    value = pretended(args)
    if not value:
        return date.today()
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise AssistantError(f"日期格式不对: '{value}',请写成 2026-03-05 这样 (--today must be YYYY-MM-DD)") from None


def today_source(args=None) -> Callable[[], date]:
    """A function giving today each time it is called: the pretended date, or the clock asked again (a kiosk
    runs for days)."""
    if pretended(args):
        fixed = today(args)
        return lambda: fixed
    return date.today
