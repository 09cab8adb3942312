"""Lending: loan products, offers with Truth-in-Lending disclosure, schedules, repayment,
delinquency.

The domain rules, with no framework and no database: ``terms`` (frequencies, methods, due
dates), ``schedule`` (amortisation with named rounding), ``eir`` (the effective interest
rate as an internal rate of return), ``disclosure`` (what RA 3765 and BSP Circular 730 make
a lender show before acceptance), ``caps`` (the small-loan ceilings), ``allocation`` (which
part of a loan a payment settles), ``accrual`` (interest earned to a date), ``delinquency``
(days past due, buckets, penalties, PAR), ``calendar`` (holidays), ``errors``.
"""
