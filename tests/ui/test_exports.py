"""导出: the contacts of a department subtree and the audit log, as xlsx and csv, with masking by role."""

from __future__ import annotations

import csv
import io

from nicegui.testing import User
from openpyxl import load_workbook

from app.models.accounts import Role
from app.services import exports
from tests import contacts_factory as cf
from tests import factories
from tests.ui.helpers import login


async def _login(user: User, role: Role, scope: str | None = None) -> cf.Tree:
    await user.open("/login")
    tree = await cf.build()
    await cf.person(tree.org, tree.depts["后端组"], "=HYPERLINK(1)", is_active=False, job_number="E042")
    dept_ids = [tree.depts[scope].id] if scope else None
    await factories.account("admin1", role, None if role == Role.SUPER_ADMIN else tree.org, dept_ids)
    await login(user, "admin1", factories.PASSWORD)
    await user.should_see("欢迎")
    return tree


async def _download(user: User, marker: str, fmt: str) -> bytes:
    user.find(marker=marker).click()
    user.find(marker=f"{marker}-{fmt}").click()
    response = await user.download.next(timeout=30)
    assert response.status_code == 200
    await user.should_see("已完成")
    return response.content


def _xlsx(content: bytes) -> list[list]:
    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    return [["" if v is None else v for v in r] for r in sheet.iter_rows(values_only=True)]


async def test_org_admin_exports_a_subtree_with_full_mobiles_as_xlsx_and_csv(user: User) -> None:
    tree = await _login(user, Role.ORG_ADMIN)
    await user.open(f"/contacts?dept={tree.depts['研发部'].id}")
    rows = _xlsx(await _download(user, "export", "xlsx"))
    assert tuple(rows[0]) == exports.CONTACT_COLUMNS
    by_name = {r[0]: r for r in rows[1:]}
    # 研发部 and below: 张三 (研发部), 李四 (前端组, also 市场部), and the invalid person in 后端组.
    assert set(by_name) == {"张三", "李四", "'=HYPERLINK(1)"}
    li = by_name["李四"]
    assert li[1] == "叮当科技/研发部/前端组" and li[2] == "叮当科技/市场部"
    assert li[4] == tree.people["李四"].mobile and li[8] == "有效"
    assert by_name["'=HYPERLINK(1)"][5:9] == ["E042", "", "", "无效"]  # a formula-like name stays text

    text = (await _download(user, "export", "csv")).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert tuple(lines[0]) == exports.CONTACT_COLUMNS and len(lines) == 4
    assert ["张三", "叮当科技/研发部", "", "zhangsan", tree.people["张三"].mobile] == lines[1][:5]


async def test_department_admin_gets_masked_mobiles_and_only_their_subtree(user: User) -> None:
    tree = await _login(user, Role.DEPT_ADMIN, scope="市场部")
    await user.open(f"/contacts?dept={tree.depts['市场部'].id}")
    rows = _xlsx(await _download(user, "export", "xlsx"))
    names = {r[0]: r for r in rows[1:]}
    assert set(names) == {"李四", "王五"}
    mobile = tree.people["王五"].mobile
    assert names["王五"][4] == f"{mobile[:3]}****{mobile[-4:]}"


async def test_audit_log_exports_what_the_filters_show(user: User) -> None:
    await _login(user, Role.SUPER_ADMIN)
    await user.open("/permissions/audit")
    await user.should_see(marker="audit-table")
    text = (await _download(user, "audit-export", "csv")).decode("utf-8-sig")
    lines = list(csv.reader(io.StringIO(text)))
    assert tuple(lines[0]) == exports.AUDIT_COLUMNS
    assert any(row[3] == "登录成功" and row[1] == "admin1" for row in lines[1:])
    user.find("关键字").type("没有这样的记录")
    text = (await _download(user, "audit-export", "csv")).decode("utf-8-sig")
    assert len(list(csv.reader(io.StringIO(text)))) == 1  # the header only: the export follows the filters


async def test_a_download_link_of_an_unknown_export_is_refused(user: User) -> None:
    await _login(user, Role.ORG_ADMIN)
    response = await user.http_client.get("/exports/not-a-real-export-id")
    assert response.status_code == 404
