"""Solidarity co-operatives (Quebec-style multi-stakeholder health co-ops).

Member classes ``user``, ``worker`` and ``supporter``. Activity with members is reported
separately for users and for workers (the ``activity-by-class`` report): how many are
active and how many hours they gave and received, so the general meeting sees each
stakeholder group's part.
"""

from __future__ import annotations

from timebank import Report, Setting, hookimpl
from timebank.units import format_hours

PLUGIN = "solidarity_coop"
CLASSES = ["user", "worker", "supporter"]


@hookimpl
def declare_settings():
    return [
        Setting(
            "report_classes", "str_list", ["user", "worker"], "classes reported separately", max_length=50
        )
    ]


@hookimpl
def declare_member_classes(settings):
    return CLASSES


def activity_by_class(ledger, classes):
    members = ledger.read.members_by_handle()
    stats = {c: {"members": 0, "active": set(), "given": 0, "received": 0} for c in classes}
    for m in members.values():
        if m.member_class in stats and m.is_active:
            stats[m.member_class]["members"] += 1
    for service in ledger.read.services():
        givers, minutes = service.givers, service.minutes
        for handle in givers:
            cls = members[handle].member_class
            if cls in stats:
                stats[cls]["given"] += minutes
                stats[cls]["active"].add(handle)
        receivers = service.receivers
        for handle in receivers:
            cls = members[handle].member_class
            if cls in stats:
                stats[cls]["received"] += minutes * len(givers) // len(receivers)
                stats[cls]["active"].add(handle)
    return [
        (c, s["members"], len(s["active"]), format_hours(s["given"]), format_hours(s["received"]))
        for c, s in stats.items()
    ]


@hookimpl
def make_reports(ledger, settings):
    return [
        Report(
            "activity-by-class",
            "Activity with members, by stakeholder class",
            ("class", "members", "active", "hours given", "hours received"),
            activity_by_class(ledger, settings["report_classes"]),
        )
    ]
