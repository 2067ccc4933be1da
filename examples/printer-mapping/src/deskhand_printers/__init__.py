"""An example deskhand plugin: mapping a shared printer for a user (a manual step)."""
