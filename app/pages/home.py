"""首页: what to do next (initialise, create the company) and, per organisation, its health at a glance.

Each org gets one card: the counts and last sync, a timeline of its runs (7 or 30 days), and tiles for what needs
attention (callbacks, DingTalk API use and quota, changes not yet in DingTalk, a run the delete threshold stopped,
failing access-system notifications), each with a button to the page that fixes it.
"""

from __future__ import annotations

from nicegui import ui

from app.components import health_charts, session
from app.components.frame import actor, page, running
from app.core import localtime
from app.services import accounts, home_health, home_summary
from app.services.permissions import ROLE_NAMES, Perm

_RESULT_COLOURS = {"成功": "positive", "警告": "warning", "失败": "negative", "进行中": "primary"}


def _next_step(title: str, text: str, button: str, target: str, marker: str) -> None:
    with ui.card().classes("landing-card q-pa-md q-mb-md").mark(marker):
        with ui.row().classes("w-full items-center no-wrap"):
            ui.icon("info", size="28px").classes("text-primary")
            with ui.column().classes("gap-0"):
                ui.label(title).classes("text-subtitle1 text-weight-medium")
                ui.label(text).classes("text-grey-7")
            ui.space()
            ui.button(button, on_click=lambda: ui.navigate.to(target)).props("unelevated color=primary")


def _open(org_id: int, path: str) -> None:
    session.set_org(org_id)  # the fixing page works on the current org
    ui.navigate.to(path)


def _tile(title: str, value: str, tone: str, detail: str, marker: str, action: tuple[str, int, str] | None) -> None:
    with ui.card().classes("q-pa-sm landing-health-tile").props("flat bordered").mark(marker):
        ui.label(title).classes("text-grey-7 text-caption")
        ui.label(value).classes(f"text-subtitle1 text-weight-medium text-{tone}")
        ui.label(detail).classes("landing-hint").style("line-height: 1.4")
        if action is not None:
            text, org_id, path = action
            ui.button(text, on_click=lambda o=org_id, p=path: _open(o, p)).props("flat dense color=primary").classes(
                "q-mt-xs"
            )


def _seconds(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value:.1f} 秒" if value < 120 else f"{value / 60:.0f} 分钟"


def _tiles(h: home_health.OrgHealth) -> None:
    cb = h.callbacks
    cb_bad = cb.failed > 0 or (cb.lag_max_s or 0) > 600
    refused = "，".join(f"{k} {v}" for k, v in sorted(cb.refused_by_reason.items())) or "无"
    logs = ("查看同步日志", h.org_id, "/sync/logs") if h.can_view_logs else None
    _tile(
        f"钉钉回调（近 {home_health.CALLBACK_DAYS} 天）",
        f"收到 {cb.received} · 待处理 {cb.pending} · 失败 {cb.failed}",
        "negative" if cb_bad else "dark",
        f"处理延迟 平均 {_seconds(cb.lag_avg_s)}，最长 {_seconds(cb.lag_max_s)}；拒绝（全部组织）：{refused}",
        f"tile-callbacks-{h.org_id}",
        logs if cb.failed else None,
    )
    pending = h.pending_people + h.pending_departments
    _tile(
        "待同步到钉钉",
        f"{pending} 项",
        "warning" if pending else "positive",
        f"人员 {h.pending_people}，部门 {h.pending_departments}；下次同步时推送",
        f"tile-pending-{h.org_id}",
        ("去同步设置", h.org_id, "/sync/settings") if pending and h.can_manage_sync else None,
    )
    _tile(
        "删除阈值拦截",
        "待审批" if h.blocked_run_id else "无",
        "negative" if h.blocked_run_id else "positive",
        f"同步 #{h.blocked_run_id} 超过删除阈值，未删除任何数据" if h.blocked_run_id else "没有等待审批的同步",
        f"tile-threshold-{h.org_id}",
        ("去审批", h.org_id, f"/sync/logs/{h.blocked_run_id}") if h.blocked_run_id and h.can_view_logs else None,
    )
    _tile(
        "接入系统通知",
        f"{h.failing_notifications} 条失败" if h.failing_notifications else "正常",
        "negative" if h.failing_notifications else "positive",
        "接入系统的接收通知接口未能接收变更通知" if h.failing_notifications else "没有投递失败的通知",
        f"tile-notify-{h.org_id}",
        ("查看接入系统", h.org_id, "/settings/access") if h.failing_notifications and h.can_manage_access else None,
    )
    quota = h.quota
    over = quota.forecast > quota.limit
    _tile(
        "钉钉计量调用（本月）",
        f"{quota.used:,} / {quota.limit:,}",
        "negative" if over else "dark",
        f"预计月底 {quota.forecast:,} 次{'，将超出月度额度' if over else ''}。{quota.basis}。"
        "通讯录、令牌与登录接口不计量。",
        f"tile-quota-{h.org_id}",
        ("调整同步频率", h.org_id, "/sync/settings") if over and h.can_manage_sync else None,
    )


def _api_table(h: home_health.OrgHealth) -> None:
    since = localtime.fmt(h.counting_since, localtime.MINUTES)
    title = f"钉钉接口调用（自 {since} 进程启动以来，QPS 上限 {h.qps_limit:g}/秒）"
    with ui.expansion(title, icon="speed").classes("w-full").props("dense").mark(f"api-use-{h.org_id}"):
        if not h.apis:
            ui.label("进程启动以来还没有调用钉钉接口").classes("text-grey-7")
            return
        columns = [
            {"name": "api", "label": "接口", "field": "api", "align": "left"},
            {"name": "calls", "label": "调用次数", "field": "calls"},
            {"name": "peak", "label": "峰值 QPS / 上限", "field": "peak"},
            {"name": "errors", "label": "出错", "field": "errors"},
            {"name": "throttles", "label": "被限流", "field": "throttles"},
            {"name": "metered", "label": "计量", "field": "metered"},
        ]
        rows = [
            {
                "api": a.api,
                "calls": a.calls,
                "peak": f"{a.peak_per_second} / {h.qps_limit:g}",
                "errors": a.errors,
                "throttles": a.throttles,
                "metered": "是" if a.metered else "否",
            }
            for a in h.apis
        ]
        ui.table(columns=columns, rows=rows, row_key="api").props("dense flat").classes("w-full")


