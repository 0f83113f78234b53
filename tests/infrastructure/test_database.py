"""The database: RDS PostgreSQL 17 behind RDS Proxy, encrypted, backed up, rotated, migrated on deploy."""

from __future__ import annotations

import json

import pytest

from .conftest import Synth

pytestmark = pytest.mark.infrastructure


def _instance(synth: Synth) -> dict:
    (instance,) = synth.of_type("AWS::RDS::DBInstance").values()
    return dict(instance["Properties"])


def test_instance(synth: Synth) -> None:
    """Given the default (non-production) context
    When the database is synthesized
    Then it is PostgreSQL 17, encrypted, private, with backups, TLS forced, logs exported;
    deletion protection and multi-AZ are off (on only with profile=prod)."""
    props = _instance(synth)
    assert props["Engine"] == "postgres" and props["EngineVersion"].split(".")[0] == "17"
    assert props["StorageEncrypted"] is True
    assert props["PubliclyAccessible"] is False
    assert props["BackupRetentionPeriod"] >= 7
    assert props["DeletionProtection"] is False and props["MultiAZ"] is False
    assert set(props["EnableCloudwatchLogsExports"]) == {"postgresql", "upgrade"}
    (params,) = synth.of_type("AWS::RDS::DBParameterGroup").values()
    assert params["Properties"]["Parameters"]["rds.force_ssl"] == "1"


def test_production_instance(prod_synth: Synth) -> None:
    """Given profile=prod
    When the database is synthesized
    Then deletion protection and multi-AZ are on and backups are kept 30 days."""
    props = _instance(prod_synth)
    assert props["DeletionProtection"] is True and props["MultiAZ"] is True
    assert props["BackupRetentionPeriod"] == 30


def test_credentials_are_rotated(synth: Synth) -> None:
    """Given the database secret
    When the stack is synthesized
    Then a rotation schedule rotates it with the hosted PostgreSQL single-user function in the VPC."""
    (schedule,) = synth.of_type("AWS::SecretsManager::RotationSchedule").values()
    props = schedule["Properties"]
    assert props["HostedRotationLambda"]["RotationType"] == "PostgreSQLSingleUser"
    assert props["HostedRotationLambda"]["VpcSubnetIds"]
    assert props["RotationRules"]["ScheduleExpression"] == "rate(30 days)"


def test_proxy_requires_tls_and_iam(prod_synth: Synth) -> None:
    """Given the RDS Proxy (profile=prod)
    When it is synthesized
    Then it requires TLS and IAM authentication end to end (no stored credentials)."""
    prod_synth.assertions().has_resource_properties(
        "AWS::RDS::DBProxy", {"RequireTLS": True, "EngineFamily": "POSTGRESQL", "DefaultAuthScheme": "IAM_AUTH"}
    )


def test_migrations_run_on_deploy(synth: Synth) -> None:
    """Given the migration function
    When the stack is synthesized
    Then a CDK Trigger invokes it after the instance exists, and its configuration carries the hash
    of the migration files (a changed migration re-runs the trigger)."""
    (trigger,) = synth.of_type("Custom::Trigger").values()
    assert "DatabaseMigrate" in json.dumps(trigger["Properties"]["HandlerArn"])
    depends = trigger.get("DependsOn", [])
    assert any("DatabaseInstance" in d for d in depends)
    migrate = [
        fn["Properties"]
        for fn in synth.of_type("AWS::Lambda::Function").values()
        if fn["Properties"].get("FunctionName") == "Snowwatch-migrate"
    ]
    assert len(migrate[0]["Environment"]["Variables"]["MIGRATIONS_HASH"]) == 16
