"""The privacy app's writes: erasure of a contact's or an account's personal data.

`erase_contact` / `erase_account` are the single entry points (page, API and command call them);
`PERSONAL_DATA_PLACES` lists every place personal data lives and what the erasure does there.
"""

from privacy.places import KEPT, PERSONAL_DATA_PLACES, Place
from privacy.services.erasure import ErasureRefused, ErasureSummary, erase_account, erase_contact

__all__ = [
    "KEPT",
    "PERSONAL_DATA_PLACES",
    "Place",
    "ErasureRefused",
    "ErasureSummary",
    "erase_account",
    "erase_contact",
]
