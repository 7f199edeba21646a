"""A few gauges in Prometheus text format; counters that workers bump live in ``COUNTERS``."""

from __future__ import annotations

from collections import Counter

from app.models.accounts import Account
from app.models.contacts import Department, Person
from app.models.orgs import Org

COUNTERS: Counter[str] = Counter()


async def render() -> str:
    lines = [
        "# TYPE landing_orgs gauge",
        f"landing_orgs {await Org.all().count()}",
        "# TYPE landing_accounts gauge",
        f"landing_accounts {await Account.all().count()}",
        "# TYPE landing_departments gauge",
        f"landing_departments {await Department.filter(is_deleted=False).count()}",
        "# TYPE landing_people_active gauge",
        f"landing_people_active {await Person.filter(is_active=True).count()}",
    ]
    for name, value in sorted(COUNTERS.items()):
        lines += [f"# TYPE landing_{name}_total counter", f"landing_{name}_total {value}"]
    return "\n".join(lines) + "\n"
