"""A message to the province (数据交换) from its making to the province's receipt (回执): one transition table,
the back-off between attempts, and how an answer of the province is read. Pure: no I/O, no clock."""

from datetime import timedelta
from enum import StrEnum

from backbone.lifecycle import next_state


class MessageStatus(StrEnum):
    AWAITING_AUTHORIZATION = "awaiting_authorization"  # routine data without the poverty office's authorization
    PENDING = "pending"  # due to be sent (again) at next_attempt_at
    SENT = "sent"  # on its way: no answer yet (a sender that died mid-way leaves it here, and it is sent again)
    ACKNOWLEDGED = "acknowledged"  # the province's receipt is kept
    REFUSED = "refused"  # the province returned it (退回), with its reason: the information center's queue
    FAILED = "failed"  # no answer after every attempt: the information center's queue


class DeliveryStep(StrEnum):
    AUTHORIZE = "authorize"
    WITHDRAW = "withdraw"  # the authorization was revoked before the message went out
    SEND = "send"
    ACKNOWLEDGE = "acknowledge"
    REFUSE = "refuse"
    RETRY = "retry"  # no answer, or the province could not take it now
    GIVE_UP = "give_up"
    RESEND = "resend"  # the information center sends it again


S, P = MessageStatus, DeliveryStep
TRANSITIONS: dict[tuple[MessageStatus, DeliveryStep], MessageStatus] = {
    (S.AWAITING_AUTHORIZATION, P.AUTHORIZE): S.PENDING,
    (S.PENDING, P.WITHDRAW): S.AWAITING_AUTHORIZATION,
    (S.PENDING, P.SEND): S.SENT,
    # A message sent before whose answer never came (the sender died) is sent again, as it is.
    (S.SENT, P.SEND): S.SENT,
    (S.SENT, P.ACKNOWLEDGE): S.ACKNOWLEDGED,
    (S.SENT, P.REFUSE): S.REFUSED,
    (S.SENT, P.RETRY): S.PENDING,
    (S.SENT, P.GIVE_UP): S.FAILED,
    (S.REFUSED, P.RESEND): S.PENDING,
    (S.FAILED, P.RESEND): S.PENDING,
    # The province's later word (a receipt message) on a message it holds: also while the city still retries it
    # or gave up on it, and a return (退回) after a first receipt, when the province has looked at it.
    (S.PENDING, P.ACKNOWLEDGE): S.ACKNOWLEDGED,
    (S.PENDING, P.REFUSE): S.REFUSED,
    (S.FAILED, P.ACKNOWLEDGE): S.ACKNOWLEDGED,
    (S.FAILED, P.REFUSE): S.REFUSED,
    (S.ACKNOWLEDGED, P.REFUSE): S.REFUSED,
}
# Where a message waits for people (the information center's queue), and where it waits for nobody.
QUEUED = (S.REFUSED, S.FAILED)
DUE = (S.PENDING, S.SENT)


def after(status: MessageStatus, step: DeliveryStep, message_id: str) -> MessageStatus:
    """Where `step` takes a message standing at `status` (StepOutOfTurn, 409, when it cannot)."""
    return next_state(TRANSITIONS, status, step, what=f"message {message_id}", where=status.value)


def backoff(attempts: int, first: float, longest: float) -> timedelta:
    """The wait after the `attempts`-th attempt: `first` seconds, doubling, never longer than `longest`."""
    return timedelta(seconds=min(first * 2 ** max(attempts - 1, 0), longest))


def step_for_receipt(status: MessageStatus, answer: str) -> DeliveryStep | None:
    """The step a receipt message (accepted / returned) takes a message at `status` by; None when the message
    stands there already (the same word twice changes nothing)."""
    step, target = (P.ACKNOWLEDGE, S.ACKNOWLEDGED) if answer == "accepted" else (P.REFUSE, S.REFUSED)
    return None if MessageStatus(status) is target else step


def step_for_answer(status_code: int | None, attempts: int, max_attempts: int) -> DeliveryStep:
    """What the province's HTTP answer means for the message: a receipt (2xx), a refusal (4xx: it will not take
    this message as it is, sending it again changes nothing), or no answer yet (none, 408, 429, 5xx) — tried
    again until the attempts run out."""
    if status_code is not None and 200 <= status_code < 300:
        return P.ACKNOWLEDGE
    if status_code is not None and 400 <= status_code < 500 and status_code not in (408, 429):
        return P.REFUSE
    return P.GIVE_UP if attempts >= max_attempts else P.RETRY
