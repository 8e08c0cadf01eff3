"""Identity resolution: `group` calls create accounts and link users to them as contacts, `identify` calls update
contacts, `alias` calls join two ids of one person, and each event finds its account (by group id, else by the
user's contact, else by an alias)."""

from __future__ import annotations

from django.db import connection

from accounts.imports.services.upsert import rows_upsert
from accounts.models import Account, Contact, PendingMessage, TrackingAlias
from accounts.tracking.messages import Message
from accounts.tracking.traits import contact_fields_of, split_account_traits
from accounts.webhooks_helpdesk import helpdesk_unmatched_replay
from audit.capture import record_objects


def apply_groups(groups: list[Message]) -> None:
    """Create/update the accounts named by group calls and link each user to its account as a contact."""
    latest: dict[str, Message] = {}
    for msg in sorted(groups, key=lambda m: m.occurred_at):
        latest[msg.group_id] = msg
    rows = []
    for index, (group_id, msg) in enumerate(latest.items()):
        row = {"external_id": group_id, **split_account_traits(msg.traits)}
        # Merge traits of every group call of this batch for the same account (latest wins per key).
        for other in groups:
            if other.group_id == group_id and other is not msg:
                merged = split_account_traits(other.traits).get("custom_attributes", {})
                row["custom_attributes"] = {**merged, **row.get("custom_attributes", {})}
        rows.append((index, row))
    rows_upsert(kind="accounts", rows=rows, replay=False)
    # Tickets that were waiting for these accounts attach now (tracking messages replay in _process).
    helpdesk_unmatched_replay(
        external_ids=list(latest), domains=[row["domain"] for _, row in rows if row.get("domain")]
    )
    accounts = dict(Account.objects.filter(external_id__in=latest).values_list("external_id", "pk"))
    links = {(accounts[m.group_id], m.user_id) for m in groups if m.user_id}
    _ensure_contacts(links)


def _ensure_contacts(links: set[tuple[int, str]]) -> None:
    if not links:
        return
    existing = set(
        Contact.objects.filter(account_id__in={a for a, _ in links}, user_id__in={u for _, u in links}).values_list(
            "account_id", "user_id"
        )
    )
    record_objects(
        Contact, created=Contact.objects.bulk_create([Contact(account_id=a, user_id=u) for a, u in links - existing])
    )


def apply_identifies(identifies: list[Message]) -> list[Message]:
    """Update contacts from identify traits; returns the messages whose user has no contact (and no account) yet."""
    group_ids = {m.group_id for m in identifies if m.group_id}
    accounts = dict(Account.objects.filter(external_id__in=group_ids).values_list("external_id", "pk"))
    _ensure_contacts({(accounts[m.group_id], m.user_id) for m in identifies if m.group_id in accounts})
    contacts: dict[str, list[Contact]] = {}
    for contact in Contact.objects.filter(user_id__in={m.user_id for m in identifies}):
        contacts.setdefault(contact.user_id, []).append(contact)
    taken = set(
        Contact.objects.filter(account_id__in={c.account_id for cs in contacts.values() for c in cs})
        .exclude(email="")
        .values_list("account_id", "email")
    )
    unresolved, changed, fields = [], {}, set()
    diffs: dict[int, dict[str, tuple]] = {}  # contact pk → field → (old, new), for the audit trail
    for msg in sorted(identifies, key=lambda m: m.occurred_at):
        if msg.user_id not in contacts:
            unresolved.append(msg)
            continue
        values, extra = contact_fields_of(msg.traits)
        for contact in contacts[msg.user_id]:
            for name, value in values.items():
                if name == "email" and value != contact.email:
                    if (contact.account_id, value) in taken:
                        continue
                    taken.add((contact.account_id, value))
                if getattr(contact, name) != value:
                    first = diffs.setdefault(contact.pk, {}).get(name, (getattr(contact, name), None))[0]
                    diffs[contact.pk][name] = (first, value)
                    setattr(contact, name, value)
                    fields.add(name)
                    changed[contact.pk] = contact
            if extra and {**contact.traits, **extra} != contact.traits:
                first = diffs.setdefault(contact.pk, {}).get("traits", (contact.traits, None))[0]
                diffs[contact.pk]["traits"] = (first, {**contact.traits, **extra})
                contact.traits = {**contact.traits, **extra}
                fields.add("traits")
                changed[contact.pk] = contact
    if changed:
        Contact.objects.bulk_update(list(changed.values()), sorted(fields), batch_size=500)
        record_objects(Contact, updated=[(contact, diffs[pk]) for pk, contact in changed.items()])
    return unresolved


