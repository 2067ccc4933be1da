"""Trust figures for the operating year: how technicians treat the drafts, read from the event log.

``deskhand.trust.metrics`` computes them; the web app's Trust page and its CSV show them.
"""
