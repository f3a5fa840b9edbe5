"""When is the next certification due? The region's rule from regions.yaml, else the general one."""

from dataclasses import dataclass
from datetime import date, timedelta

from assistant.flows import Flows, Region


@dataclass(frozen=True)
class Deadline:
    """The next certification date and the rule it came from."""

    last: date
    due: date
    rule: Region
    """the region whose cycle was used (the general rule when the place has none)"""
    place: str | None
    """the place asked about; set and without a rule of its own means the general rule stood in"""

    @property
    def general(self) -> bool:
        return self.rule.name == "general"


def rule_for(flows: Flows, place: str | None) -> Region:
    """The cycle rule for a place: its own, else its province's (天水 → 甘肃, via the division table), else the
    general rule."""
    region = flows.find_region(place) if place else None
    if region is None and place:
        named = flows.place_in(place)
        region = flows.find_region(named) if named else None
    while region is not None:
        if region.cycle_days:
            return region
        region = flows.find_region(region.within) if region.within else None
    return flows.general_region


def next_deadline(flows: Flows, last: date, place: str | None) -> Deadline:
    rule = rule_for(flows, place)
    assert rule.cycle_days  # rule_for only returns a region with a cycle; flows/build checks the general one has
    return Deadline(last, last + timedelta(days=rule.cycle_days), rule, place)


def rule_text(flows: Flows, deadline: Deadline) -> str:
    """How the rule used is said: "大部分地区十二个月一次" or "甘肃一百八十天一次" (next_date's templates)."""
    t = flows.answers["next_date"].templates
    if deadline.general:
        return t["general_rule"]
    return t["region_rule"].format(region=deadline.rule.name, cycle=deadline.rule.cycle)


def due_text(flows: Flows, deadline: Deadline) -> str:
    """"按甘肃一百八十天一次,下次最晚在2026年11月28日之前认证。" (next_date's after_success template)."""
    from assistant.understanding.dates import spoken_date

    return flows.answers["next_date"].templates["after_success"].format(rule=rule_text(flows, deadline),
                                                                        deadline=spoken_date(deadline.due))


def last_and_due_text(flows: Flows, deadline: Deadline) -> str:
    """"按甘肃一百八十天一次,您上次是……认证的,下次最晚在……之前认证。" (next_date's own sentence)."""
    from assistant.understanding.dates import spoken_date

    return flows.answers["next_date"].say.format(rule=rule_text(flows, deadline), last=spoken_date(deadline.last),
                                                 deadline=spoken_date(deadline.due))


def days_text(flows: Flows, deadline: Deadline, today: date) -> str:
    """"离现在还有8天。", or how many days it is overdue and what to do."""
    t = flows.answers["next_date"].templates
    days = (deadline.due - today).days
    return t["remaining"].format(days=days) if days >= 0 else t["overdue"].format(days=-days)
