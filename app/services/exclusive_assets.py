"""专属企业界面 (guide 2.1): login backgrounds, company logo and 主题色, checked here before they go to DingTalk.

DingTalk has no open API for these; the admin uploads them in 钉钉管理后台 > 设置 > 专属企业界面. This console checks
each file the way DingTalk's console would (decoded with Pillow: real format and pixel size, file size), warns when a
background is too bright for the white login text (the guide asks for a dark image), keeps every upload as history,
previews the result and hands out the current set as one zip to upload there.
"""

from __future__ import annotations

import asyncio
import hashlib
import io
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime

from PIL import Image, ImageStat, UnidentifiedImageError

from app.models.exclusive import AssetKind, ExclusiveAsset, ExclusiveLook
from app.models.orgs import Org
from app.services.errors import NotFound, ValidationFailed
from app.services.exclusive_console import exclusive_org
from app.services.permissions import Actor
from app.services.write import write

MB = 1024 * 1024
ALLOWED_FORMATS = {"PNG": "png", "JPEG": "jpg"}
# White text stays readable on a background whose contrast with white is at least this (WCAG 2 ratio for large text).
MIN_CONTRAST = 3.0
THEME_PATTERN = re.compile(r"^#[0-9A-Fa-f]{6}$")
DEFAULT_THEME = "#1677FF"
PREVIEW_WIDTH = 360
HISTORY_LIMIT = 20


@dataclass(frozen=True)
class AssetSpec:
    kind: AssetKind
    label: str
    width: int
    height: int
    max_bytes: int
    console_path: str

    @property
    def rule(self) -> str:
        return f"尺寸 {self.width}*{self.height}px，大小不超过 {self.max_bytes // MB}M，PNG 或 JPG"


_LOOK_PATH = "钉钉管理后台 > 设置 > 专属企业界面"
SPECS: dict[AssetKind, AssetSpec] = {
    AssetKind.PHONE_BACKGROUND: AssetSpec(AssetKind.PHONE_BACKGROUND, "手机端登录背景", 1242, 2688, 3 * MB, _LOOK_PATH),
    AssetKind.IPAD_BACKGROUND: AssetSpec(AssetKind.IPAD_BACKGROUND, "iPad 端登录背景", 2048, 1536, 3 * MB, _LOOK_PATH),
    # The guide gives only the size of the logo; the same 3M cap keeps uploads sane.
    AssetKind.LOGO: AssetSpec(AssetKind.LOGO, "企业 LOGO", 400, 150, 3 * MB, _LOOK_PATH),
}
BACKGROUNDS = (AssetKind.PHONE_BACKGROUND, AssetKind.IPAD_BACKGROUND)


@dataclass
class CheckedImage:
    image_format: str
    width: int
    height: int
    size_bytes: int
    contrast: float | None

    @property
    def too_bright(self) -> bool:
        return self.contrast is not None and self.contrast < MIN_CONTRAST


@dataclass
class AssetView:
    id: int
    kind: AssetKind
    label: str
    filename: str
    image_format: str
    width: int
    height: int
    size_bytes: int
    contrast: float | None
    is_current: bool
    uploaded_by: str
    uploaded_at: datetime

    @property
    def too_bright(self) -> bool:
        return self.contrast is not None and self.contrast < MIN_CONTRAST


@dataclass
class LookView:
    org_id: int
    org_name: str
    theme_color: str
    current: dict[AssetKind, AssetView]
    previews: dict[AssetKind, bytes]  # small JPEG/PNG renderings for the 整体效果预览
    history: list[AssetView]


def size_text(size: int) -> str:
    """File sizes the way the guide writes its limit (3M): 2.4M, 380K."""
    return f"{size / MB:.1f}M" if size >= MB / 10 else f"{max(size, 1) / 1024:.0f}K"


