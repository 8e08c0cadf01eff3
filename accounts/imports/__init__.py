"""Bulk data in: set-based upserts (shared with the REST API), the fast event writer and file imports."""
