"""专属企业界面 (guide 2.1): uploads are decoded and checked; history, restore, theme colour and the download set."""

from __future__ import annotations

import io
import os
import zipfile

import pytest
from PIL import Image

from app.models.accounts import Role
from app.models.audit import AuditLog
from app.models.exclusive import AssetKind, ExclusiveAsset
from app.services import exclusive_assets
from app.services.errors import NotFound, PermissionDenied, ValidationFailed
from tests import factories
from tests.integration.exclusive_env import actor_for, org_admin


def image_bytes(size: tuple[int, int], colour: tuple[int, int, int] = (20, 30, 60), fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, format=fmt)
    return out.getvalue()


def noise_png(size: tuple[int, int]) -> bytes:
    """Random pixels do not compress: a right-sized file that is far over 3M."""
    out = io.BytesIO()
    Image.frombytes("RGB", size, os.urandom(size[0] * size[1] * 3)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
async def admin(orm: str):
    org = await factories.org("专属科技", "dingassets1", is_main=True)
    return await org_admin(org)


async def test_right_sizes_are_accepted_and_become_current(admin) -> None:
    org_id = admin.current_org_id
    phone = await exclusive_assets.upload(
        admin, org_id, AssetKind.PHONE_BACKGROUND, "phone.png", image_bytes((1242, 2688))
    )
    ipad = await exclusive_assets.upload(
        admin, org_id, AssetKind.IPAD_BACKGROUND, "ipad.jpg", image_bytes((2048, 1536), fmt="JPEG")
    )
    logo = await exclusive_assets.upload(
        admin, org_id, AssetKind.LOGO, "logo.png", image_bytes((400, 150), (255, 255, 255))
    )
    assert (phone.width, phone.height, phone.image_format) == (1242, 2688, "PNG")
    assert (ipad.image_format, logo.contrast) == ("JPEG", None)
    assert not phone.too_bright and phone.contrast is not None and phone.contrast > 10
    look = await exclusive_assets.get_look(admin, org_id)
    assert set(look.current) == set(AssetKind)
    assert all(Image.open(io.BytesIO(p)).width == exclusive_assets.PREVIEW_WIDTH for p in look.previews.values())
    assert await AuditLog.filter(action="exclusive.asset.upload", org_id=org_id).count() == 3


@pytest.mark.parametrize(
    ("kind", "data", "message"),
    [
        (
            AssetKind.PHONE_BACKGROUND,
            image_bytes((1080, 1920)),
            "手机端登录背景尺寸需为 1242*2688px，当前为 1080*1920px",
        ),
        (
            AssetKind.IPAD_BACKGROUND,
            image_bytes((1536, 2048)),
            "iPad 端登录背景尺寸需为 2048*1536px，当前为 1536*2048px",
        ),
        (AssetKind.LOGO, image_bytes((400, 160)), "企业 LOGO尺寸需为 400*150px，当前为 400*160px"),
        (AssetKind.LOGO, image_bytes((400, 150), fmt="GIF"), "企业 LOGO需为 PNG 或 JPG 格式，当前为 GIF"),
        (AssetKind.PHONE_BACKGROUND, noise_png((1242, 2688)), "手机端登录背景大小不能超过 3M，当前为"),
        (AssetKind.PHONE_BACKGROUND, image_bytes((1242, 2688))[:400], "无法识别的图片文件"),
        (AssetKind.IPAD_BACKGROUND, b"%PDF-1.7 not an image at all", "无法识别的图片文件"),
        (AssetKind.LOGO, b"", "文件为空"),
    ],
    ids=["phone-size", "ipad-rotated", "logo-size", "gif", "too-big", "truncated", "not-image", "empty"],
)
async def test_wrong_files_are_refused_with_the_rule_and_nothing_is_kept(admin, kind, data, message) -> None:
    with pytest.raises(ValidationFailed) as caught:
        await exclusive_assets.upload(admin, admin.current_org_id, kind, "bad.png", data)
    assert message in caught.value.message
    assert caught.value.field == kind.value
    assert await ExclusiveAsset.all().count() == 0


async def test_a_jpeg_cut_off_after_its_header_is_refused(admin) -> None:
    whole = image_bytes((400, 150), (200, 30, 30), fmt="JPEG")
    with Image.open(io.BytesIO(whole[: len(whole) // 2])) as probe:
        assert probe.size == (400, 150)  # the header alone still announces the right size
    with pytest.raises(ValidationFailed, match="无法识别的图片文件"):
        await exclusive_assets.upload(admin, admin.current_org_id, AssetKind.LOGO, "logo.jpg", whole[: len(whole) // 2])


async def test_a_bright_background_is_kept_with_a_warning(admin) -> None:
    asset = await exclusive_assets.upload(
        admin, admin.current_org_id, AssetKind.PHONE_BACKGROUND, "white.png", image_bytes((1242, 2688), (245, 245, 240))
    )
    assert asset.too_bright and asset.contrast is not None and asset.contrast < exclusive_assets.MIN_CONTRAST
    entry = await AuditLog.filter(action="exclusive.asset.upload").order_by("-id").first()
    assert entry is not None and "建议使用深色图片" in entry.detail


async def test_history_restore_and_the_download_set(admin) -> None:
    org_id = admin.current_org_id
    first = await exclusive_assets.upload(
        admin, org_id, AssetKind.LOGO, "logo-v1.png", image_bytes((400, 150), (1, 2, 3))
    )
    second = await exclusive_assets.upload(
        admin, org_id, AssetKind.LOGO, "logo-v2.png", image_bytes((400, 150), (9, 9, 9))
    )
    look = await exclusive_assets.get_look(admin, org_id)
    assert [a.filename for a in look.history] == ["logo-v2.png", "logo-v1.png"]
    assert look.current[AssetKind.LOGO].id == second.id
    await exclusive_assets.make_current(admin, org_id, first.id)
    assert (await exclusive_assets.get_look(admin, org_id)).current[AssetKind.LOGO].id == first.id
    assert await ExclusiveAsset.filter(kind=AssetKind.LOGO, is_current=True).count() == 1

    await exclusive_assets.upload(
        admin, org_id, AssetKind.PHONE_BACKGROUND, "p.jpg", image_bytes((1242, 2688), fmt="JPEG")
    )
    assert await exclusive_assets.set_theme_color(admin, org_id, "#0a5bd3") == "#0A5BD3"
    name, data = await exclusive_assets.download_set(admin, org_id)
    assert name.endswith(".zip")
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        names = set(archive.namelist())
        assert names == {"企业LOGO_400x150.png", "手机端登录背景_1242x2688.jpg", "说明.txt"}
        note = archive.read("说明.txt").decode()
        assert Image.open(io.BytesIO(archive.read("企业LOGO_400x150.png"))).getpixel((0, 0)) == (1, 2, 3)
    assert (
        "主题色：#0A5BD3" in note and "钉钉管理后台 > 设置 > 专属企业界面" in note and "iPad 端登录背景：未上传" in note
    )


async def test_theme_colour_is_validated_and_audited(admin) -> None:
    org_id = admin.current_org_id
    for bad in ("blue", "#12345", "#GGGGGG", ""):
        with pytest.raises(ValidationFailed) as caught:
            await exclusive_assets.set_theme_color(admin, org_id, bad)
        assert caught.value.field == "theme_color" and "#RRGGBB" in caught.value.message
    await exclusive_assets.set_theme_color(admin, org_id, "#FF6A00")
    entry = await AuditLog.get(action="exclusive.theme")
    assert entry.before == {"theme_color": exclusive_assets.DEFAULT_THEME} and entry.after == {"theme_color": "#FF6A00"}


async def test_assets_of_another_org_are_out_of_reach(admin) -> None:
    other = await factories.org("另一组织", "dingassets2")
    other_admin = actor_for(await factories.account("other", Role.ORG_ADMIN, other), Role.ORG_ADMIN, other)
    logo = await exclusive_assets.upload(admin, admin.current_org_id, AssetKind.LOGO, "l.png", image_bytes((400, 150)))
    with pytest.raises(PermissionDenied):
        await exclusive_assets.download_asset(other_admin, admin.current_org_id, logo.id)
    with pytest.raises(NotFound):  # its own org has no such asset
        await exclusive_assets.make_current(other_admin, other.id, logo.id)


async def test_dissolving_an_org_removes_its_assets_only(admin) -> None:
    from app.services import orgs

    other = await factories.org("待解散组织", "dingassets3")
    other_admin = actor_for(await factories.account("other3", Role.ORG_ADMIN, other), Role.ORG_ADMIN, other)
    await exclusive_assets.upload(admin, admin.current_org_id, AssetKind.LOGO, "mine.png", image_bytes((400, 150)))
    await exclusive_assets.upload(other_admin, other.id, AssetKind.LOGO, "theirs.png", image_bytes((400, 150)))
    await exclusive_assets.set_theme_color(other_admin, other.id, "#123456")
    root = actor_for(await factories.account("root", Role.SUPER_ADMIN), Role.SUPER_ADMIN, None)
    async with factories.unreachable_dingtalk() as client:
        await orgs.dissolve_orgs(root, [other.id], client=client)
    assert [a.filename for a in await ExclusiveAsset.all()] == ["mine.png"]
