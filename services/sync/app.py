"""The sync service: its schema, event store and relay are in place; its domain comes with its issue."""

from sqlalchemy import MetaData

from backbone.service import ServiceSpec, create_service

spec = ServiceSpec(name="sync", title="FundWatch sync (省级平台数据交换)", metadata=MetaData(schema="sync"), routers=[])
app = create_service(spec)
