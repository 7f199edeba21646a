"""设置 > 专属钉钉 in a real browser against `landing demo`: open 专属数据存储 step by step, upload and preview the
login background and logo, read the settings made in DingTalk's console."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from pathlib import Path

import httpx
import pytest
from PIL import Image, ImageDraw

from app.demo import DEMO_CORP, DEMO_OSS, DEMO_OSS_KEY_ID, DEMO_OSS_KEY_SECRET
from tests.e2e.conftest import SCREENSHOTS
from tests.e2e.test_demo_command import demo  # noqa: F401  (the fixture)

pytestmark = pytest.mark.e2e


def _background(path: Path, size: tuple[int, int]) -> Path:
    image = Image.new("RGB", size, (18, 32, 64))
    draw = ImageDraw.Draw(image)
    for i in range(0, size[1], 40):  # a dark gradient so the white text is readable
        draw.rectangle(
            (0, i, size[0], i + 40), fill=(18 + i * 40 // size[1], 32 + i * 50 // size[1], 64 + i * 90 // size[1])
        )
    image.save(path)
    return path


def _logo(path: Path, size: tuple[int, int]) -> Path:
    image = Image.new("RGB", size, (255, 255, 255))
    draw = ImageDraw.Draw(image)
    draw.rectangle((10, 10, size[0] - 10, size[1] - 10), outline=(10, 91, 211), width=8)
    draw.ellipse((30, 30, 120, 120), fill=(10, 91, 211))
    image.save(path)
    return path


def test_exclusive_dingtalk_page_in_chromium(demo, browser_page, tmp_path: Path) -> None:  # noqa: F811
    ports, log_path = demo
    page = browser_page
    base = f"http://127.0.0.1:{ports['console']}"
    sim = f"http://127.0.0.1:{ports['dingtalk']}"
    page.goto(f"{base}/login")
    page.get_by_label("账号").fill("admin")
    page.get_by_label("密码", exact=True).fill("1")
    page.get_by_role("button", name="登录").click()
    page.get_by_label("原密码").fill("1")
    page.get_by_label("新密码", exact=True).fill("Landing2026x")
    page.get_by_label("确认新密码").fill("Landing2026x")
    page.get_by_role("button", name="保存").click()
    page.get_by_text("组织概况").wait_for(timeout=60000)

    # 设置 > 专属钉钉 from the menu; the 专属数据存储 tab opens on step 1 (购买).
    page.goto(f"{base}/settings/org")
    page.get_by_role("link", name="专属钉钉").click()
    page.get_by_text("专属钉钉配置").wait_for()
    page.get_by_role("button", name="已购买，下一步").wait_for()
    page.screenshot(path=SCREENSHOTS / "20-exclusive-purchase.png", full_page=True)
    page.get_by_role("button", name="已购买，下一步").click()

    # Step 2 (设置): a wrong secret fails next to its field; 上一步 goes back.
    page.get_by_label("OSS链接地址").fill(DEMO_OSS)
    page.get_by_label("阿里云AccessKey ID").fill(DEMO_OSS_KEY_ID)
    page.get_by_label("阿里云AccessKey Secret").fill("NotTheSecret123")
    page.get_by_role("button", name="检测链接").click()
    page.get_by_text("AccessKey Secret 不正确", exact=True).wait_for()  # next to the field
    page.get_by_text("处理建议：请重新输入与该 AccessKey ID 配对的 AccessKey Secret").wait_for()
    page.screenshot(path=SCREENSHOTS / "21-exclusive-wrong-key.png", full_page=True)
    page.get_by_role("button", name="上一步").click()
    page.get_by_role("button", name="已购买，下一步").click()

    # The right key: checked, then opened at once (step 3) with DingTalk's state. What was typed survived 上一步.
    assert page.get_by_label("OSS链接地址").input_value() == DEMO_OSS
    page.get_by_label("阿里云AccessKey Secret").fill(DEMO_OSS_KEY_SECRET)
    page.get_by_role("button", name="检测链接").click()
    page.get_by_text("检测通过，已开启专属数据存储").wait_for()
    page.get_by_text("已开通").first.wait_for()
    assert page.get_by_text(DEMO_OSS_KEY_SECRET).count() == 0  # masked

    # DingTalk has archived data for a month: refresh shows the used quota and the chart.
    today = datetime.now(timezone(timedelta(hours=8))).date()
    usage = {(today - timedelta(days=d)).strftime("%Y%m%d"): (30 - d) ** 2 * 3 * 1024 * 1024 for d in range(30)}
    created = (today - timedelta(days=29)).strftime("%Y-%m-%d") + " 10:00:00"
    response = httpx.put(f"{sim}/_sim/corps/{DEMO_CORP}/exclusive/usage", json={"usage": usage, "createDate": created})
    assert response.status_code == 200, response.text
    page.get_by_role("button", name="刷新状态").click()
    page.get_by_text("2.64 GB").first.wait_for()
    page.locator(".nicegui-echart canvas").first.wait_for()
    page.screenshot(path=SCREENSHOTS / "22-exclusive-opened.png", full_page=True)

    # The key is rotated at Aliyun: 存储状态 turns 异常 until 更新 AccessKey gives DingTalk the new one.
    rotated = {"oss": DEMO_OSS, "accessKeyId": "LTAI5tRotatedDemo01", "accessKeySecret": "RotatedDemoSecret77"}
    assert httpx.put(f"{sim}/_sim/exclusive/buckets", json=rotated).status_code == 200
    page.get_by_role("button", name="刷新状态").click()
    page.get_by_text("异常（AccessKey 失效或 bucket 无法访问，请更新 AccessKey）").wait_for()
    page.get_by_role("button", name="更新 AccessKey").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("阿里云AccessKey ID").fill(rotated["accessKeyId"])
    dialog.get_by_label("阿里云AccessKey Secret").fill(rotated["accessKeySecret"])
    dialog.get_by_role("button", name="保存").click()
    page.get_by_text("已更新 AccessKey").wait_for()
    page.get_by_text("正常", exact=True).wait_for()
    assert page.get_by_text("LTAI5tRotatedDemo01").is_visible()

    # 专属企业界面: a wrong-size logo is refused with the rule; the right files show in the preview.
    page.get_by_role("tab", name="专属企业界面").click()
    uploads = page.locator(".q-uploader input[type=file]")
    uploads.nth(2).set_input_files(str(_logo(tmp_path / "logo-wrong.png", (420, 150))))
    page.get_by_text("企业 LOGO尺寸需为 400*150px，当前为 420*150px").wait_for()
    page.screenshot(path=SCREENSHOTS / "23-exclusive-logo-wrong.png", full_page=True)
    page.locator(".q-uploader input[type=file]").nth(0).set_input_files(
        str(_background(tmp_path / "phone.png", (1242, 2688)))
    )
    page.get_by_text("已上传手机端登录背景").wait_for()
    page.locator(".q-uploader input[type=file]").nth(1).set_input_files(
        str(_background(tmp_path / "ipad.png", (2048, 1536)))
    )
    page.get_by_text("已上传iPad 端登录背景").wait_for()
    page.locator(".q-uploader input[type=file]").nth(2).set_input_files(str(_logo(tmp_path / "logo.png", (400, 150))))
    page.get_by_text("已上传企业 LOGO").wait_for()
    page.get_by_label("主题色").fill("#0A5BD3")
    page.get_by_role("button", name="保存主题色").click()
    page.get_by_text("主题色已保存：#0A5BD3").wait_for()
    page.get_by_text("应用主界面（主题色 #0A5BD3）").wait_for()
    with page.expect_download() as download:
        page.get_by_role("button", name="下载全部图片（上传到钉钉管理后台）").click()
    assert download.value.suggested_filename == f"专属企业界面_{DEMO_CORP}.zip"
    page.evaluate("document.querySelectorAll('.q-notification').forEach(n => n.remove()); window.scrollTo(0, 0)")
    page.screenshot(path=SCREENSHOTS / "24-exclusive-look.png")
    preview = page.locator(".q-card").filter(has_text="整体效果预览")
    preview.scroll_into_view_if_needed()
    preview.screenshot(path=SCREENSHOTS / "25-exclusive-preview.png")

    # 专属安全管控: read-only, with where each is set, and the IdP state for 2.5.8.
    page.get_by_role("tab", name="专属安全管控").click()
    page.get_by_text("未启用：域账号登录（IDP）尚未在 设置 > 登录认证 中启用").wait_for()
    assert page.get_by_text("在 钉钉管理后台 > 设置 > 专属安全管控 > 打水印 中设置").is_visible()
    assert page.locator(".q-toggle, .q-checkbox").count() == 0  # no fake switches
    page.screenshot(path=SCREENSHOTS / "26-exclusive-security.png", full_page=True)
    page.get_by_role("tab", name="推送号与“我的”入口").click()
    page.get_by_text("在 钉钉管理后台 > 设置 > 推送号管理 中设置").wait_for()
    page.screenshot(path=SCREENSHOTS / "27-exclusive-push.png", full_page=True)
    assert "Traceback" not in log_path.read_text()