def _account_ids(external_ids: set[str]) -> dict[str, int]:
    """external id → pk of the known accounts among `external_ids` (one query)."""
    if not external_ids:
        return {}
    if connection.vendor == "postgresql":  # one array parameter instead of an IN list of thousands
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT external_id, id FROM {Account._meta.db_table} WHERE external_id = ANY(%s)",
                [list(external_ids)],
            )
            return dict(cursor.fetchall())
    return dict(Account.objects.filter(external_id__in=external_ids).values_list("external_id", "pk"))


def resolve_event_accounts(events: list[Message]) -> tuple[list[dict], list[Message]]:
    group_ids = {m.group_id for m in events if m.group_id}
    accounts = _account_ids(group_ids)
    users_without_group = {m.user_id for m in events if not m.group_id}
    by_user: dict[str, int] = {}
    if users_without_group:
        for user_id, account_id in (
            Contact.objects.filter(user_id__in=users_without_group).order_by("-id").values_list("user_id", "account_id")
        ):
            by_user[user_id] = account_id
        # Users known by another id since an alias call: their messages go to that user's account.
        aliases = _aliased(users_without_group - set(by_user))
        if aliases:
            found = dict(
                Contact.objects.filter(user_id__in=set(aliases.values()))
                .order_by("id")
                .values_list("user_id", "account_id")
            )
            by_user.update({old: found[new] for old, new in aliases.items() if new in found})
    rows, unresolved = [], []
    for msg in events:
        account_id = accounts.get(msg.group_id) if msg.group_id else by_user.get(msg.user_id)
        if account_id is None:
            unresolved.append(msg)
            continue
        rows.append(
            {
                "account_id": account_id,
                "user_id": msg.user_id,
                "event_type": msg.event,
                "occurred_at": msg.occurred_at,
                "properties": msg.properties,
                "message_id": msg.message_id,
            }
        )
    return rows, unresolved


def apply_aliases(aliases: list[Message]) -> set[str]:
    """Record previousId → userId, move contacts known by the previous id to the user id (unless the account
    already has a contact with it) and let waiting messages of the previous id wait for the user id; returns the
    user ids whose waiting messages may now resolve."""
    mapping = {m.previous_id: m.user_id for m in sorted(aliases, key=lambda m: m.occurred_at)}
    TrackingAlias.objects.bulk_create(
        [TrackingAlias(previous_id=p, user_id=u) for p, u in mapping.items()],
        update_conflicts=True,
        unique_fields=["previous_id"],
        update_fields=["user_id"],
    )
    contacts = list(Contact.objects.filter(user_id__in=mapping))
    old_ids: dict[int, str] = {}
    taken = set(
        Contact.objects.filter(account_id__in={c.account_id for c in contacts}, user_id__in=set(mapping.values()))
        .values_list("account_id", "user_id")
    )  # fmt: skip
    moved = []
    for contact in contacts:
        new_id = mapping[contact.user_id]
        if (contact.account_id, new_id) not in taken:
            taken.add((contact.account_id, new_id))
            old_ids[contact.pk] = contact.user_id
            contact.user_id = new_id
            moved.append(contact)
    Contact.objects.bulk_update(moved, ["user_id"], batch_size=500)
    record_objects(Contact, updated=[(c, {"user_id": (old_ids[c.pk], c.user_id)}) for c in moved])
    waiting = list(PendingMessage.objects.filter(group_id="", user_id__in=mapping))
    for pending in waiting:
        pending.user_id = mapping[pending.user_id]
    PendingMessage.objects.bulk_update(waiting, ["user_id"], batch_size=500)
    return set(mapping.values())


def _aliased(user_ids: set[str]) -> dict[str, str]:
    """previous id → user id for the given ids that were aliased."""
    if not user_ids:
        return {}
    return dict(TrackingAlias.objects.filter(previous_id__in=user_ids).values_list("previous_id", "user_id"))
