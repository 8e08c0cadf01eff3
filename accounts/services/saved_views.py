"""Saving and deleting accounts-list views, with the permissions of viewers, owners and managers."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from accounts.models import SavedView

if TYPE_CHECKING:
    from django.contrib.auth.models import AbstractBaseUser


def saved_view_create(*, owner: AbstractBaseUser, name: str, query: str, shared: bool) -> SavedView:
    """Save (or overwrite) one of the user's accounts-list views. Viewers change nothing, not even views."""
    if not owner.has_perms(["accounts.add_savedview", "accounts.change_savedview"]):
        raise PermissionDenied(_("Viewers cannot save views."))
    view, _created = SavedView.objects.update_or_create(
        owner=owner, name=name, defaults={"query": query.lstrip("?"), "shared": shared}
    )
    return view


def saved_view_delete(*, view: SavedView, actor: AbstractBaseUser) -> None:
    """The owner (unless a viewer) or anyone allowed to delete views (managers, admins) deletes a view."""
    own = view.owner_id == actor.pk and actor.has_perm("accounts.change_savedview")
    if not own and not actor.has_perm("accounts.delete_savedview"):
        raise PermissionDenied(_("Only the owner can delete this view (viewers change nothing)."))
    view.delete()
