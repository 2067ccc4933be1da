"""Tenants: their connection files and the secrets those reference."""
