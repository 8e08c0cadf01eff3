"""Churn records and win-back campaigns (see the win-back issue)."""
