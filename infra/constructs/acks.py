"""cdk-nag acknowledgements: the one way to suppress a finding, always with its reason."""

from __future__ import annotations

from aws_cdk import Acknowledgment, Validations
from constructs import IConstruct


def ack(scope: IConstruct, rule: str, reason: str) -> None:
    """Acknowledge (suppress) one cdk-nag finding on ``scope`` and its children, with the reason."""
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))
