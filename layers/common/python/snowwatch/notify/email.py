"""Email through SES: one message per outbox row, an HTML and a plain-text part."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from snowwatch import aws
from snowwatch.models.notifications import Notification
from snowwatch.notify import PermanentSendError, SendError
from snowwatch.notify.render import render
from snowwatch.settings import NotifySettings

# SES answers that retrying will not change.
PERMANENT_CODES = frozenset({"MessageRejected", "InvalidParameterValue", "MailFromDomainNotVerified"})


class SesSender:
    def __init__(self, settings: NotifySettings) -> None:
        self.settings = settings

    def send(self, notification: Notification) -> None:
        if not notification.recipients:
            raise PermanentSendError("no recipients")
        message = render(notification, self.settings.dashboard_url)
        client = aws.client("ses", self.settings.aws_region, self.settings.send_timeout_seconds)
        try:
            client.send_email(
                Source=self.settings.ses_sender,
                Destination={"ToAddresses": notification.recipients},
                Message={
                    "Subject": {"Data": message.subject, "Charset": "UTF-8"},
                    "Body": {
                        "Text": {"Data": message.text, "Charset": "UTF-8"},
                        "Html": {"Data": message.html, "Charset": "UTF-8"},
                    },
                },
            )
        except ClientError as exc:
            code = exc.response.get("Error", {}).get("Code", "")
            if code in PERMANENT_CODES:
                raise PermanentSendError(f"SES {code}") from exc
            raise SendError(f"SES {code or 'error'}") from exc
        except BotoCoreError as exc:
            raise SendError(f"SES {type(exc).__name__}") from exc
