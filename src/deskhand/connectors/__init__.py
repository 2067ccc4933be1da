"""Connectors: the only code that talks to a client's outside systems.

What deskhand asks of each system is a protocol: ``m365.py``, ``ad.py``, ``psa.py`` and the
``Mailer`` of ``mail/``; what an action needs of one is a capability (``capabilities.py``), so
a connector grows by capability, not by edits to one shared class. A tenant's connection file
and its secret references (``connection.py``, ``secrets.py``) say which client each system
gets; ``factory.py`` builds them per tenant. Shared by all clients: ``errors.py`` (the errors a
connector may raise), ``calls.py`` (timeouts, retries, circuit breakers), ``redaction.py``
(secrets out of every message), ``doctor.py`` (a finding of ``deskhand tenants doctor``).

Every real connector's folder (``graph/``, ``ldap/``, ``syncro/``, ``mail/``) has the same
shape: ``settings.py`` (its section of the connection file), ``client.py`` (``smtp.py`` and
``imap.py`` for mail's two), ``errors.py`` (the system's refusals as connector errors, with
the fix in its admin portal's words), ``doctor.py`` (its own checks), and its ``__init__``
says which capabilities it provides. ``sandbox/`` stands in for all of them.
"""
