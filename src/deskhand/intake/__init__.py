"""Every way a ticket arrives, and the one way it is stored.

    psa_poller   the tenant's PSA (Syncro), read on the worker's schedule or on demand
    mailbox      the tenant's support mailbox (IMAP), read the same way
    polling      both of them, for every tenant: what the worker and ``intake poll`` run
    exports      the open tickets of another PSA's export files (``intake import``)
    arrival      ``Arrival`` and ``receive``: the one store-and-queue path all of them use,
                 and ``add_ticket`` for a ticket opened by hand (``tickets add``)
    answers      a requester's answer to the question a ticket waits on
    quarantine   what could not be taken, kept with its reason; ``retake`` takes it again

Each arrival says where it came from (``deskhand.domain.origin.TicketOrigin``), stored with the
ticket. Intake stores through ``deskhand.engine.state`` and queues runs for the workers; nothing
in ``deskhand.engine`` imports intake.
"""
