"""Microsoft 365 through Microsoft Graph v1.0: an httpx client with msal app-only tokens
behind deskhand's M365 interface."""

from deskhand.connectors.graph.client import GraphM365
from deskhand.connectors.graph.settings import GraphSettings

__all__ = ["GraphM365", "GraphSettings"]
