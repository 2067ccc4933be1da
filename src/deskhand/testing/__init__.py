"""The conformance kit: the checks every specialist and action must pass — deskhand's own and
any an MSP installs — shipped in the package, so a plugin's author runs them where the plugin
is installed::

    pip install deskhand my-msp-plugins
    pytest --pyargs deskhand.testing.conformance

The kit is a pytest plugin too (``pytest11`` entry point ``deskhand``): it gives any test the
``no_io`` fixture, which fails a test that opens a socket or a database. ``samples`` has the
ticket and the directory objects plans are tried on; ``checks`` has the checks as functions,
for a plugin's own tests.
"""
