"""Actions: every typed change deskhand can make to a tenant's systems, one class each, grouped
by system (``m365``, ``ad``, ``exchange``, ``psa``) and registered as plugins
(``deskhand.actions`` entry points) exactly as an MSP's own would be. The contract is in
``deskhand.actions.contract``; ``action(name)`` finds one."""

from deskhand.actions.registry import action, catalogue

__all__ = ["action", "catalogue"]
