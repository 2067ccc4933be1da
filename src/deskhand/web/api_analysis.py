"""The JSON API for analyses: /api/v1/analyses (routes added by the analysis work)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
