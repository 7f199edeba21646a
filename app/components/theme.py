"""The console's look: the guide's blue top bar, a quiet grey left menu and white content cards."""
# ruff: noqa: E501  (CSS lines)

from __future__ import annotations

from nicegui import ui

PRIMARY = "#1e6fd9"

_CSS = """
body { background: #f3f5f8; font-family: "Noto Sans CJK SC", "PingFang SC", "Microsoft YaHei", Roboto, sans-serif; }
.landing-drawer .q-drawer__content > div, .landing-drawer .nicegui-column { gap: 0; }
.landing-header { background: #1f5fbf !important; height: 48px; }
.landing-brand { color: #fff !important; font-weight: 600; font-size: 17px; text-decoration: none; margin-right: 28px;
  white-space: nowrap; }
.landing-nav { color: #e8efff !important; text-decoration: none; padding: 0 12px; line-height: 48px; font-size: 14px;
  white-space: nowrap; }
.landing-nav:hover { background: rgba(255,255,255,.12); }
.landing-nav-active { background: rgba(0,0,0,.18); color: #fff !important; }
.landing-org { color: #fff; font-weight: 500; padding: 0 12px; border-right: 1px solid rgba(255,255,255,.3);
  white-space: nowrap; }
.landing-drawer { background: #fff; }
.landing-drawer-title { font-weight: 600; color: #333; padding: 16px 20px 8px; }
.landing-menu { display: block; align-self: stretch; padding: 10px 20px; color: #444 !important; text-decoration: none; font-size: 14px; }
.landing-menu:hover { background: #eef3fb; }
.landing-menu-active { background: #e3edfb; color: #1f5fbf !important; border-right: 3px solid #1f5fbf; }
.landing-content { padding: 20px 24px; max-width: 1400px; }
.landing-page-title { margin-bottom: 8px; }
.landing-card { width: 100%; background: #fff; }
.landing-form-row { width: 100%; max-width: 760px; }
.landing-hint { color: #888; font-size: 12px; }
.landing-empty { min-width: 360px; }
.landing-login-bg { min-height: 100vh; margin: -16px; width: calc(100% + 32px) !important; background: linear-gradient(135deg, #1f5fbf 0%, #3b8be8 100%); }
.landing-menu-toggle { display: none; }
.landing-clickable-rows tbody tr { cursor: pointer; }
.landing-activatable:focus-visible, .landing-tree-label:focus-visible { outline: 2px solid #1f5fbf; outline-offset: -2px; border-radius: 3px; background: #eef3fb; }
.q-table__middle::-webkit-scrollbar { height: 10px; }
.q-table__middle::-webkit-scrollbar-thumb { background: #c5ccd6; border-radius: 5px; }
.q-table__middle::-webkit-scrollbar-track { background: #f0f2f5; }
.landing-header .q-toolbar, .landing-header { overflow-x: auto; }
@media (max-width: 760px) {
  .landing-menu-toggle { display: inline-flex; }
  .landing-user-name { display: none; }
  .landing-brand { margin-right: 8px; font-size: 15px; }
  .landing-nav { padding: 0 6px; font-size: 13px; }
  .landing-user .landing-org { display: none; }
  .landing-content { padding: 12px; }
}
"""


def apply() -> None:
    ui.colors(primary=PRIMARY)
    ui.add_css(_CSS)
