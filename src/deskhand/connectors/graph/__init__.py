"""Microsoft 365 through Microsoft Graph v1.0: an httpx client with msal app-only tokens
behind deskhand's ``M365`` interface.

``settings.py`` the ``m365:`` section, ``client.py`` the client, ``tokens.py`` its app-only
token, ``errors.py`` Graph's and Entra's refusals as connector errors with the fix in the Entra
admin center, ``doctor.py`` the checks of ``deskhand tenants doctor``.

Capabilities (``deskhand.connectors.capabilities``):

- ``GraphM365``: m365.passwords, m365.sessions, m365.sign_in, m365.groups, m365.groups.read,
  m365.licences, m365.all_licences, m365.mailboxes, m365.seats (asked to buy seats, it says
  where: Graph cannot), m365.users.read, m365.user_groups, m365.profiles, m365.create_users,
  m365.auto_replies, m365.forwarding, m365.onedrive, m365.auth_methods,
  m365.address_lists.read; and ad.groups, by the shape of its methods only (a tenant's AD is
  always its own connector)
"""

from deskhand.connectors.graph.client import GraphM365
from deskhand.connectors.graph.settings import GraphSettings

__all__ = ["GraphM365", "GraphSettings"]
