"""The simulated EKP as a business system of the integration component: it sends its todos through the
connector's EKP-compatible todo service and redeems the connector's one-time login tickets.

Control API (tests, the demo):
- ``PUT /_sim/todo/connector`` ``{url, account, password}``: where the connector is and its todo API account;
- ``POST /_sim/todos`` ``{subject, targets: [loginName...], type?, level?, modelId?}``: sendTodo;
- ``POST /_sim/todos/{modelId}/done`` ``{targets?}``: setTodoDone (all, or only the listed people);
- ``DELETE /_sim/todos/{modelId}``: deleteTodo; ``GET /_sim/todos``: what was sent and the answers.
Pages: ``/_sim/ui/todos`` (a form and buttons for the same), ``/_sim/ui/sso?ldTicket=``: redeem and show who
logged in (the 登录回调地址 of a demo connector).
"""

from __future__ import annotations

import base64
import html
import json
import secrets
from datetime import datetime
from typing import TYPE_CHECKING, Any

import aiohttp
from aiohttp import web

from app.ekp.models import ElementType

if TYPE_CHECKING:
    from app.ekp.simulator.server import EkpSimulator

SERVICE = "/api/sys-notify/sysNotifyTodoRestService"
MODEL_NAME = "com.landray.kmss.km.review.model.KmReviewMain"
TIMEOUT = aiohttp.ClientTimeout(total=15)