def _org_card(org: home_summary.OrgStatus, h: home_health.OrgHealth | None) -> None:
    with ui.card().classes("landing-card q-pa-md q-mb-md").mark(f"org-card-{org.id}"):
        with ui.row().classes("w-full items-center no-wrap"):
            ui.label(org.name).classes("text-subtitle1 text-weight-medium")
            if org.is_main:
                ui.badge("主组织").props("outline color=primary")
            ui.space()
            ui.badge(f"回调{org.callback}").props(f"outline color={'positive' if org.callback == '成功' else 'grey'}")
        with ui.row().classes("gap-8 q-mt-sm items-end"):
            for label, value in (("部门", org.departments), ("人员", org.people)):
                with ui.column().classes("gap-0"):
                    ui.label(label).classes("text-grey-7")
                    ui.label(f"{value:,}").classes("text-h5")
            with ui.column().classes("gap-0"):
                with ui.row().classes("items-center gap-2"):
                    ui.label("最近同步").classes("text-grey-7")
                    ui.badge(org.last_sync_result).props(f"color={_RESULT_COLOURS.get(org.last_sync_result, 'grey')}")
                    if org.last_sync_at:
                        ui.label(localtime.fmt(org.last_sync_at, localtime.MINUTES)).classes("text-grey-7")
                if org.last_sync_summary:
                    ui.label(org.last_sync_summary).classes("landing-hint").style("line-height: 1.5")
        if h is None:
            return
        with ui.element("div").classes("landing-health-grid q-mt-md"):
            with ui.column().classes("gap-1 landing-health-chart"):
                with ui.row().classes("w-full items-center"):
                    ui.label("同步记录").classes("text-weight-medium")
                    ui.space()
                    days = ui.toggle({7: "近 7 天", 30: "近 30 天"}, value=7).props("dense unelevated size=sm")
                    days.mark(f"run-days-{h.org_id}")
                if not h.runs:
                    ui.label("近 30 天没有同步记录").classes("text-grey-7 q-pa-md").mark(f"no-runs-{h.org_id}")
                chart = ui.echart(health_charts.run_timeline(h.runs, 7)).classes("w-full").style("height: 240px")
                chart.mark(f"run-chart-{h.org_id}")

                def change_days(e, c=chart, runs=h.runs) -> None:
                    c.options.clear()
                    c.options.update(health_charts.run_timeline(runs, int(e.value)))
                    c.update()

                days.on_value_change(change_days)
            with ui.element("div").classes("landing-health-tiles"):
                _tiles(h)
        _api_table(h)


_CSS = """
.landing-health-grid { display: grid; grid-template-columns: minmax(0, 3fr) minmax(0, 2fr); gap: 16px; width: 100%; }
.landing-health-tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(190px, 1fr)); gap: 8px; }
.landing-health-tile { min-height: 104px; }
@media (max-width: 1100px) { .landing-health-grid { grid-template-columns: minmax(0, 1fr); } }
"""


@page("/", "首页")
async def home_page() -> None:
    current = actor()
    summary = await home_summary.summary(current)
    role = current.current_role
    with ui.row().classes("items-baseline gap-3"):
        ui.label(f"欢迎，{current.display_name}").classes("text-h6")
        ui.label(ROLE_NAMES[role] if role else "未分配角色").classes("text-grey-7")
        if summary.company_name:
            ui.label(summary.company_name).classes("text-grey-7")
    waiting = await accounts.accounts_with_initial_password(current)
    if waiting:
        with ui.card().classes("landing-card q-pa-md q-mb-md bg-orange-1").mark("initial-password-warning"):
            with ui.row().classes("items-center no-wrap"):
                ui.icon("warning", size="28px").classes("text-orange-9")
                ui.label(
                    f"仍有 {waiting} 个账号在使用初始密码（如 123456）。请提醒其尽快登录并修改密码；"
                    "可在 系统设置 > 安全设置 中改为随机初始密码。"
                ).classes("text-orange-10")
    if current.is_super and not summary.initialised:
        _next_step(
            "系统尚未初始化",
            "新环境需要先执行系统初始化：导入蓝钉默认角色、系统权限等 9 项内容。",
            "去初始化",
            "/settings/init",
            "init-prompt",
        )
    elif current.is_super and not summary.has_company:
        _next_step(
            "还没有公司信息",
            "请先填写公司信息：系统会创建公司和主组织，并从钉钉拉取主管理员和通讯录。",
            "创建公司",
            "/settings/company",
            "company-prompt",
        )
    if not summary.orgs:
        if not current.is_super and current.can(Perm.CONTACTS_VIEW):
            ui.button("进入通讯录", on_click=lambda: ui.navigate.to("/contacts")).props("unelevated color=primary")
        return
    ui.add_css(_CSS)
    health = {h.org_id: h for h in await home_health.health(current, running().dingtalk)}
    with ui.row().classes("w-full items-baseline q-mt-md"):
        ui.label("组织概况").classes("text-subtitle1 text-weight-medium")
        ui.label(f"时间按 {localtime.label()} 显示").classes("landing-hint")
    for org in summary.orgs:
        _org_card(org, health.get(org.id))
