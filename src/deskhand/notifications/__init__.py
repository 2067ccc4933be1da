"""Telling technicians where they already are — Teams, Slack, e-mail, any JSON webhook —
through apprise: new plans waiting (one message per tenant per round), drafts about to expire
(once), new escalations, failed or uncertain executions.

``targets`` says where (the MSP's settings, each tenant's connection file), ``due`` what is due
and records it in the one event log, ``messages`` what a message says, ``delivery`` sends it
off the worker's thread, and ``notifier`` is the one call a worker makes each turn.
"""
