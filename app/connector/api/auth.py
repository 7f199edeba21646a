"""HTTP Basic with the connector's todo API account (the same header EKP's REST services expect)."""

from __future__ import annotations

import base64
import binascii

from fastapi import Request

from app.connector.services import accounts


def credentials(request: Request) -> tuple[str, str] | None:
    scheme, _, param = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "basic" or not param:
        return None
    try:
        text = base64.b64decode(param.strip(), validate=True).decode("utf-8")
    except (ValueError, binascii.Error, UnicodeDecodeError):
        return None
    account, sep, password = text.partition(":")
    return (account, password) if sep else None


async def authorised(request: Request) -> bool:
    given = credentials(request)
    return given is not None and await accounts.check_api_credentials(*given)
