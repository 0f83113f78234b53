"""Senders: SES email and Slack behind one small interface.

``Sender.send(notification)`` delivers one outbox row or raises: :class:`PermanentSendError` when a
retry cannot help (rejected address, unknown channel, revoked token), anything else when it can.
"""

from __future__ import annotations

from typing import Protocol

from snowwatch.models.notifications import Notification


class SendError(Exception):
    """A send failed and may succeed later."""


class PermanentSendError(SendError):
    """A send failed for a reason a retry will not fix."""


class Sender(Protocol):
    def send(self, notification: Notification) -> None: ...


__all__ = ["PermanentSendError", "SendError", "Sender"]
