"""The HTTP API (FastAPI): parse, authenticate, call a service, render. No rules live here."""
