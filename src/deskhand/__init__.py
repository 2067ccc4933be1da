"""deskhand: a self-hosted AI helpdesk for MSPs that drafts the work and lets a human approve it."""

__version__ = "0.1.0"
