"""The USSD channel's use cases (issue 24): sessions, sign-up, the menus' look-ups and the
money they move, through the same services (KYC limits, risk gate, idempotency, audit) as
the API. ``channel.answer`` is the one entry point the ``POST /ussd`` adapter calls."""
