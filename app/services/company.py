"""公司信息 (guide 3.2.2.2): one company with its main organisation, created and edited by the super admin."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from app.models.orgs import Company, Org
from app.runtime import Runtime
from app.services import orgs
from app.services.orgs import FormInvalid, OrgForm, OrgView, SaveResult
from app.services.permissions import Actor, Perm, authorize
from app.services.write import write, writer

_DOMAIN = re.compile(r"^(?=.{3,128}$)([A-Za-z0-9]([A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")


@dataclass
class CompanyForm:
    name: str = ""
    domain: str = ""
    org: OrgForm = field(default_factory=OrgForm)


@dataclass
class CompanyView:
    id: int
    name: str
    domain: str
    main_org: OrgView | None


def check_company_fields(name: str, domain: str) -> dict[str, str]:
    errors: dict[str, str] = {}
    if not name:
        errors["company_name"] = "请输入公司名称"
    elif len(name) > 128:
        errors["company_name"] = "公司名称不能超过 128 个字符"
    if not domain:
        errors["domain"] = "请输入公司标识（注册钉钉企业时填写的公司域标识）"
    elif not _DOMAIN.match(domain):
        errors["domain"] = "公司标识应为域名格式，如 landray.com 或 test.adingding.com"
    return errors


async def get_company(actor: Actor) -> CompanyView | None:
    await authorize(actor, Perm.COMPANY_MANAGE)
    company = await Company.all().order_by("id").first()
    if company is None:
        return None
    main = await Org.filter(company_id=company.id, is_main=True).first()
    main_view = await orgs.get_org(actor, main.id) if main else None
    return CompanyView(company.id, company.name, company.domain, main_view)


async def company_domain() -> str:
    """公司标识, used by domain-account login (``zhangsan@landray.com``)."""
    company = await Company.all().order_by("id").first()
    return company.domain if company else ""


async def save_company(actor: Actor, form: CompanyForm, *, rt: Runtime) -> SaveResult:
    """Create the company and its main org, or edit both. DingTalk checks the credentials before anything is saved."""
    w = await writer(actor, Perm.COMPANY_MANAGE, kind="company")
    name, domain = form.name.strip(), form.domain.strip().lower()
    company = await Company.all().order_by("id").first()
    main = await Org.filter(company_id=company.id, is_main=True).first() if company else None
    org_form = form.org.cleaned()
    if not org_form.name:
        org_form.name = main.name if main else name
    errors = check_company_fields(name, domain)
    if errors:
        errors.update(orgs.check_fields(org_form, creating=main is None))
        raise FormInvalid(errors)
    if main is not None:
        # Edit: the org part is validated (and checked with DingTalk) by update_org before the company changes.
        result = await orgs.update_org(actor, main.id, org_form, client=rt.dingtalk)
        await _update_company(actor, company, name, domain)
        return result
    org_form = await orgs.validate(org_form, org=None, client=rt.dingtalk)
    async with w:
        if company is None:
            company = await Company.create(name=name, domain=domain)
        else:  # a company left without a main org: give it one
            company.name, company.domain = name, domain
            await company.save()
        main = await orgs.insert_org(w, company, org_form, is_main=True)
        await w.audit(
            "company.create",
            org_id=main.id,
            org_name=main.name,
            object_id=company.id,
            object_name=name,
            after={"name": name, "domain": domain, "corpid": main.corpid, "appkey": main.appkey},
        )
    return await orgs.after_save(actor, main, created=True, rt=rt)


async def _update_company(actor: Actor, company: Company, name: str, domain: str) -> None:
    if (company.name, company.domain) == (name, domain):
        return
    before = {"name": company.name, "domain": company.domain}
    async with write(actor, kind="company") as w:  # save_company checked COMPANY_MANAGE
        company.name, company.domain = name, domain
        await company.save()
        await w.audit(
            "company.update",
            object_id=company.id,
            object_name=name,
            before=before,
            after={"name": name, "domain": domain},
        )
