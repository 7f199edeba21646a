"""``/docs``, ``/redoc`` and ``/openapi.json`` of the served console: local assets only, a real title, examples."""

from __future__ import annotations

import re

import httpx

from tests.integration.test_cli_and_health import server  # noqa: F401 - the served-console fixture

DOCUMENTED = ("/api/v1/", "/api/lding-console/ldingOrgRestService/")


def test_docs_pages_load_every_asset_from_the_console_itself(server) -> None:  # noqa: F811
    base, _ = server
    for page in ("/docs", "/redoc"):
        html = httpx.get(f"{base}{page}").text
        urls = re.findall(r"""(?:src|href)=["']([^"']+)["']|url:\s*['"]([^'"]+)['"]""", html)
        urls = [a or b for a, b in urls]
        assert urls, page
        assert not [u for u in urls if u.startswith(("http:", "https:", "//"))], (page, urls)
        for url in urls:
            assert httpx.get(f"{base}{url}").status_code == 200, url
        assert "fonts.googleapis" not in html and "cdn" not in html.lower()


def test_openapi_has_title_version_tags_and_an_example_for_every_request_and_response(server) -> None:  # noqa: F811
    base, _ = server
    doc = httpx.get(f"{base}/openapi.json").json()
    assert doc["info"]["title"] == "蓝钉管理平台 API"
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", doc["info"]["version"])
    tags = {t["name"]: t["description"] for t in doc["tags"]}
    assert {"接入系统", "通讯录映射", "钉钉回调", "运维"} <= set(tags) and all(tags.values())
    checked = 0
    for path, operations in doc["paths"].items():
        for method, op in operations.items():
            assert op.get("tags"), f"{method} {path} has no tag"
            if not path.startswith(DOCUMENTED):
                continue
            checked += 1
            if "requestBody" in op:
                for media in op["requestBody"]["content"].values():
                    assert "example" in media, f"{method} {path}: request has no example"
            assert "422" not in op["responses"], f"{method} {path}: these routes answer 400, not 422"
            for status, response in op["responses"].items():
                content = response.get("content") or {}
                assert content, f"{method} {path} {status}: no body described"
                for media in content.values():
                    example = media.get("example")
                    assert example is not None, f"{method} {path} {status}: no example"
                    if int(status) >= 400:
                        assert example["errcode"] != 0, (path, status)
                    elif not path.startswith("/api/v1/orgs/"):  # the sync-runs API answers the run itself
                        assert example["errcode"] == 0, (path, status)
    assert checked == 8  # bind, org, notify-url, dept feed, person feed, start/list/show a sync run
    assert "/docs" not in doc["paths"] and "/" not in doc["paths"]  # pages stay out of the API document
