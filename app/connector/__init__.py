"""蓝钉集成组件 (guide section 4): the integration component a business system runs beside itself.

A separate process (``landing connector``) with its own database, pages and admin login. It binds to the console
with an access identifier and from then on knows the console only through its public HTTP API (bind, the mapping
feed, change notifications) and DingTalk only through the shared rate-limited client. It never imports console
services or models (an import contract in pyproject.toml enforces this), so it can be deployed next to EKP, an HR
or a CRM system without the console's code paths.
"""
