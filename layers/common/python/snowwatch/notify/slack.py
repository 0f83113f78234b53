"""Slack through slack-sdk: chat.postMessage with a bot token, or an incoming webhook; Block Kit.

The SDK retries connection errors, rate limits (429, honouring Retry-After) and 5xx itself; what
still fails raises here and the outbox retries it later.

Every request goes through the egress policy (:mod:`snowwatch.egress`): the URL is checked again
before sending (a URL stored before the policy existed gets no pass), the socket connects only to a
checked public address, and no redirect is followed. A failure keeps the status code and a reason
from a fixed vocabulary, never the reply body.
"""

from __future__ import annotations

import functools
import random
from collections.abc import Callable
from http.client import HTTPResponse
from typing import Any
from urllib.request import OpenerDirector, Request
from uuid import UUID

from slack_sdk import WebClient, WebhookClient
from slack_sdk.errors import SlackApiError, SlackClientError
from slack_sdk.http_retry.builtin_handlers import (
    ConnectionErrorRetryHandler,
    RateLimitErrorRetryHandler,
    ServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.jitter import Jitter
from slack_sdk.webhook import WebhookResponse

from snowwatch import egress
from snowwatch.models.notifications import Notification
from snowwatch.notify import PermanentSendError, SendError
from snowwatch.notify.render import render
from snowwatch.services import secrets
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


class _CheckedWebhookClient(WebhookClient):
    """slack-sdk's webhook client, its HTTP call made through the egress policy's opener."""

    def __init__(self, *, opener: OpenerDirector, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._opener = opener

    def _perform_http_request_internal(self, url: str, req: Request) -> WebhookResponse:
        response: HTTPResponse = self._opener.open(req, timeout=self.timeout)
        body = response.read().decode(response.headers.get_content_charset() or "utf-8")
        return WebhookResponse(url=url, status_code=response.status, body=body, headers=response.headers)  # type: ignore[arg-type]


class _CheckedWebClient(WebClient):
    """slack-sdk's Web API client, its HTTP call made through the egress policy's opener."""

    def __init__(self, *, opener: OpenerDirector, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._opener = opener

    def _perform_urllib_http_request_internal(self, url: str, req: Request) -> dict[str, Any]:
        response: HTTPResponse = self._opener.open(req, timeout=self.timeout)
        body = response.read().decode(response.headers.get_content_charset() or "utf-8")
        return {"status": response.status, "headers": response.headers, "body": body}


def _reason(error: str) -> str:
    """A reason from the fixed vocabulary; anything else a reply says is not kept."""
    return error if error in PERMANENT_ERRORS | {"invalid_payload", "no_active_hooks", "ratelimited"} else "error"


SecretReader = Callable[[str, UUID], dict[str, Any]]


class SlackSender:
    def __init__(self, settings: NotifySettings, read_secret: SecretReader | None = None) -> None:
        """``read_secret(ref, org_id)`` defaults to Secrets Manager with the org-tag check."""
        self.settings = settings
        self.policy = egress.Policy.for_slack(settings)
        self.read_secret = read_secret or functools.partial(secrets.read_owned, settings)

    def send(self, notification: Notification) -> None:
        target = notification.payload.get("slack") or {}
        ref = target.get("secret_ref")
        if not ref:
            raise PermanentSendError("no Slack target configured")
        try:
            secret = self.read_secret(ref, notification.org_id)
        except secrets.SecretNotOwnedError as exc:
            raise PermanentSendError(exc.message) from exc
        except Exception as exc:
            raise SendError(f"Slack secret unreadable: {type(exc).__name__}") from exc
        message = render(notification, self.settings.dashboard_url)
        text = f"{message.subject}\n{message.link}"
        try:
            if secret.get("bot_token"):
                self._post_message(secret["bot_token"], target.get("channel"), text, message.blocks)
            elif secret.get("webhook_url"):
                self._post_webhook(secret["webhook_url"], text, message.blocks)
            else:
                raise PermanentSendError("Slack secret holds neither bot_token nor webhook_url")
        except egress.EgressRefusedError as exc:
            raise PermanentSendError(f"Slack target refused by the egress policy: {exc.message}") from exc
        except SlackApiError as exc:
            error = _reason(str(exc.response.get("error", "")) if exc.response is not None else "")
            if error in PERMANENT_ERRORS:
                raise PermanentSendError(f"Slack {error}") from exc
            raise SendError(f"Slack api {error}") from exc
        except (SlackClientError, OSError, TimeoutError) as exc:
            raise SendError(f"Slack {type(exc).__name__}") from exc

    def _client_options(self) -> dict[str, Any]:
        return {
            "opener": egress.opener(self.policy),
            "timeout": int(max(1, self.settings.send_timeout_seconds)),
            "retry_handlers": _retry_handlers(self.settings.slack_retry_backoff_seconds),
        }

    def _post_message(self, token: str, channel: str | None, text: str, blocks: list[Any]) -> None:
        if not channel:
            raise PermanentSendError("a bot token needs a channel")
        base_url = (self.settings.slack_base_url or WebClient.BASE_URL).rstrip("/") + "/"
        egress.check_url(base_url, self.policy)
        client = _CheckedWebClient(token=token, base_url=base_url, **self._client_options())
        client.chat_postMessage(channel=channel, text=text, blocks=blocks)

    def _post_webhook(self, url: str, text: str, blocks: list[Any]) -> None:
        egress.check_url(url, self.policy)
        response = _CheckedWebhookClient(url=url, **self._client_options()).send(text=text, blocks=blocks)
        if response.status_code == 200:
            return
        reason = _reason((response.body or "").strip())
        if response.status_code in (400, 403, 404, 410) and reason != "error":
            raise PermanentSendError(f"Slack webhook {response.status_code} {reason}")
        if 300 <= response.status_code < 400:
            raise PermanentSendError(f"Slack webhook {response.status_code} redirect (not followed)")
        raise SendError(f"Slack webhook {response.status_code} {reason}")
