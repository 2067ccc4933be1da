"""The sandbox: the stand-in of every client system for the demo and the tests — Microsoft 365
as Graph behaves, Active Directory as LDAP behaves, the PSA as Syncro behaves — kept in a
database of its own.

``store.py`` that database and its call log (with fault injection for crash tests),
``systems.py`` the three systems, ``seed.py`` the demo's two tenants. The contract suite
(``tests/connectors/contract/``) runs the same checks against these systems and the real
clients, so that what the sandbox shows is what production does.

Capabilities (``deskhand.connectors.capabilities``):

- ``SandboxM365``: m365.passwords, m365.sessions, m365.sign_in, m365.groups, m365.groups.read,
  m365.licences, m365.mailboxes, m365.seats
- ``SandboxAD``: ad.passwords, ad.unlock, ad.accounts, ad.groups
- ``SandboxPsa``: psa.comments, psa.status, psa.time
"""
