"""删除后重新添加: the one way to give a user who joined DingTalk a new mobile number.

DingTalk refuses to change the mobile of a user who has logged in (40022, dingtalk-api.md 3.3) and says to delete
and re-add the user. This does exactly that, with the same userid, the same departments and LanDing's values, so
every mapping (our DingTalk id, the business systems' feed) stays valid. What the person loses in DingTalk is said
on the confirmation (``LOSSES``) before an admin starts it.
"""

from __future__ import annotations

from app.core.change_tracking import touch_feed
from app.dingtalk.client import DingTalkClient
from app.dingtalk.errors import DingTalkAPIError
from app.models.contacts import Person
from app.models.orgs import Org
from app.sync import dingtalk_in, fields, hashing

GONE_USER = frozenset({60121, 60111, 33012})
LOSSES = (
    "该人员会先从钉钉企业中删除，再用相同的 userid 和本系统的资料重新添加；"
    "其在本企业内的聊天记录、群聊成员身份、DING、待办与审批记录等会丢失，需用新手机号重新登录钉钉加入企业。"
)


async def recreate_user(client: DingTalkClient, org: Org, person: Person) -> None:
    """Delete the DingTalk user and create it again from the local person; clears the person's conflicts."""
    app = dingtalk_in.ding_app(org)
    dept_ids = await dingtalk_in.ding_dept_ids(person)
    if not dept_ids:
        raise ValueError("所在部门尚未同步到钉钉")
    view = fields.person_view(person, dept_ids)
    userid = person.ding_userid
    try:
        await client.contacts.delete_user(app, userid)
    except DingTalkAPIError as exc:
        if exc.effective_code not in GONE_USER:
            raise
    created = await client.contacts.create_user(
        app, userid=userid, mobile=fields.view_values(view)["mobile"] or None, **fields.user_body(view, create=True)
    )
    person.ding_userid, person.unionid = created.userid, created.unionid
    person.sync_conflicts = {}
    person.pushed_hash = hashing.person_hash(view)
    person.needs_push = False
    touch_feed(person)
    await person.save(
        update_fields=["ding_userid", "unionid", "sync_conflicts", "pushed_hash", "needs_push", "feed_time"]
    )
