"""The sandbox: the stand-in of every client system for the demo and the tests — Microsoft 365
as Graph behaves, Active Directory as LDAP behaves, the PSA as Syncro behaves — kept in a
database of its own.

``store.py`` that database and its call log (with fault injection for crash tests),
``systems.py`` the three systems, ``seed.py`` the demo's two tenants. The contract suite
(``tests/connectors/contract/``) runs the same checks against these systems and the real
clients, so that what the sandbox shows is what production does.

Capabilities (``deskhand.connectors.capabilities``):

- ``SandboxM365``: m365.passwords, m365.sessions, m365.sign_in, m365.groups, m365.groups.read,
  m365.licences, m365.all_licences, m365.mailboxes, m365.seats, m365.users.read,
  m365.user_groups, m365.profiles, m365.create_users, m365.auto_replies, m365.forwarding,
  m365.onedrive, m365.auth_methods, m365.address_lists.read; and ad.groups, by the shape
  of its methods only (a tenant's AD is always its own connector)
- ``SandboxAD``: ad.passwords, ad.unlock, ad.accounts, ad.groups, ad.placement,
  ad.provisioning; and m365.users.read, m365.user_groups, m365.create_users, by the shape
  of its methods only (Microsoft 365 is always its own connector)
- ``SandboxPsa``: psa.comments, psa.status, psa.time
"""
