"""The province's answer to a forwarded application as it comes through the exchange (sync's
PermissionAnswerReceived): applied exactly as the feedback route applies it, once — an answer to an application
that is no longer waiting (answered on paper, or by the same message before) changes nothing."""

from collections.abc import Callable, Mapping

import structlog
from sqlalchemy.ext.asyncio import AsyncConnection

from backbone.access import PROVINCE_SYSTEM
from backbone.consumer import Handler
from backbone.identity import Principal
from backbone.service import Runtime
from contracts.envelope import EventEnvelope
from contracts.sync import PermissionAnswerReceived
from gateway.applications.api import application_row
from gateway.applications.domain import Kind, Status
from gateway.applications.review_api import decide
from gateway.auth import PROVINCE_SYSTEM_SUBJECT

log = structlog.get_logger(__name__)
PROVINCE = Principal(subject=PROVINCE_SYSTEM_SUBJECT, roles=[PROVINCE_SYSTEM])


def handlers(runtime: Runtime, forget_sessions: Callable[[str], None]) -> Mapping[str, Handler]:
    async def on_answer(conn: AsyncConnection, env: EventEnvelope) -> None:
        e = PermissionAnswerReceived.model_validate(env.payload)
        row = await application_row(conn, e.application_id, lock=True)
        if row is None or Status(row.status) is not Status.FORWARDED:
            log.info("applications.answer_left", application_id=e.application_id, message_id=e.message_id,
                     status=row.status if row else None)
            return
        out = await decide(conn, runtime, PROVINCE, row, e.decision, e.remarks, "platform")
        if e.decision == "approved" and Kind(row.kind) is not Kind.GRANT:
            forget_sessions(out.username)

    return {PermissionAnswerReceived.event_type: on_answer}
