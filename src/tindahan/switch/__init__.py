"""The simulated clearing switch (issue 19, item 6): ``tindahan rails switch``.

A stand-in for InstaPay's and PESONet's clearing house and the banks behind them, run as
its own process on loopback: ``clearing`` decides what each transfer gets (the schemes'
rules and a fault profile), ``app`` serves it over HTTP with signed requests. Tindahan
reaches it through ``tindahan.worker.rails.HttpRail``, one implementation of the services'
``RailPort``: a real connector replaces it without touching the services.
"""
