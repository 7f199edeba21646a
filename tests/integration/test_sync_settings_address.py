"""同步地址 pointing inside the network is refused when the settings are saved, and nothing is saved."""

from __future__ import annotations

import pytest

from app.models.sync import SyncSettings
from app.services import sync_settings
from app.services.errors import ValidationFailed
from tests import factories
from tests.integration import sync_env


@pytest.mark.parametrize("url", ["http://169.254.169.254/ekp", "http://[::ffff:10.0.0.1]/ekp", "http://0x0a000001/ekp"])
async def test_internal_sync_address_is_refused_at_save(orm: str, url: str) -> None:
    org = await factories.org("叮当科技", "dingcorp7", is_main=True)
    admin = await sync_env.org_admin(org)
    data = sync_settings.SettingsInput(
        cron="0 */2 * * *", delete_threshold=20, source_enabled=True, source_name="EKP", source_url=url
    )
    with pytest.raises(ValidationFailed) as refused:
        await sync_settings.update_settings(admin, org.id, data)
    assert refused.value.field == "source_url" and refused.value.message.startswith("同步地址")
    assert not await SyncSettings.filter(org_id=org.id, source_enabled=True).exists()
