"""The Syncro PSA: an httpx client of its REST API v1 behind deskhand's PSA interface."""

from deskhand.connectors.syncro.client import SyncroPsa
from deskhand.connectors.syncro.records import TicketPage, TimerEntry
from deskhand.connectors.syncro.settings import SyncroSettings

__all__ = ["SyncroPsa", "SyncroSettings", "TicketPage", "TimerEntry"]
