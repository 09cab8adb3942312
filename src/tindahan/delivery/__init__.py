"""Delivery: the zone between two places by their PSGC codes, couriers' rate cards, and
what a parcel costs and how long it takes by each courier (issue 25)."""
