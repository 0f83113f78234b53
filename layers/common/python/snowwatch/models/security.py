"""Security contracts: findings of the detection rules, alerts, and the API's read models."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, field_validator

from snowwatch.models.common import Day, Number

Severity = Literal["critical", "high", "medium", "low", "info"]
AlertStatus = Literal["open", "acknowledged", "resolved"]
AlertEventKind = Literal["opened", "acknowledged", "snoozed", "resolved", "reopened"]
SEVERITIES: tuple[Severity, ...] = ("critical", "high", "medium", "low", "info")


class Finding(BaseModel):
    """What one rule saw about one subject in one evaluation.

    ``observed_at`` is when the finding was last seen: the newest evidence event for event-based rules
    (logins, sessions, queries), the evaluation time for state-based rules (users, grants, policies).
    The alert lifecycle compares it with ``resolved_at`` to decide whether a resolved alert reopens.
    """

    model_config = ConfigDict(frozen=True)

    rule_id: str
    severity: Severity
    subject: str
    title: str
    description: str
    evidence: list[dict[str, Any]] = Field(default_factory=list)
    remediation_sql: str | None = None
    observed_at: datetime
    links: list[str] = Field(
        default_factory=list,
        description="For incident grouping: the users and IPs this finding is about ('user:NAME', 'ip:ADDRESS'); "
        "empty for rules that do not group",
    )


class AlertOut(BaseModel):
    id: UUID
    connector_id: UUID
    rule_id: str
    severity: Severity
    subject: str
    title: str
    description: str
    evidence: list[dict[str, Any]]
    remediation_sql: str | None
    status: AlertStatus
    first_seen_at: datetime
    last_seen_at: datetime
    occurrences: int
    resolved_at: datetime | None
    resolved_by: UUID | None
    resolved_by_email: str | None = None
    resolution_note: str | None = Field(description="The last resolution's note (every one is in the history)")
    reopened_count: int
    reopened_at: datetime | None = None
    acknowledged_at: datetime | None = None
    acknowledged_by_email: str | None = None
    snoozed_until: datetime | None = Field(
        default=None, description="Until then the alert does not count as open and reopens without a notification"
    )


class AlertEventOut(BaseModel):
    kind: AlertEventKind
    at: datetime
    actor_email: str | None = Field(description="Who did it; null for the evaluation (opened, reopened)")
    note: str | None = Field(description="The note given, or for a reopen why it reopened")
    until: datetime | None = Field(description="For a snooze: until when")


class AlertDetail(AlertOut):
    history: list[AlertEventOut] = Field(description="Every transition, oldest first")
    timeline_event_ids: list[int] = Field(
        default_factory=list,
        description="Successful logins of the alert's user or from its IP around it (newest first): each has a "
        "post-login timeline",
    )


class IncidentOut(BaseModel):
    id: UUID
    connector_id: UUID
    subject: str = Field(description="The subject of the alert that opened it")
    keys: list[str] = Field(description="Every user and IP it is about ('user:NAME', 'ip:ADDRESS')")
    severity: Severity = Field(description="Its most severe alert's")
    title: str
    status: AlertStatus
    first_seen_at: datetime
    last_seen_at: datetime
    alert_count: int
    acknowledged_at: datetime | None
    acknowledged_by_email: str | None
    resolved_at: datetime | None
    resolved_by_email: str | None
    resolution_note: str | None
    reopened_count: int
    reopened_at: datetime | None


class IncidentEventOut(BaseModel):
    kind: Literal["opened", "alert_joined", "acknowledged", "resolved", "reopened"]
    at: datetime
    actor_email: str | None
    note: str | None
    alert_id: UUID | None


class IncidentDetail(IncidentOut):
    alerts: list[AlertOut] = Field(description="Its alerts (each keeps its own id and lifecycle), most severe first")
    history: list[IncidentEventOut] = Field(description="Every transition and every alert that joined, oldest first")


class AcknowledgeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: str | None = Field(default=None, max_length=2000)


class SnoozeRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    until: Day = Field(description="The alert is snoozed until the start of this day (UTC); at most 90 days ahead")
    note: str | None = Field(default=None, max_length=2000)


class ResolveRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    note: str = Field(min_length=1, max_length=2000, description="Why the alert is resolved (required)")

    @field_validator("note")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("note must not be blank")
        return value


class SeverityCounts(BaseModel):
    critical: int = 0
    high: int = 0
    medium: int = 0
    low: int = 0
    info: int = 0


class ExtractionInfo(BaseModel):
    run_id: UUID
    status: str
    finished_at: datetime | None
    skipped: list[str] = Field(default_factory=list)
    failed_rules: dict[str, str] = Field(
        default_factory=dict, description="Rules that failed in that run (the others still ran), with the error"
    )


class SecuritySummary(BaseModel):
    open_alerts: SeverityCounts
    open_alerts_total: int
    mfa_adoption_percent: Number | None = Field(
        description="Enabled human users holding a password who have MFA (HAS_MFA or legacy Duo), in percent; "
        "null when there are no such users"
    )
    password_users: int
    password_users_with_mfa: int
    admins: int = Field(description="Users holding ACCOUNTADMIN or SECURITYADMIN, directly or inherited")
    stale_users: int
    failed_logins_24h: int
    security_score: int = Field(ge=0, le=100)
    score_formula: str
    last_extraction: ExtractionInfo | None = None


class StaleUserOut(BaseModel):
    user_name: str
    created_on: datetime | None
    last_success_login: datetime | None
    days_inactive: int
    has_password: bool
    default_role: str | None
    detected_at: datetime


class FailedLoginsByUser(BaseModel):
    user_name: str | None
    failures: int
    distinct_ips: int
    first_failure: datetime
    last_failure: datetime


class FailedLoginsByIp(BaseModel):
    client_ip: str | None
    failures: int
    distinct_users: int
    first_failure: datetime
    last_failure: datetime


class FailedLogins(BaseModel):
    window_hours: int
    since: datetime
    total: int
    by_user: list[FailedLoginsByUser]
    by_ip: list[FailedLoginsByIp]


class LoginEventOut(BaseModel):
    event_id: int
    event_timestamp: datetime
    event_type: str | None
    user_name: str | None
    client_ip: str | None
    reported_client_type: str | None
    first_authentication_factor: str | None
    second_authentication_factor: str | None
    is_success: bool
    error_code: int | None
    error_message: str | None


class NoMfaUserOut(BaseModel):
    user_name: str
    email: str | None
    type: str | None
    default_role: str | None
    ext_authn_duo: bool
    last_success_login: datetime | None
    is_admin: bool


class AdminGrantPath(BaseModel):
    admin_role: str
    path: list[str] = Field(
        description="The user's granted role first, then each inherited role down to the admin role"
    )


class AdminAccessOut(BaseModel):
    user_name: str
    type: str | None
    default_role: str | None
    has_password: bool
    has_mfa: bool
    last_success_login: datetime | None
    grants: list[AdminGrantPath]


class AdminAccess(BaseModel):
    admins: list[AdminAccessOut]
    total: int
    within_recommended_range: bool = Field(description="CIS 1.10: at least 2 and fewer than 10")


class TimelineLogin(LoginEventOut):
    reported_client_version: str | None


class TimelineSession(BaseModel):
    session_id: int
    created_on: datetime
    user_name: str | None
    authentication_method: str | None
    client_application_id: str | None
    client_application_version: str | None
    client_environment: dict[str, Any] | None


class TimelineQuery(BaseModel):
    query_id: str
    session_id: int
    start_time: datetime
    query_type: str | None
    text_excerpt: str | None = Field(description="The first 300 characters of the query text")
    warehouse_name: str | None
    execution_status: str | None
    rows_produced: int | None
    bytes_scanned: int | None
    flag: str | None = Field(description="Why this step matters (stage created, unload to a stage, GET, PUT), or null")


class TimelineObject(BaseModel):
    query_id: str
    at: datetime
    access: Literal["read", "write"]
    object_name: str | None
    object_domain: str | None


class LoginTimeline(BaseModel):
    login: TimelineLogin
    sessions: list[TimelineSession]
    queries: list[TimelineQuery] = Field(description="The queries of those sessions, oldest first")
    queries_truncated: bool = Field(description="True when the sessions ran more queries than listed")
    objects: list[TimelineObject] = Field(description="Objects read and written (ACCESS_HISTORY; Enterprise only)")
    flagged_steps: int
    same_ip_logins: list[TimelineLogin] = Field(description="Other logins from the same IP within 24 hours")


PostureVerdict = Literal["ready", "at_risk", "blocked"]


class SignInMethod(BaseModel):
    method: str = Field(description="FIRST_AUTHENTICATION_FACTOR, '+' SECOND_AUTHENTICATION_FACTOR when there was one")
    logins: int
    last_at: datetime


class PostureUser(BaseModel):
    user_name: str
    type: str | None = Field(description="PERSON, SERVICE, LEGACY_SERVICE or null (unset: treated as a person)")
    has_password: bool
    has_mfa: bool
    has_rsa_public_key: bool
    has_pat: bool
    has_workload_identity: bool
    last_success_login: datetime | None
    sign_in_methods: list[SignInMethod] = Field(description="Successful sign-ins over the window, by method")
    verdict: PostureVerdict
    reasons: list[str]
    fix_sql: str | None = Field(description="What to run (snowwatch never runs it)")


class VerdictCounts(BaseModel):
    ready: int = 0
    at_risk: int = 0
    blocked: int = 0


class AuthenticationPosture(BaseModel):
    window_days: int
    counts: VerdictCounts
    total: int
    limit: int
    offset: int
    users: list[PostureUser] = Field(description="Blocked first, then at risk, then ready; by name")


class SnapshotOut(BaseModel):
    day: date
    score: int = Field(ge=0, le=100)
    critical: int
    high: int
    medium: int
    low: int
    info: int
    open_incidents: int
    taken_at: datetime


class SecurityTrend(BaseModel):
    days: int
    since: date
    points: list[SnapshotOut] = Field(
        description="One per day with a security run (UTC), oldest first; days without a run are absent"
    )