def _relative_luminance(rgb: tuple[float, float, float]) -> float:
    def channel(c: float) -> float:
        c = c / 255
        return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b = (channel(c) for c in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def white_text_contrast(image: Image.Image) -> float:
    """Contrast of white text with the image's average colour (1 = white on white, 21 = white on black)."""
    small = image.convert("RGB").resize((64, 64))
    mean = ImageStat.Stat(small).mean
    luminance = _relative_luminance((mean[0], mean[1], mean[2]))
    return round(1.05 / (luminance + 0.05), 2)


def check_image(kind: AssetKind, data: bytes) -> CheckedImage:
    """Decode and check one upload; raises ``ValidationFailed`` (field = the kind) with the rule that failed."""
    spec = SPECS[kind]
    field = kind.value
    if not data:
        raise ValidationFailed(f"{spec.label}：文件为空，请重新选择图片", field=field)
    if len(data) > spec.max_bytes:
        raise ValidationFailed(
            f"{spec.label}大小不能超过 {spec.max_bytes // MB}M，当前为 {size_text(len(data))}", field=field
        )
    try:
        with Image.open(io.BytesIO(data)) as probe:
            probe.verify()  # structure and checksums
        with Image.open(io.BytesIO(data)) as image:
            image.load()  # the pixels themselves: catches truncated files that verify() lets through
            image_format, (width, height) = image.format or "", image.size
            contrast = white_text_contrast(image) if kind in BACKGROUNDS else None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        raise ValidationFailed(
            f"{spec.label}：无法识别的图片文件（文件已损坏或不是图片），请上传 PNG 或 JPG", field=field
        ) from None
    if image_format not in ALLOWED_FORMATS:
        raise ValidationFailed(f"{spec.label}需为 PNG 或 JPG 格式，当前为 {image_format or '未知格式'}", field=field)
    if (width, height) != (spec.width, spec.height):
        raise ValidationFailed(
            f"{spec.label}尺寸需为 {spec.width}*{spec.height}px，当前为 {width}*{height}px", field=field
        )
    return CheckedImage(image_format, width, height, len(data), contrast)


def preview_bytes(data: bytes, width: int = PREVIEW_WIDTH) -> bytes:
    """A small rendering for the preview, so the page does not ship megabytes to the browser."""
    with Image.open(io.BytesIO(data)) as image:
        image.load()
        ratio = width / image.width
        small = image.resize((width, max(1, round(image.height * ratio))))
        out = io.BytesIO()
        if small.mode in ("RGBA", "LA", "P"):
            small.save(out, format="PNG", optimize=True)
        else:
            small.convert("RGB").save(out, format="JPEG", quality=80)
        return out.getvalue()


def _asset_view(asset: ExclusiveAsset) -> AssetView:
    return AssetView(
        id=asset.id,
        kind=asset.kind,
        label=SPECS[asset.kind].label,
        filename=asset.filename,
        image_format=asset.image_format,
        width=asset.width,
        height=asset.height,
        size_bytes=asset.size_bytes,
        contrast=asset.contrast,
        is_current=asset.is_current,
        uploaded_by=asset.uploaded_by,
        uploaded_at=asset.uploaded_at,
    )


async def _theme(org: Org) -> str:
    look = await ExclusiveLook.get_or_none(org_id=org.id)
    return look.theme_color if look else DEFAULT_THEME


# Everything but the file itself: pages list and preview assets without loading megabytes.
_LIGHT = (
    "id",
    "org_id",
    "kind",
    "filename",
    "image_format",
    "width",
    "height",
    "size_bytes",
    "contrast",
    "is_current",
    "uploaded_by",
    "uploaded_at",
)


async def get_look(actor: Actor, org_id: int | None) -> LookView:
    org = await exclusive_org(actor, org_id)
    current = await ExclusiveAsset.filter(org_id=org.id, is_current=True).only(*_LIGHT, "preview")
    history = await ExclusiveAsset.filter(org_id=org.id).order_by("-id").limit(HISTORY_LIMIT).only(*_LIGHT)
    return LookView(
        org_id=org.id,
        org_name=org.name,
        theme_color=await _theme(org),
        current={a.kind: _asset_view(a) for a in current},
        previews={a.kind: a.preview for a in current},
        history=[_asset_view(a) for a in history],
    )


async def upload(actor: Actor, org_id: int | None, kind: AssetKind, filename: str, data: bytes) -> AssetView:
    """Check and keep an upload; it becomes the current one of its kind, the previous one stays in the history."""
    org = await exclusive_org(actor, org_id)
    # Decoding a 3M image takes a while: off the event loop, so other pages stay responsive.
    checked = await asyncio.to_thread(check_image, kind, data)
    preview = await asyncio.to_thread(preview_bytes, data)
    name = (filename or "").strip().replace("/", "_").replace("\\", "_")[-200:] or f"{kind.value}"
    async with write(actor, org_id=org.id, org_name=org.name, kind="exclusive_asset") as w:  # exclusive_org checked
        previous = await ExclusiveAsset.filter(org_id=org.id, kind=kind, is_current=True).values_list("id", flat=True)
        await ExclusiveAsset.filter(org_id=org.id, kind=kind, is_current=True).update(is_current=False)
        asset = await ExclusiveAsset.create(
            org=org,
            kind=kind,
            filename=name,
            image_format=checked.image_format,
            width=checked.width,
            height=checked.height,
            size_bytes=checked.size_bytes,
            sha256=hashlib.sha256(data).hexdigest(),
            contrast=checked.contrast,
            data=data,
            preview=preview,
            is_current=True,
            uploaded_by=actor.login,
        )
        await w.audit(
            "exclusive.asset.upload",
            object_id=asset.id,
            object_name=SPECS[kind].label,
            before={"asset_ids": list(previous)} if previous else None,
            after={"filename": name, "size": f"{checked.width}*{checked.height}px", "bytes": checked.size_bytes},
            detail="背景偏亮，建议使用深色图片" if checked.too_bright else "",
        )
    return _asset_view(asset)


async def make_current(actor: Actor, org_id: int | None, asset_id: int) -> AssetView:
    """恢复 an earlier upload from the history."""
    org = await exclusive_org(actor, org_id)
    asset = await ExclusiveAsset.get_or_none(id=asset_id, org_id=org.id)
    if asset is None:
        raise NotFound("图片不存在")
    async with write(actor, org_id=org.id, org_name=org.name, kind="exclusive_asset") as w:  # exclusive_org checked
        await ExclusiveAsset.filter(org_id=org.id, kind=asset.kind, is_current=True).update(is_current=False)
        asset.is_current = True
        await asset.save(update_fields=["is_current"])
        await w.audit(
            "exclusive.asset.restore",
            object_id=asset.id,
            object_name=SPECS[asset.kind].label,
            after={"filename": asset.filename},
        )
    return _asset_view(asset)


async def set_theme_color(actor: Actor, org_id: int | None, color: str) -> str:
    org = await exclusive_org(actor, org_id)
    color = (color or "").strip()
    if not THEME_PATTERN.match(color):
        raise ValidationFailed("主题色需为 #RRGGBB 格式的颜色值，如 #1677FF", field="theme_color")
    color = color.upper()
    look = await ExclusiveLook.get_or_none(org_id=org.id)
    before = look.theme_color if look else DEFAULT_THEME
    async with write(actor, org_id=org.id, org_name=org.name, kind="exclusive_look") as w:  # exclusive_org checked
        if look is None:
            await ExclusiveLook.create(org=org, theme_color=color, updated_by=actor.login)
        elif look.theme_color != color:
            look.theme_color, look.updated_by = color, actor.login
            await look.save()
        if before != color:
            await w.audit(
                "exclusive.theme",
                object_id=org.id,
                object_name="主题色",
                before={"theme_color": before},
                after={"theme_color": color},
            )
    return color


async def download_asset(actor: Actor, org_id: int | None, asset_id: int) -> tuple[str, bytes]:
    org = await exclusive_org(actor, org_id)
    asset = await ExclusiveAsset.get_or_none(id=asset_id, org_id=org.id)
    if asset is None:
        raise NotFound("图片不存在")
    return asset.filename, asset.data


async def download_set(actor: Actor, org_id: int | None) -> tuple[str, bytes]:
    """The current files as one zip, named by what they are, plus a note of where each goes in DingTalk's console."""
    org = await exclusive_org(actor, org_id)
    current = {a.kind: a for a in await ExclusiveAsset.filter(org_id=org.id, is_current=True)}
    if not current:
        raise ValidationFailed("还没有上传任何图片")
    theme = await _theme(org)
    lines = [f"{org.name} 专属企业界面", f"上传位置：{_LOOK_PATH}", f"主题色：{theme}", ""]
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for kind, spec in SPECS.items():
            asset = current.get(kind)
            if asset is None:
                lines.append(f"{spec.label}：未上传（{spec.rule}）")
                continue
            name = f"{spec.label.replace(' ', '')}_{spec.width}x{spec.height}.{ALLOWED_FORMATS[asset.image_format]}"
            archive.writestr(name, asset.data)
            lines.append(f"{spec.label}：{name}（原文件 {asset.filename}）")
        archive.writestr("说明.txt", "\n".join(lines) + "\n")
    return f"专属企业界面_{org.corpid}.zip", buffer.getvalue()
