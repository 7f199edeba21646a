"""Deterministic, realistic EKP organisation: a company tree 4-8 levels deep, posts, persons and groups.

Same seed, same data (ids included). Timestamps ascend in creation order with clusters sharing one millisecond, as
bulk imports produce, and a few elements "edited later" so children sometimes change after their parents.
"""

from __future__ import annotations

import random
from collections import defaultdict

from app.ekp.models import ElementType
from app.ekp.simulator import names
from app.ekp.simulator.clock import str_to_ms
from app.ekp.simulator.state import DEFAULT_PERSON_PASSWORD, SimElement

DEFAULT_START = "2024-01-02 09:00:00.000"


class _Generator:
    def __init__(self, seed: int, max_depth: int, person_password: str) -> None:
        self.rng = random.Random(seed)
        self.max_depth = max_depth
        self.password = person_password
        self.sibling_names: dict[str, set[str]] = defaultdict(set)
        self.logins: dict[str, int] = {}

    def new_id(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def unique_name(self, parent: str, base: str) -> str:
        # DingTalk rejects same-named siblings, and EKP admins rarely create them; keep generated trees clean.
        taken = self.sibling_names[parent]
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base}{n}"
        taken.add(name)
        return name

    def dept_name(self, depth: int) -> str:
        if depth == 1:
            return self.rng.choice(names.FUNCTIONS + names.REGIONS)
        if depth == 2:
            return self.rng.choice(names.FUNCTIONS + names.UNITS)
        return self.rng.choice(names.UNITS + names.TEAMS)

    def login_name(self, pinyin: str) -> str:
        n = self.logins.get(pinyin, 0) + 1
        self.logins[pinyin] = n
        return pinyin if n == 1 else f"{pinyin}{n}"

    def build(self, dept_count: int, person_count: int) -> list[SimElement]:
        rng = self.rng
        root = SimElement(id=self.new_id(), type=ElementType.ORG, name=names.COMPANY_NAME, alter_ms=0, order=1)
        root.no = "ORG001"
        depts: list[SimElement] = []
        depth: dict[str, int] = {root.id: 0}
        eligible: list[SimElement] = []  # depts that may still get children without exceeding max_depth
        top = min(dept_count, max(3, min(16, round(dept_count**0.5 / 2))))
        for i in range(dept_count):
            if i < top:
                parent = root
            elif i < top + 3:
                # A guaranteed chain so even a tiny org is at least four levels deep.
                parent = depts[-1] if i > top else depts[0]
            else:
                parent = rng.choice(eligible) if eligible else root
            level = depth[parent.id] + 1
            dept = SimElement(
                id=self.new_id(),
                type=ElementType.DEPT,
                name=self.unique_name(parent.id, self.dept_name(level)),
                alter_ms=0,
                parent=parent.id,
                order=len(self.sibling_names[parent.id]),
                no=f"D{i + 1:05d}",
            )
            depth[dept.id] = level
            depts.append(dept)
            if level < self.max_depth:
                eligible.append(dept)

        posts: list[SimElement] = []
        for dept in depts:
            if rng.random() < 0.3:
                title = rng.choice(names.POST_TITLES)
                posts.append(
                    SimElement(
                        id=self.new_id(),
                        type=ElementType.POST,
                        name=f"{dept.name}{title}",
                        alter_ms=0,
                        parent=dept.id,
                        no=f"P{len(posts) + 1:05d}",
                    )
                )

        persons = self.persons(person_count, depts or [root])
        by_dept: dict[str, list[SimElement]] = defaultdict(list)
        for person in persons:
            by_dept[person.parent or root.id].append(person)
        for post in posts:
            pool = by_dept.get(post.parent or "") or persons
            for person in rng.sample(pool, min(len(pool), rng.randint(1, 2))):
                post.persons.append(person.id)
                person.posts.append(post.id)
        for dept in depts:
            staff = by_dept.get(dept.id)
            if staff and rng.random() < 0.5:
                dept.this_leader = rng.choice(staff).id

        groups: list[SimElement] = []
        for g in range(min(50, max(1, dept_count // 20)) if persons else 0):
            group = SimElement(
                id=self.new_id(), type=ElementType.GROUP, name=f"项目群组{g + 1:02d}", alter_ms=0, no=f"G{g + 1:03d}"
            )
            group.members = [p.id for p in rng.sample(persons, min(len(persons), rng.randint(5, 30)))]
            groups.append(group)

        everything = [root, *depts, *posts, *persons, *groups]
        self.stamp(everything)
        return everything

    def persons(self, count: int, depts: list[SimElement]) -> list[SimElement]:
        rng = self.rng
        mobiles = rng.sample(range(10**9), count)
        prefixes = ("13", "15", "18", "17", "19")
        result: list[SimElement] = []
        for i in range(count):
            surname, surname_py = rng.choice(names.SURNAMES)
            given = [rng.choice(names.GIVEN) for _ in range(rng.choice((1, 2, 2)))]
            login = self.login_name(surname_py + "".join(py for _, py in given))
            level_name, level_value = rng.choice(names.STAFFING_LEVELS)
            mobile = mobiles[i]
            person = SimElement(
                id=self.new_id(),
                type=ElementType.PERSON,
                name=surname + "".join(ch for ch, _ in given),
                alter_ms=0,
                parent=rng.choice(depts).id,
                order=rng.randint(1, 200) if rng.random() < 0.3 else None,
                no=f"E{i + 1:06d}",
                login_name=login,
                mobile_no=f"{prefixes[mobile % 5]}{mobile:09d}",
                email=f"{login}@{names.EMAIL_DOMAIN}",
                sex=rng.choice("MF"),
                work_phone=f"0571-8{rng.randint(0, 9999999):07d}" if rng.random() < 0.2 else None,
                staffing_level_name=level_name,
                staffing_level_value=level_value,
                password=self.password,
            )
            result.append(person)
        return result

    def stamp(self, elements: list[SimElement]) -> None:
        rng = self.rng
        ms = str_to_ms(DEFAULT_START)
        for element in elements:
            # About a third share the previous element's millisecond, like rows written by one bulk import.
            if rng.random() >= 0.33:
                ms += rng.randint(1, 2000)
            element.alter_ms = ms
        for element in rng.sample(elements, len(elements) // 20):
            element.alter_ms = ms + rng.randint(1, 3_600_000)


def generate(
    depts: int = 50,
    persons: int = 300,
    seed: int = 1,
    *,
    max_depth: int = 6,
    person_password: str = DEFAULT_PERSON_PASSWORD,
) -> list[SimElement]:
    """A whole organisation: one ``org`` root, ``depts`` departments, posts, ``persons`` persons and groups."""
    if not 4 <= max_depth <= 8:
        raise ValueError("max_depth must be between 4 and 8")
    return _Generator(seed, max_depth, person_password).build(max(0, depts), max(0, persons))
