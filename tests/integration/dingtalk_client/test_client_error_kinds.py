"""What DingTalk (the simulator) answers arrives as the exception class of its kind."""

from __future__ import annotations

import pytest

from app.dingtalk.client import App, DingTalkClient
from app.dingtalk.errors import AlreadyExistsError, DingTalkError, InvalidInputError, NotFoundError


async def test_refusals_arrive_as_their_kind(client: DingTalkClient, app: App) -> None:
    with pytest.raises(NotFoundError) as missing:
        await client.contacts.get_user(app, "nobody-here")
    assert missing.value.errcode == 60121 and missing.value.advice

    await client.contacts.create_user(app, userid="kind1", name="甲", mobile="13800001111", dept_id_list=[1])
    with pytest.raises(AlreadyExistsError) as twice:
        await client.contacts.create_user(app, userid="kind1", name="乙", mobile="13800002222", dept_id_list=[1])
    assert twice.value.errcode == 60102

    with pytest.raises(NotFoundError):
        await client.contacts.get_department(app, 987654)

    with pytest.raises(DingTalkError) as bad_name:
        await client.contacts.create_department(app, "研发-中心", 1)
    assert isinstance(bad_name.value, InvalidInputError)
