"""The web app's pages, one module per part of the app; each adds its routes to ``router``."""

from __future__ import annotations

from fastapi import APIRouter

from deskhand.web.pages import (
    analysis,
    audit,
    auth,
    escalations,
    intake,
    plans,
    queue,
    tenants,
    tickets,
    trust,
)

router = APIRouter()
for module in (auth, plans, queue, tickets, escalations, intake, analysis, trust, tenants, audit):
    router.include_router(module.router)
