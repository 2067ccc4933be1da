"""The Syncro PSA: an httpx client of its REST API v1 behind deskhand's ``Psa`` interface.

``settings.py`` the ``psa:`` section, ``client.py`` the client, ``limiter.py`` the API key's
request budget, ``records.py`` what polling reads, ``errors.py`` Syncro's refusals as connector
errors with the fix in Syncro's admin, ``doctor.py`` the checks of ``deskhand tenants doctor``.

Capabilities (``deskhand.connectors.capabilities``):

- ``SyncroPsa``: psa.comments, psa.status, psa.time
"""

from deskhand.connectors.syncro.client import SyncroPsa
from deskhand.connectors.syncro.records import TicketPage, TimerEntry
from deskhand.connectors.syncro.settings import SyncroSettings

__all__ = ["SyncroPsa", "SyncroSettings", "TicketPage", "TimerEntry"]
