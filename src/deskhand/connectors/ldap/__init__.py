"""Active Directory over LDAP(S): the real connector behind ``deskhand.connectors.ad``."""

from deskhand.connectors.ldap.directory import LdapDirectory
from deskhand.connectors.ldap.settings import LdapSettings

__all__ = ["LdapDirectory", "LdapSettings"]
