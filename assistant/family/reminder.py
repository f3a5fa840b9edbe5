"""A calendar file for the next certification deadline, with an alarm three days before, for a relative's phone."""

import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from assistant.dialog.schedule import Deadline, days_text, last_and_due_text, next_deadline
from assistant.errors import AssistantError
from assistant.understanding import Normalizer, parse_date

ALARM_DAYS = 3
ALARM_HOUR = 9
"""The alarm rings at 9:00, three days before: the deadline is an all-day event, so a trigger of exactly three
days before would ring at midnight."""
SUMMARY = "养老金资格认证截止日"


@dataclass
class Reminder:
    """The deadline and what to tell the person making the file."""

    deadline: Deadline
    notes: list[str]
    """printed before writing: the rule used, and whether the general rule had to stand in"""


def understand_date(text: str, today: date) -> date:
    """--last as 2026-03-05 or as said ("去年十二月一号"); never in the future."""
    last = parse_date(text, today)
    if last is None:
        raise AssistantError(f"看不懂上次认证的日期 '{text}',请写成 2026-03-05 这样,不能是今天以后 "
                             "(--last must be a past date, e.g. 2026-03-05)")
    return last


def understand_region(flows, name: str | None) -> str | None:
    """The place as the regional rules name it ("兰州" → 甘肃), or the name itself when we have no entry."""
    if not name or not name.strip():
        return None
    return flows.place_in(Normalizer.of(flows).text(name)) or name.strip()


def plan(flows, last: date, place: str | None, today: date) -> Reminder:
    templates = flows.answers["next_date"].templates
    deadline = next_deadline(flows, last, place)
    notes = []
    if deadline.general:
        notes.append(templates["unknown_region"].format(region=place) + " (no rule for this region: the general "
                     "rule is used)" if place else "没有设置地区,按大部分地区的规定算。"
                     " (no region given: general rule)")
    notes.append(last_and_due_text(flows, deadline))
    if deadline.due < today:
        raise AssistantError(days_text(flows, deadline, today) + " 补好以后用 --last 新的日期再做提醒 "
                             f"(the deadline {deadline.due} has passed; certify first, then run again with --last)")
    notes.append(days_text(flows, deadline, today))
    return Reminder(deadline, notes)


def calendar_bytes(flows, reminder: Reminder, now: datetime | None = None) -> bytes:
    from icalendar import Alarm, Calendar, Event

    deadline = reminder.deadline
    caveat = flows.answers["next_date"].templates["caveat"]
    cal = Calendar()
    cal.add("prodid", "-//pension-assistant//养老金认证助手//ZH")
    cal.add("version", "2.0")
    event = Event()
    # The same deadline gives the same UID, so importing a new file updates the event instead of doubling it.
    event.add("uid", f"pension-certification-{deadline.due.isoformat()}@pension-assistant")
    event.add("dtstamp", now or datetime.now(UTC))
    event.add("summary", SUMMARY)
    event.add("dtstart", deadline.due)
    event.add("dtend", deadline.due + timedelta(days=1))
    event.add("description", "".join(reminder.notes[-2:-1]) + caveat)
    event.add("transp", "TRANSPARENT")
    alarm = Alarm()
    alarm.add("action", "DISPLAY")
    alarm.add("description", f"{ALARM_DAYS}天后是养老金资格认证的截止日,请提前认证。")
    alarm.add("trigger", timedelta(days=-ALARM_DAYS, hours=ALARM_HOUR))
    event.add_component(alarm)
    cal.add_component(event)
    return cal.to_ical()


def write_atomically(path: Path, data: bytes) -> None:
    path = Path(path)
    target_dir = path.parent if str(path.parent) else Path(".")
    if not target_dir.is_dir():
        raise AssistantError(f"文件夹不存在:{target_dir} (folder not found)")
    fd, tmp = tempfile.mkstemp(prefix=".reminder-", suffix=".tmp", dir=target_dir)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


REMINDER_FILE = "养老金认证提醒.ics"


def reminder_folder() -> Path:
    """Where the conversation leaves the calendar file for a relative: the home folder (ASSISTANT_REMINDER_DIR
    overrides, for tests and for a family that wants it elsewhere)."""
    return Path(os.environ.get("ASSISTANT_REMINDER_DIR") or Path.home())


def write_after_success(flows, deadline: Deadline, today: date) -> Path:
    """The calendar file for the deadline just worked out in a conversation (certified today): written
    atomically into reminder_folder(); raises AssistantError or OSError when it cannot be."""
    reminder = plan(flows, deadline.last, deadline.place, today)
    path = reminder_folder() / REMINDER_FILE
    write_atomically(path, calendar_bytes(flows, reminder))
    return path
