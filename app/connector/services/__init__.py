"""Use-cases of the connector; pages and routers call these, nothing else touches the ORM or DingTalk."""
