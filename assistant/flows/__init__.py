"""Dialogs, phrases and knowledge from flows/, loaded and checked at start."""

from assistant.flows.build import RETURN, load_flows
from assistant.flows.model import Answer, Flows, Intent, Phrase, Region, Source, State, sentences

__all__ = ["RETURN", "load_flows", "Answer", "Flows", "Intent", "Phrase", "Region", "Source", "State", "sentences"]