class TodoSender:
    def __init__(self, sim: EkpSimulator) -> None:
        self.sim = sim
        self.connector: dict[str, str] = {}
        self.sent: list[dict[str, Any]] = []

    def routes(self) -> list[web.RouteDef]:
        return [
            web.put("/_sim/todo/connector", self.set_connector),
            web.get("/_sim/todos", self.list_todos),
            web.post("/_sim/todos", self.send),
            web.post("/_sim/todos/{model_id}/done", self.done),
            web.delete("/_sim/todos/{model_id}", self.delete),
            web.get("/_sim/ui/todos", self.page),
            web.post("/_sim/ui/todos", self.page_action),
            web.get("/_sim/ui/sso", self.sso),
        ]

    # -- talking to the connector ----------------------------------------------------------------------------

    def _headers(self) -> dict[str, str]:
        token = base64.b64encode(f"{self.connector['account']}:{self.connector['password']}".encode()).decode()
        return {"Authorization": f"Basic {token}", "Content-Type": "application/json"}

    async def _call(self, method: str, body: dict[str, Any]) -> dict[str, Any]:
        if not self.connector:
            raise web.HTTPConflict(text="connector not configured: PUT /_sim/todo/connector first")
        url = f"{self.connector['url'].rstrip('/')}{SERVICE}/{method}"
        async with (
            aiohttp.ClientSession(timeout=TIMEOUT) as http,
            http.post(url, data=json.dumps(body, ensure_ascii=False), headers=self._headers()) as response,
        ):
            try:
                return await response.json(content_type=None)
            except ValueError:
                return {"returnState": 1, "message": f"HTTP {response.status}"}

    def _identity(self, model_id: str) -> dict[str, str]:
        return {"appName": "EKP", "modelName": MODEL_NAME, "modelId": model_id}

    async def send_todo(
        self, subject: str, targets: list[str], todo_type: int = 1, level: int = 3, model_id: str = ""
    ) -> dict[str, Any]:
        model_id = model_id or secrets.token_hex(8)
        body = {
            **self._identity(model_id),
            "subject": subject,
            "link": f"{self.connector.get('ekp_url', 'http://ekp.local/ekp')}/km/review/km_review_main/"
            f"kmReviewMain.do?method=view&fdId={model_id}",
            "type": todo_type,
            "level": level,
            "createTime": datetime.now().strftime("%Y-%m-%d %H:%M:%S"),
            "targets": json.dumps([{"LoginName": t} for t in targets], ensure_ascii=False),
            "docCreator": json.dumps({"LoginName": "admin"}),
        }
        answer = await self._call("sendTodo", body)
        self.sent.append(
            {"modelId": model_id, "subject": subject, "targets": targets, "state": "待处理", "answer": answer}
        )
        return {"modelId": model_id, **answer}

    async def set_done(self, model_id: str, targets: list[str] | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {**self._identity(model_id), "optType": 2 if targets else 1}
        if targets:
            body["targets"] = json.dumps([{"LoginName": t} for t in targets])
        answer = await self._call("setTodoDone", body)
        self._mark(model_id, "已处理" if not targets else "部分已处理", answer)
        return answer

    async def remove(self, model_id: str) -> dict[str, Any]:
        answer = await self._call("deleteTodo", {**self._identity(model_id), "optType": 1})
        self._mark(model_id, "已删除", answer)
        return answer

    def _mark(self, model_id: str, state: str, answer: dict[str, Any]) -> None:
        for item in self.sent:
            if item["modelId"] == model_id and answer.get("returnState") == 2:
                item["state"] = state

    # -- control API -------------------------------------------------------------------------------------------

    async def set_connector(self, request: web.Request) -> web.Response:
        data = await request.json()
        if not all(isinstance(data.get(k), str) and data[k] for k in ("url", "account", "password")):
            raise web.HTTPBadRequest(text="url, account and password are required")
        self.connector = {k: data[k] for k in ("url", "account", "password")}
        self.connector["ekp_url"] = str(request.url.origin()) + "/ekp"
        return web.json_response({"url": self.connector["url"], "account": self.connector["account"]})

    async def list_todos(self, request: web.Request) -> web.Response:
        return web.json_response(self.sent)

    async def send(self, request: web.Request) -> web.Response:
        data = await request.json()
        targets = data.get("targets") or []
        if not data.get("subject") or not isinstance(targets, list) or not targets:
            raise web.HTTPBadRequest(text="subject and targets (login names) are required")
        result = await self.send_todo(
            str(data["subject"]),
            [str(t) for t in targets],
            int(data.get("type", 1)),
            int(data.get("level", 3)),
            str(data.get("modelId") or ""),
        )
        return web.json_response(result)

    async def done(self, request: web.Request) -> web.Response:
        data = await request.json() if request.can_read_body else {}
        return web.json_response(await self.set_done(request.match_info["model_id"], data.get("targets")))

    async def delete(self, request: web.Request) -> web.Response:
        return web.json_response(await self.remove(request.match_info["model_id"]))

    # -- pages -------------------------------------------------------------------------------------------------

    def _people(self) -> list[Any]:
        people = [e for e in self.sim.state.elements.values() if e.type == ElementType.PERSON and e.is_available]
        return sorted((p for p in people if p.login_name), key=lambda p: p.login_name)[:200]

    async def page(self, request: web.Request) -> web.Response:
        e = html.escape
        options = "".join(
            f"<option value='{e(p.login_name)}'>{e(p.name)}（{e(p.login_name)}）</option>" for p in self._people()
        )
        rows = "".join(
            f"<tr><td>{e(t['subject'])}</td><td>{e('、'.join(t['targets']))}</td><td>{e(t['state'])}</td>"
            f"<td>{e(str(t['answer'].get('message', '')))}</td><td>"
            f"<form method='post' style='display:inline'><input type='hidden' name='modelId' value='{e(t['modelId'])}'>"
            "<button name='action' value='done'>处理完成</button> <button name='action' value='delete'>删除</button>"
            "</form></td></tr>"
            for t in reversed(self.sent)
        )
        notice = (
            "" if self.connector else "<p style='color:#c00'>尚未配置蓝钉集成组件地址（PUT /_sim/todo/connector）</p>"
        )
        body = (
            "<!doctype html><html><head><meta charset='utf-8'><title>EKP 待办（模拟）</title><style>"
            "body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin-top:16px}"
            "td,th{border:1px solid #ddd;padding:6px 10px}label{display:block;margin:8px 0}</style></head><body>"
            f"<h2>EKP（模拟）· 发送待办到钉钉</h2>{notice}<form method='post'>"
            "<input type='hidden' name='action' value='send'>"
            "<label>待办标题 <input name='subject' size='50' value='请审批：差旅费报销单'></label>"
            f"<label>接收人 <select name='targets' multiple size='6'>{options}</select></label>"
            "<label>类型 <select name='type'><option value='1'>待办</option><option value='2'>待阅</option>"
            "</select> 紧急程度 <select name='level'><option value='3'>一般</option><option value='2'>急</option>"
            "<option value='1'>紧急</option></select></label><button>发送待办</button></form>"
            "<table><tr><th>标题</th><th>接收人</th><th>状态</th><th>集成组件返回</th><th>操作</th></tr>"
            f"{rows}</table></body></html>"
        )
        return web.Response(text=body, content_type="text/html")

    async def page_action(self, request: web.Request) -> web.Response:
        form = await request.post()
        action = form.get("action")
        if action == "send" and form.get("subject") and form.getall("targets", []):
            await self.send_todo(
                str(form["subject"]),
                [str(t) for t in form.getall("targets")],
                int(str(form.get("type", "1"))),
                int(str(form.get("level", "3"))),
            )
        elif action == "done" and form.get("modelId"):
            await self.set_done(str(form["modelId"]))
        elif action == "delete" and form.get("modelId"):
            await self.remove(str(form["modelId"]))
        raise web.HTTPSeeOther("/_sim/ui/todos")

    async def sso(self, request: web.Request) -> web.Response:
        ticket = request.query.get("ldTicket", "")
        if not self.connector or not ticket:
            return web.Response(status=400, text="缺少票据或尚未配置集成组件", content_type="text/plain")
        url = f"{self.connector['url'].rstrip('/')}/api/lding/sso/redeem"
        async with (
            aiohttp.ClientSession(timeout=TIMEOUT) as http,
            http.post(url, json={"ticket": ticket}, headers=self._headers()) as response,
        ):
            answer = await response.json(content_type=None)
        if answer.get("errcode") != 0:
            text = f"<h2>登录失败</h2><p>{html.escape(str(answer.get('errmsg')))}</p>"
        else:
            text = (
                f"<h2>EKP（模拟）· 已登录</h2><p>当前用户：{html.escape(answer.get('name') or '')}"
                f"（{html.escape(answer['loginName'])}）</p>"
            )
        return web.Response(text=f"<!doctype html><meta charset='utf-8'>{text}", content_type="text/html")
