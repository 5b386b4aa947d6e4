"""Italian social co-operatives (Law 381/1991).

- Member classes: ``worker``, ``user``, ``volunteer``, ``disadvantaged`` (disadvantaged
  people working in the co-op, who count as workers).
- Volunteers may be at most half of all members (art. 2): an admission that would pass
  ``max_volunteer_percent`` is refused, with the count.
- A type B co-op (work integration, art. 4) needs disadvantaged people to be at least
  ``min_disadvantaged_percent`` (30 %) of its workers, counted by heads; admitting a
  worker that would take it below is refused once the co-op has ``ratio_from_workers``
  workers (before that the co-op is still forming), and the ``type-b-ratio`` report
  shows the standing.
- Volunteer hours are recorded apart from paid work: a volunteer's credits go to their
  ``~volunteer`` account, never their working account.
- A mixed A+B co-op keeps separate accounts: every exchange names its sector
  (``--ref sector=A`` or ``B``) and a worker's credits go to their account for that
  sector (``anna~sector-a``, ``anna~sector-b``), so neither sector's work is counted as
  the other's.
"""

from __future__ import annotations

from timebank import Account, Posting, Problem, Report, Setting, hookimpl, sub_account

PLUGIN = "social_coop_it"
CLASSES = ["worker", "user", "volunteer", "disadvantaged"]
WORKERS = ("worker", "disadvantaged")


@hookimpl
def declare_settings():
    return [
        Setting(
            "coop_type",
            "str",
            "A",
            "A (social services), B (work integration) or A+B",
            choices=("A", "B", "A+B"),
        ),
        Setting(
            "max_volunteer_percent", "int", 50, "volunteers may be at most this % of members", min=0, max=100
        ),
        Setting("min_disadvantaged_percent", "int", 30, "type B: disadvantaged % of workers", min=0, max=100),
        Setting(
            "ratio_from_workers",
            "int",
            5,
            "type B: the ratio is enforced from this many workers",
            min=1,
            max=10_000,
        ),
    ]


@hookimpl
def declare_member_classes(settings):
    return CLASSES


@hookimpl
def declare_member_accounts(member, settings):
    if member.member_class == "volunteer":
        return [
            Account(sub_account(member.handle, "volunteer"), "volunteer", f"{member.name}'s volunteer hours")
        ]
    if settings["coop_type"] == "A+B" and member.member_class in WORKERS:
        return [
            Account(sub_account(member.handle, f"sector-{s}"), "sector", f"{member.name}: sector {s.upper()}")
            for s in ("a", "b")
        ]
    return []


def _counts(ledger, member, previous):
    counts = {c: 0 for c in CLASSES}
    for m in ledger.read.members(include_retired=False):
        if m.handle != member.handle:
            counts[m.member_class] = counts.get(m.member_class, 0) + 1
    if member.is_active:
        counts[member.member_class] = counts.get(member.member_class, 0) + 1
    return counts


@hookimpl
def validate_member(ledger, member, previous, settings):
    counts = _counts(ledger, member, previous)
    total = sum(counts.values())
    problems = []
    becomes_volunteer = member.member_class == "volunteer" and (
        previous is None or previous.member_class != "volunteer"
    )
    if becomes_volunteer and counts["volunteer"] * 100 > total * settings["max_volunteer_percent"]:
        problems.append(
            Problem(
                "error",
                PLUGIN,
                "member_class",
                f"volunteers would be {counts['volunteer']} of {total} members; the law allows at most "
                f"{settings['max_volunteer_percent']} %",
            )
        )
    workers = counts["worker"] + counts["disadvantaged"]
    if (
        settings["coop_type"] in ("B", "A+B")
        and member.member_class == "worker"
        and workers >= settings["ratio_from_workers"]
        and counts["disadvantaged"] * 100 < workers * settings["min_disadvantaged_percent"]
    ):
        problems.append(
            Problem(
                "error",
                PLUGIN,
                "member_class",
                f"disadvantaged people would be {counts['disadvantaged']} of {workers} workers; a type B "
                f"co-op needs at least {settings['min_disadvantaged_percent']} %",
            )
        )
    return problems


@hookimpl
def validate_exchanges(ledger, exchanges, settings):
    if settings["coop_type"] != "A+B":
        return []
    return [
        Problem("error", PLUGIN, "sector", "say which sector this work is for: --ref sector=A or B", i)
        for i, e in enumerate(exchanges)
        if e.refs.get("sector") not in ("A", "B")
    ]


@hookimpl
def add_postings(ledger, exchanges, postings, settings):
    members = ledger.read.members_by_handle()
    mixed = settings["coop_type"] == "A+B"
    out = []
    for exchange, made in zip(exchanges, postings, strict=True):
        extra = []
        for posting in made:
            member = members.get(posting.account)
            if member is None or posting.amount <= 0:
                continue
            if member.member_class == "volunteer":
                apart = sub_account(posting.account, "volunteer")
            elif mixed and member.member_class in WORKERS:
                apart = sub_account(posting.account, f"sector-{exchange.refs['sector'].lower()}")
            else:
                continue
            extra += [Posting(posting.account, -posting.amount), Posting(apart, posting.amount)]
        out.append(extra)
    return out


@hookimpl
def make_reports(ledger, settings):
    active = ledger.read.members(include_retired=False)
    counts = {c: sum(m.member_class == c for m in active) for c in CLASSES}
    workers = counts["worker"] + counts["disadvantaged"]
    share = 100 * counts["disadvantaged"] // workers if workers else 0
    volunteer_share = 100 * counts["volunteer"] // len(active) if active else 0
    rows = [
        (
            "volunteers",
            f"{counts['volunteer']} of {len(active)} members",
            f"{volunteer_share} %",
            "ok" if volunteer_share <= settings["max_volunteer_percent"] else "above the limit",
        ),
    ]
    if settings["coop_type"] in ("B", "A+B"):
        rows.append(
            (
                "disadvantaged workers",
                f"{counts['disadvantaged']} of {workers} workers",
                f"{share} %",
                "ok" if share >= settings["min_disadvantaged_percent"] else "below 30 %",
            )
        )
    return [
        Report(
            "type-b-ratio", "Law 381/1991 membership ratios", ("measure", "count", "share", "status"), rows
        )
    ]
