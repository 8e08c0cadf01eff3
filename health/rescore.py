"""Incremental health: an account whose facts change is rescored within seconds, not at the nightly run.

Every fact that feeds a health factor marks its account stale (`ScoreMark`) in the transaction that stores it:
usage through the rollup refresh, tickets, survey answers, subscriptions and account attributes through the
`facts-changed` hook. `rescore_marked` claims the oldest marks and `health_rescore` recomputes the metrics of
those accounts only, then scores them together with the stored metrics of every other account, so percentile
factors rank against the same peers as the nightly run. Each rescored account gets a new snapshot; another
account's snapshot is rewritten when the new peers move its score or band (its factor breakdown otherwise waits
for the nightly run, which stays the reconciler). Rescored accounts are announced through the
`scores-changed` hook: the rules evaluate them at once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

import pandas as pd
from django.db import transaction
from django.db.models import Count, Max
from django.utils import timezone

from accounts.models import Account
from accounts.services.health_cache import account_set_health_bulk
from churnapp import hooks
from churnapp.queries import filter_ids
from health import scores
from health.bulk import bulk_insert, marks_upsert
from health.metrics import ATTRIBUTE_KEYS, METRIC_KEYS, compute_metrics, scored_account_ids
from health.models import AccountMetrics, HealthSnapshot, ScoreMark
from health.scores import scoring_lock

BATCH = 2000  # accounts per rescoring transaction


def scores_mark(account_ids: Iterable[int]) -> None:
    """Mark accounts stale inside the current transaction (the `facts-changed` in-transaction hook); see
    `marks_upsert`: a flooded account keeps its first mark's place in the queue."""
    _mark(account_ids, routine=False)


def scores_mark_routine(account_ids: Iterable[int]) -> None:
    """The `usage-changed` in-transaction hook: a routine mark, rescored after the accounts with other new facts."""
    _mark(account_ids, routine=True)


def _mark(account_ids: Iterable[int], *, routine: bool) -> None:
    marks_upsert(
        ScoreMark, ((int(pk),) for pk in account_ids), key_fields=["account"], at=timezone.now(), routine=routine
    )


def _stored_metrics(day: dt.date) -> pd.DataFrame | None:
    """The day's stored metrics of every account with the attributes scoring needs, or None before the day's
    first full run."""
    rows = list(AccountMetrics.objects.filter(day=day).values("account_id", *METRIC_KEYS))
    if not rows:
        return None
    frame = pd.DataFrame(rows).set_index("account_id")
    attributes = pd.DataFrame(
        list(filter_ids(Account.objects, frame.index.tolist(), "pk").values("pk", *ATTRIBUTE_KEYS))
    ).set_index("pk")
    return frame.join(attributes, how="inner")[METRIC_KEYS + ATTRIBUTE_KEYS]


# This process's copy of the day's stored metrics, with the stamp of the table it was read at: a scoring worker
# reads its peers once, not once per batch (2.5 s at 100k accounts), and again only when another writer changed them.
_peers: dict = {}


def peers_forget() -> None:
    """Drop this process's copy of the stored metrics (the next rescoring reads them again)."""
    _peers.clear()


def _metrics_stamp(day: dt.date) -> tuple[int, int | None]:
    """(rows, highest id) of the day's stored metrics: every write replaces rows with new ids, so any write by
    anyone (a rescoring, the full run, a rollback) changes it."""
    stamp = AccountMetrics.objects.filter(day=day).aggregate(n=Count("id"), last=Max("id"))
    return stamp["n"], stamp["last"]


def _peer_frame(day: dt.date) -> pd.DataFrame | None:
    """`_stored_metrics`, from this process's copy while no one else has written since it was read."""
    stamp = _metrics_stamp(day)
    if _peers.get("day") != day or _peers.get("stamp") != stamp:
        _peers.update(day=day, stamp=stamp, frame=_stored_metrics(day))
    return _peers["frame"]


