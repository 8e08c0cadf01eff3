"""The privacy app's reads: whom a request is about, what an erasure would change, and the export bundle."""

from privacy.selectors.export import export_chunks, export_filename
from privacy.selectors.plan import PlanRow, erasure_plan
from privacy.selectors.subjects import account_contacts, account_lookup, contact_lookup, subject_for
from privacy.subjects import ACCOUNT, CONTACT, Subject, subject_object

__all__ = [
    "ACCOUNT",
    "CONTACT",
    "PlanRow",
    "Subject",
    "account_contacts",
    "account_lookup",
    "contact_lookup",
    "erasure_plan",
    "export_chunks",
    "export_filename",
    "subject_for",
    "subject_object",
]
