"""Search benchmark: the top bar's search (every kind, five hits each) at scale, on PostgreSQL.

    manage.py benchmark_search --accounts 100000 --contacts 1000000 --queries 200

Creates benchmark accounts (three-word company names) and their contacts (first.last@domain; contacts by COPY),
then times `accounts.search.search_everything` — what the top bar asks as the user types — for two kinds of
query: a part of a contact's email ("ya.raman417@" for priya.raman417@…) and an account name with one letter dropped
("Bright Falcn Logistics"). Prints p50 / p95 / max per kind of query, how often the wanted row is among the hits,
and, as the reference, one plain sequential `ILIKE` scan of the contacts (what the query costs without the trigram
indexes). Target (DESIGN.md, issue "every team"): p95 under 150 ms at 100k accounts and 1M contacts. The
benchmark rows are deleted afterwards unless --keep.
"""

from __future__ import annotations

import io
import random
import statistics
import time

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from accounts.models import Account
from accounts.search import search_everything

PREFIX = "bench-srch-"
TARGET_MS = 150
ADJECTIVES = ("Bright Silver Rapid Blue Quiet Bold Golden Clear North Swift Green Iron Lucky Prime Royal Solid "
              "Sunny True Urban Vivid Wild Young Amber Cosmic Crimson Deep Eastern Fresh Grand Happy Hidden Lunar "
              "Modern Noble Ocean Polar Red Smart Stellar Terra").split()  # fmt: skip
NOUNS = ("Falcon Harbor Maple Summit Pixel Otter Cedar Comet Delta Ember Fjord Granite Heron Island Jaguar Kestrel "
         "Lantern Meadow Nimbus Orchard Pebble Quartz Raven Sparrow Tundra Willow Anchor Beacon Canyon Dune Echo "
         "Forge Glacier Horizon Ivy Juniper Koala Lotus Monarch Nova").split()  # fmt: skip
SUFFIXES = ("Logistics Labs Systems Software Analytics Media Health Foods Energy Finance Robotics Studios Retail "
            "Travel Security Networks Consulting Capital Mobility Learning").split()  # fmt: skip
FIRST = ("Priya Marco Elena Georgi Anna Luca Maria Ivan Sofia Omar Chen Lena Tomas Aisha Diego Yuki Nadia Pavel "
         "Irene Samir Julia Mateo Petra Hugo Zara").split()  # fmt: skip
LAST = ("Raman Rossi Petrova Ivanov Bianchi Silva Novak Haddad Wang Kim Costa Dimitrov Moreau Berg Okafor Tanaka "
        "Russo Georgiev Lopez Meyer").split()  # fmt: skip


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


