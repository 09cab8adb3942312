"""Delivery's use cases: couriers' rate cards, the couriers a storefront ships with, and
the shipping offers a checkout shows (rules: ``tindahan.delivery``)."""
