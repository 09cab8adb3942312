"""The web app: server-rendered pages for merchants, buyers and the operator.

A face like ``api`` (it parses forms, calls services, renders HTML; no business rules),
served by the same FastAPI application at ``/`` while the API stays under ``/v1``. People
sign in with a phone number and PIN (``services.platform.logins``); a signed-in browser becomes a
``Caller`` for its party, so every page reaches exactly what that party's API key would,
through the same services and the same tenancy checks.
"""
