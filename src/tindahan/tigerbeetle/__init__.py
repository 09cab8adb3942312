"""TigerBeetle, the replicated ledger for deployments that outgrow one database (issue 22).

An adapter beside the store: ``server`` finds (or builds, from the vendored source release)
the ``tigerbeetle`` binary, ``cluster`` formats, starts and stops a development cluster on
loopback, ``address`` parses the ledger URL (``tigerbeetle://CLUSTER@ADDR,ADDR,…``) and
``ledger`` speaks Tindahan's ledger port through the official Python client.
"""

#: The server release this code runs and builds; the Python client is pinned to the same.
RELEASE = "0.17.8"
