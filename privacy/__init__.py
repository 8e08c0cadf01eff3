"""Data-subject requests: erase or export everything churnapp holds about one person (a contact) or one customer
(an account), while the aggregate facts behind every KPI stay as they were.

The top layer, beside `demo`: it reads and scrubs every other app's tables, and no app imports it.
"""