class Command(BaseCommand):
    help = "Benchmark the search across everything at scale (PostgreSQL)."

    def add_arguments(self, parser):
        parser.add_argument("--accounts", type=int, default=100_000)
        parser.add_argument("--contacts", type=int, default=1_000_000)
        parser.add_argument("--queries", type=int, default=200, help="Queries of each kind.")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--keep", action="store_true", help="Keep the benchmark accounts and contacts.")

    def handle(self, *args, accounts: int, contacts: int, queries: int, seed: int, keep: bool, **options):
        if connection.vendor != "postgresql":
            raise CommandError("The search targets are for PostgreSQL (trigram indexes): set DATABASE_URL.")
        if accounts < 1 or contacts < 0 or queries < 1:
            raise CommandError("--accounts and --queries must be at least 1, --contacts at least 0.")
        rng = random.Random(seed)
        self._delete()  # what a run with --keep left
        try:
            names, emails = self._seed(rng, accounts, contacts)
            self._measure(rng, names, emails, queries)
        finally:
            if not keep:
                self._delete()
                self.stdout.write("(benchmark rows deleted)")

    def _delete(self) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM accounts_contact WHERE account_id IN "
                "(SELECT id FROM accounts_account WHERE external_id LIKE %s)",
                [PREFIX + "%"],
            )
            cursor.execute("DELETE FROM accounts_account WHERE external_id LIKE %s", [PREFIX + "%"])

    def _seed(self, rng: random.Random, accounts: int, contacts: int) -> tuple[dict[int, str], list[tuple[int, str]]]:
        started = time.perf_counter()
        rows = []
        for i in range(accounts):
            name = f"{rng.choice(ADJECTIVES)} {rng.choice(NOUNS)} {rng.choice(SUFFIXES)}"
            rows.append(
                Account(external_id=f"{PREFIX}{i}", name=name, domain=f"{name.lower().replace(' ', '')}{i}.example")
            )
        Account.objects.bulk_create(rows, batch_size=5000)
        found = Account.objects.filter(external_id__startswith=PREFIX).values_list("pk", "name", "domain")
        names = {pk: name for pk, name, _ in found}
        domains = {pk: domain for pk, _, domain in found}
        ids = list(names)
        emails: list[tuple[int, str]] = []
        buffer = io.StringIO()
        for i in range(contacts):
            account_id = ids[i % len(ids)]
            first, last = rng.choice(FIRST), rng.choice(LAST)
            email = f"{first.lower()}.{last.lower()}{i}@{domains[account_id]}"
            emails.append((account_id, email))
            buffer.write(f"{account_id}\t\t\t{email}\t{first} {last}\t\tf\tf\t{{}}\t2025-01-01 00:00:00+00\n")
        buffer.seek(0)
        with connection.cursor() as cursor:
            cursor.cursor.copy_expert(
                "COPY accounts_contact (account_id, external_id, user_id, email, name, title, is_primary, "
                "unsubscribed, traits, created_at) FROM STDIN",
                buffer,
            )
            cursor.execute("ANALYZE accounts_account")
            cursor.execute("ANALYZE accounts_contact")
            cursor.execute("SELECT count(*) FROM accounts_account")
            [total_accounts] = cursor.fetchone()
            cursor.execute("SELECT count(*) FROM accounts_contact")
            [total_contacts] = cursor.fetchone()
        self.stdout.write(
            f"seeded {accounts:,} accounts and {contacts:,} contacts in {time.perf_counter() - started:.1f} s "
            f"(tables now: {total_accounts:,} accounts, {total_contacts:,} contacts)"
        )
        return names, emails

    def _timed(self, q: str) -> tuple[float, list[dict]]:
        started = time.perf_counter()
        groups = search_everything(q=q, limit=5)
        return (time.perf_counter() - started) * 1000, groups

    def _measure(self, rng, names: dict[int, str], emails: list[tuple[int, str]], queries: int) -> None:
        cases = []
        for _, email in rng.sample(emails, min(queries, len(emails))):
            # The end of the address's name and the at sign, as a CSM types what they remember: "ya.raman417@".
            local = email.split("@")[0]
            cases.append(("part of an email", local[rng.randrange(0, 5) :] + "@", "contacts", email))
        for account_id in rng.sample(list(names), min(queries, len(names))):
            name = names[account_id]
            words = name.split()
            word = words[1]
            cut = rng.randrange(1, len(word))
            words[1] = word[:cut] + word[cut + 1 :]
            cases.append(("misspelled account", " ".join(words), "accounts", name))
        self._timed("warm up")
        by_kind: dict[str, list[float]] = {}
        hits: dict[str, int] = {}
        for label, q, key, wanted in cases:
            ms, groups = self._timed(q)
            by_kind.setdefault(label, []).append(ms)
            results = next((g["results"] for g in groups if g["key"] == key), [])
            shown = {r["detail"] if key == "contacts" else r["title"] for r in results}
            hits[label] = hits.get(label, 0) + (wanted in shown)
        self.stdout.write(f"search_everything (5 kinds, 5 hits each), {queries} queries of each kind:")
        for label, times in by_kind.items():
            p95 = _percentile(times, 0.95)
            verdict = "meets" if p95 < TARGET_MS else "misses"
            self.stdout.write(
                f"  {label:<20} p50 {statistics.median(times):7.1f} ms  p95 {p95:7.1f} ms  max {max(times):7.1f} ms  "
                f"wanted row among the hits {hits[label] / len(times):.0%}  ({verdict} the {TARGET_MS} ms p95 target)"
            )
        with connection.cursor() as cursor:
            q = cases[0][1]
            cursor.execute("SET enable_bitmapscan = off")
            cursor.execute("SET enable_indexscan = off")
            started = time.perf_counter()
            cursor.execute("SELECT count(*) FROM accounts_contact WHERE upper(email) LIKE upper(%s)", [f"%{q}%"])
            scan_ms = (time.perf_counter() - started) * 1000
            cursor.execute("RESET enable_bitmapscan")
            cursor.execute("RESET enable_indexscan")
        self.stdout.write(f"reference: one sequential ILIKE scan of the contacts without the index: {scan_ms:.1f} ms")
