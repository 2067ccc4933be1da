"""Active Directory over LDAP(S): the real connector behind ``deskhand.connectors.ad``.

``settings.py`` the ``ad:`` section, ``client.py`` the client, ``security.py`` reading the
security descriptors the doctor checks rights with, ``errors.py`` LDAP's result codes as
connector errors with the fix in Active Directory Users and Computers, ``doctor.py`` the checks
of ``deskhand tenants doctor``.

Capabilities (``deskhand.connectors.capabilities``):

- ``LdapDirectory``: ad.passwords, ad.unlock, ad.accounts, ad.groups, ad.placement,
  ad.provisioning; and m365.users.read, m365.user_groups, m365.create_users, by the shape
  of its methods only (Microsoft 365 is always its own connector)
"""

from deskhand.connectors.ldap.client import LdapDirectory
from deskhand.connectors.ldap.settings import LdapSettings

__all__ = ["LdapDirectory", "LdapSettings"]
