"""A simulated operating year: synthetic tenants, synthetic tickets and simulated technicians,
run through deskhand's real intake, worker, policy, approvals and executor on a simulated
clock. ``bench/operating_year.py`` prints what it shows; ``deskhand demo`` seeds a few months
of it so the Trust page has a history on first run. Everything it makes is labelled synthetic.
"""
