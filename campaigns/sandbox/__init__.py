"""The sandbox gateway: a local emulator of the mPaaS and EMAS push APIs.

``gateway`` routes a signed call to its action handler (``mpaas``, ``emas``) after
``auth`` verified it and ``faults`` had its say; ``registry`` derives the simulated
devices; ``ledger`` records what was accepted with its simulated delivery.
"""