def _moved(results: dict, day: dt.date) -> set[int]:
    """Accounts whose score or band differs from their stored snapshot of the day (new peers move percentiles)."""
    new = pd.concat([pd.DataFrame({"score": r.score, "band": r.band}) for r in results.values()])
    stored = pd.DataFrame.from_records(
        list(HealthSnapshot.objects.filter(day=day).values_list("account_id", "score", "band")),
        columns=["account_id", "score", "band"],
    ).set_index("account_id")
    joined = new.join(stored, rsuffix="_stored", how="left")
    differs = (joined["score"].fillna(-1) != joined["score_stored"].fillna(-1)) | (
        joined["band"] != joined["band_stored"]
    )
    return {int(pk) for pk in joined.index[differs.to_numpy()]}


def day_scored(day: dt.date | None = None) -> bool:
    """Whether the day has had its full run (there are peers to score among)."""
    return AccountMetrics.objects.filter(day=day or timezone.localdate()).exists()


@transaction.atomic
def health_rescore(*, account_ids: Iterable[int], day: dt.date | None = None) -> dict:
    """Today's metrics, snapshot and cached health of these accounts, scored among everyone's stored metrics.
    The day needs its full run first (`day_scored`)."""
    day = day or timezone.localdate()
    ids = sorted({int(pk) for pk in account_ids})
    scoring_lock()
    stored = _peer_frame(day)
    if not ids or stored is None:
        return {"accounts": 0}
    scored = set(scored_account_ids(as_of=day, among=ids))
    fresh = compute_metrics(as_of=day, account_ids=sorted(scored))
    others = stored.drop(index=ids, errors="ignore")
    # Disjoint rows: the union, each account's own values (a factor it lacks stays missing).
    merged = fresh.combine_first(others).sort_index() if not fresh.empty else others
    _, results = scores.score_with_versions(merged, scores.published_versions())
    _peers.clear()  # until this transaction commits: a rollback must not leave its rows in the copy
    scores.write_metrics(fresh, day, account_ids=ids)
    stamp = _metrics_stamp(day)
    transaction.on_commit(lambda: _peers.update(day=day, stamp=stamp, frame=merged))

    moved = set(ids) | _moved(results, day)
    snapshots = scores.snapshot_rows(results, day, only=moved)
    HealthSnapshot.objects.filter(day=day, account_id__in=sorted(moved)).delete()
    bulk_insert(HealthSnapshot, snapshots)
    if day == timezone.localdate():
        rows = scores.cache_rows(snapshots, day)
        no_longer = [pk for pk in ids if pk not in scored]
        unscored = {"health_score": None, "health_band": "", "health_trend": None, "health_scored_at": None}
        rows += [{"account_id": pk, **unscored} for pk in no_longer]
        account_set_health_bulk(rows=rows)
    hooks.notify(hooks.SCORES_CHANGED, ids)
    return {"accounts": len(ids), "scored": len(scored), "snapshots": len(snapshots)}


def rescore_marked(*, limit: int = BATCH) -> dict:
    """Claim the oldest marks (skipping those another worker holds) and rescore their accounts, in one
    transaction: a crash puts the marks back. Before the day's full run nothing is claimed (`day_scored`): that
    run scores everyone and clears the marks it covered."""
    if not day_scored():
        return {"accounts": 0, "day_scored": False}
    with transaction.atomic():
        # The scoring lock first, then the marks: the full run (which holds the lock and then deletes marks) never
        # waits for a mark claimed by a rescoring. A worker finding another writer at work leaves the marks to it
        # (it drains them, or the full run scores everyone) instead of idling on the lock.
        if not scoring_lock(wait=False):
            return {"accounts": 0, "busy": True}
        claimed = list(
            ScoreMark.objects.select_for_update(skip_locked=True).order_by("routine", "marked_at", "account_id")
            .values_list("account_id", "marked_at")[:limit]
        )  # fmt: skip
        if not claimed:
            return {"accounts": 0}
        ScoreMark.objects.filter(account_id__in=[pk for pk, _ in claimed]).delete()
        result = health_rescore(account_ids=[pk for pk, _ in claimed])
    oldest = min(at for _, at in claimed)
    return {**result, "oldest_mark_age_s": round((timezone.now() - oldest).total_seconds(), 1)}
