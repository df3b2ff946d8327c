"""The library's read models: a row per document with its tags, and a row per office that read it (抄送 已阅)."""

from collections.abc import Sequence

from sqlalchemy import BigInteger, Column, Date, DateTime, Table, Text
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncConnection

from contracts.envelope import EventEnvelope
from contracts.ledger import LibraryDocumentFiled, LibraryDocumentRead
from services.ledger.projections import metadata

library = Table(
    "library_documents", metadata,
    Column("document_id", Text, primary_key=True), Column("title", Text), Column("kind", Text),
    Column("doc_no", Text), Column("issued_on", Date), Column("issuing_division", Text),
    Column("fund_codes", ARRAY(Text)), Column("rules", ARRAY(Text)), Column("copied_to", ARRAY(Text)),
    Column("sha256", Text), Column("media_type", Text), Column("size", BigInteger), Column("filename", Text),
    Column("filed_by", Text), Column("filed_at", DateTime(timezone=True)),
)

library_reads = Table(
    "library_reads", metadata,
    Column("document_id", Text, primary_key=True), Column("office", Text, primary_key=True),
    Column("read_by", Text), Column("read_at", DateTime(timezone=True)),
)


async def project_library(conn: AsyncConnection, envelopes: Sequence[EventEnvelope]) -> None:
    """Inline projection: documents as filed, and each office's read mark."""
    for env in envelopes:
        if env.event_type == LibraryDocumentFiled.event_type:
            e = LibraryDocumentFiled.model_validate(env.payload)
            await conn.execute(insert(library).values(
                **e.model_dump(), filed_by=env.metadata.actor, filed_at=env.occurred_at).on_conflict_do_nothing())
        elif env.event_type == LibraryDocumentRead.event_type:
            e = LibraryDocumentRead.model_validate(env.payload)
            await conn.execute(insert(library_reads).values(
                document_id=e.document_id, office=e.office, read_by=env.metadata.actor, read_at=env.occurred_at,
            ).on_conflict_do_nothing())
