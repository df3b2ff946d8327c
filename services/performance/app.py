"""The performance service: its schema, event store and relay are in place; its domain comes with its issue."""

from sqlalchemy import MetaData

from backbone.service import ServiceSpec, create_service

spec = ServiceSpec(name="performance", title="FundWatch performance (绩效)", metadata=MetaData(schema="performance"), routers=[])
app = create_service(spec)
