"""Slack through slack-sdk: chat.postMessage with a bot token, or an incoming webhook; Block Kit.

The SDK retries connection errors, rate limits (429, honouring Retry-After) and 5xx itself; what
still fails raises here and the outbox retries it later.
"""

from __future__ import annotations

import json
import random
from typing import Any

from slack_sdk import WebClient, WebhookClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.jitter import Jitter

from snowwatch import aws
from snowwatch.models.notifications import Notification
from snowwatch.notify import PermanentSendError, SendError
from snowwatch.notify.render import render
from snowwatch.settings import NotifySettings

# Slack error codes that a retry will not fix.
PERMANENT_ERRORS = frozenset(
    {
        "channel_not_found",
        "not_in_channel",
        "is_archived",
        "invalid_auth",
        "account_inactive",
        "token_revoked",
        "no_permission",
        "missing_scope",
        "invalid_blocks",
        "no_service",
        "no_team",
        "team_disabled",
        "invalid_token",
        "action_prohibited",
        "posting_to_general_channel_denied",
        "channel_is_archived",
    }
)


class _ProportionalJitter(Jitter):
    """Full jitter scaled to the backoff factor (slack-sdk's default adds up to a whole second)."""

    def __init__(self, factor: float) -> None:
        self.factor = factor

    def recalculate(self, duration: float) -> float:
        return duration + random.random() * self.factor  # noqa: S311 - jitter, not cryptography


def _retry_handlers(backoff: float) -> list[Any]:
    interval = BackoffRetryIntervalCalculator(backoff_factor=backoff, jitter=_ProportionalJitter(backoff))
    return [
        ConnectionErrorRetryHandler(max_retry_count=1, interval_calculator=interval),
        RateLimitErrorRetryHandler(max_retry_count=2),  # waits for Retry-After
        ServerErrorRetryHandler(max_retry_count=2, interval_calculator=interval),
    ]


def read_secret(ref: str, region: str) -> dict[str, str]:
    return dict(json.loads(aws.secret(ref, region)))


class SlackSender:
    def __init__(self, settings: NotifySettings, secret_reader: Any = None) -> None:
        self.settings = settings
        self.read_secret = secret_reader or (lambda ref: read_secret(ref, settings.aws_region))

    def send(self, notification: Notification) -> None:
        target = notification.payload.get("slack") or {}
        ref = target.get("secret_ref")
        if not ref:
            raise PermanentSendError("no Slack target configured")
        try:
            secret = self.read_secret(ref)
        except Exception as exc:
            raise SendError(f"Slack secret unreadable: {type(exc).__name__}") from exc
        message = render(notification, self.settings.dashboard_url)
        text = f"{message.subject}\n{message.link}"
        timeout = int(max(1, self.settings.send_timeout_seconds))
        retries = _retry_handlers(self.settings.slack_retry_backoff_seconds)
        try:
            if secret.get("bot_token"):
                channel = target.get("channel")
                if not channel:
                    raise PermanentSendError("a bot token needs a channel")
                kwargs: dict[str, Any] = {}
                if self.settings.slack_base_url:
                    kwargs["base_url"] = self.settings.slack_base_url.rstrip("/") + "/"
                client = WebClient(
                    token=secret["bot_token"],
                    timeout=timeout,
                    retry_handlers=retries,
                    **kwargs,
                )
                client.chat_postMessage(channel=channel, text=text, blocks=message.blocks)
                return
            url = secret.get("webhook_url")
            if not url:
                raise PermanentSendError("Slack secret holds neither bot_token nor webhook_url")
            hook = WebhookClient(url=url, timeout=timeout, retry_handlers=retries)
            response = hook.send(text=text, blocks=message.blocks)
            if response.status_code != 200:
                error = (response.body or "").strip()[:100]
                if response.status_code in (400, 403, 404, 410) and error in PERMANENT_ERRORS | {
                    "invalid_payload",
                    "no_active_hooks",
                }:
                    raise PermanentSendError(f"Slack webhook {response.status_code} {error}")
                raise SendError(f"Slack webhook {response.status_code} {error}")
        except SlackApiError as exc:
            error = str(exc.response.get("error", "")) if exc.response is not None else ""
            if error in PERMANENT_ERRORS:
                raise PermanentSendError(f"Slack {error}") from exc
            raise SendError(f"Slack {error or 'api error'}") from exc
        except (SlackClientError, OSError, TimeoutError) as exc:
            raise SendError(f"Slack {type(exc).__name__}") from exc
