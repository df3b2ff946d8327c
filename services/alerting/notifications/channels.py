"""The two ways out: e-mail over SMTP and the SMS gateway over HTTP. Each answers None when the message was taken,
or what went wrong in words (recorded on the delivery, then tried again)."""

import hashlib
from email.message import EmailMessage

import aiosmtplib
import httpx

from backbone.settings import Settings
from services.alerting.notifications.domain import Channel


def channels_on(settings: Settings) -> list[Channel]:
    """The channels configured: a deployment without an SMTP server or SMS gateway plans nothing for them."""
    return ([Channel.EMAIL] if settings.notify_smtp_host else []) + ([Channel.SMS] if settings.notify_sms_url else [])


async def send_email(settings: Settings, to: str, title: str, body: str, key: str) -> str | None:
    message = EmailMessage()
    message["From"] = settings.notify_mail_from
    message["To"] = to
    message["Subject"] = title
    # The delivery key travels along, so a mail server or reader can tell a repeat attempt of one message.
    message["Message-ID"] = f"<{hashlib.sha256(key.encode()).hexdigest()[:32]}@fundwatch>"
    message["X-FundWatch-Delivery"] = key
    message.set_content(body)
    password = settings.notify_smtp_password.get_secret_value() if settings.notify_smtp_password else None
    try:
        await aiosmtplib.send(message, hostname=settings.notify_smtp_host, port=settings.notify_smtp_port,
                              start_tls=settings.notify_smtp_starttls or None, username=settings.notify_smtp_user,
                              password=password, timeout=settings.notify_timeout_seconds)
    except (aiosmtplib.SMTPException, OSError) as exc:
        return f"{type(exc).__name__}: {exc}"[:500]
    return None


async def send_sms(client: httpx.AsyncClient, settings: Settings, to: str, text: str, key: str) -> str | None:
    headers = {"Idempotency-Key": key}
    if settings.notify_sms_key:
        headers["X-Api-Key"] = settings.notify_sms_key.get_secret_value()
    try:
        answer = await client.post(settings.notify_sms_url or "", json={"to": to, "text": text}, headers=headers,
                                   timeout=settings.notify_timeout_seconds)
    except httpx.HTTPError as exc:
        return f"{type(exc).__name__}: {exc}"[:500]
    return None if answer.is_success else f"{answer.status_code}: {answer.text[:300]}"
