"""Watching the platform from outside: Prometheus metrics (issue 23).

A ground-floor package like ``limits``: it knows nothing of payments or the database, only
how to count and time what the faces (the API, the worker) report to it, across processes.
"""
