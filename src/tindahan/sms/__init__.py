"""SMS: the texts Tindahan sends to phones, and the port an SMS provider is reached through.

Plain Python (no framework): ``gsm7`` counts what a text costs on the network, ``texts``
holds every message in English, Filipino and Cebuano and renders it within one part,
``notices`` says which events become which messages for whom, and ``port`` is the interface
the outbox's worker sends through (an HTTP aggregator, or the local gateway of the demo).
"""
