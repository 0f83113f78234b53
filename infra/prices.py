"""The idle monthly cost of a synthesized template, from a price table kept here.

"Idle" means deployed with no users: what is billed by the hour or the month whatever happens.
Everything billed per request, per GB or per invocation (Lambda, SQS, API requests, S3, CloudFront,
EventBridge Scheduler, log ingestion, data transfer, the jobs' own schedule runs) is left out: at
idle those come to cents. Prices: us-east-1, on-demand, 730 hours a month.

Price table as of 2026-11-30. Sources (AWS public pricing pages):
- Amazon VPC pricing (NAT gateway hour, public IPv4 address hour),
- AWS PrivateLink pricing (interface endpoint hour per AZ),
- Amazon EC2 on-demand pricing (t4g instances) and Amazon EBS pricing (gp3 GB-month),
- Amazon RDS for PostgreSQL pricing (instance hours, gp3 storage, Multi-AZ doubles both),
- Amazon RDS Proxy pricing (per vCPU-hour of the target instance, 2 vCPU minimum),
- Amazon API Gateway pricing (REST API cache hours by size),
- Amazon CloudWatch pricing (standard alarm, dashboard), AWS KMS pricing (customer managed key),
- AWS Secrets Manager pricing (secret-month).
Re-check them before budgeting on them; `make synth` prints the result per resource.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

PRICES_AS_OF = "2026-11-30"
REGION = "us-east-1"
HOURS_PER_MONTH = 730

NAT_GATEWAY_HOUR = 0.045
PUBLIC_IPV4_HOUR = 0.005
INTERFACE_ENDPOINT_AZ_HOUR = 0.01
EC2_HOUR = {"t4g.nano": 0.0042, "t4g.micro": 0.0084, "t4g.small": 0.0168}
EBS_GP3_GB_MONTH = 0.08
NAT_INSTANCE_ROOT_GB = 8  # Amazon Linux 2023's root volume
RDS_POSTGRES_HOUR = {"db.t4g.micro": 0.016, "db.t4g.small": 0.032, "db.t4g.medium": 0.065, "db.t4g.large": 0.129}
RDS_VCPUS = {"db.t4g.micro": 2, "db.t4g.small": 2, "db.t4g.medium": 2, "db.t4g.large": 2}
RDS_GP3_GB_MONTH = 0.115
RDS_PROXY_VCPU_HOUR = 0.015
RDS_PROXY_MIN_VCPUS = 2
API_CACHE_HOUR = {"0.5": 0.02, "1.6": 0.038, "6.1": 0.20}
CLOUDWATCH_ALARM_MONTH = 0.10
CLOUDWATCH_DASHBOARD_MONTH = 3.00
KMS_KEY_MONTH = 1.00
SECRET_MONTH = 0.40


class UnpricedError(KeyError):
    """A resource size the price table does not list yet: add it here."""


@dataclass(frozen=True)
class Cost:
    logical_id: str
    type: str
    what: str
    usd_month: float


def _price(table: Mapping[str, float], key: str, what: str) -> float:
    if key not in table:
        raise UnpricedError(f"no price for {what} {key!r}: add it to infra/prices.py")
    return table[key]


def idle_costs(template: dict[str, Any]) -> list[Cost]:
    """One line per resource that costs money while idle."""
    resources: dict[str, dict[str, Any]] = template.get("Resources", {})
    db_class = next(
        (r["Properties"]["DBInstanceClass"] for r in resources.values() if r["Type"] == "AWS::RDS::DBInstance"), None
    )
    out: list[Cost] = []
    for logical_id, resource in sorted(resources.items()):
        type_, props = resource["Type"], resource.get("Properties", {})

        def add(what: str, usd: float, lid: str = logical_id, t: str = type_) -> None:
            out.append(Cost(lid, t, what, round(usd, 2)))

        if type_ == "AWS::EC2::NatGateway":
            add("NAT gateway", NAT_GATEWAY_HOUR * HOURS_PER_MONTH)
        elif type_ == "AWS::EC2::EIP":
            add("public IPv4 address", PUBLIC_IPV4_HOUR * HOURS_PER_MONTH)
        elif type_ == "AWS::EC2::VPCEndpoint" and props.get("VpcEndpointType") == "Interface":
            azs = len(props.get("SubnetIds", []))
            add(f"interface endpoint in {azs} AZs", INTERFACE_ENDPOINT_AZ_HOUR * azs * HOURS_PER_MONTH)
        elif type_ == "AWS::EC2::Instance":
            kind = str(props.get("InstanceType"))
            hourly = _price(EC2_HOUR, kind, "EC2 instance type")
            add(
                f"EC2 {kind} + {NAT_INSTANCE_ROOT_GB} GB gp3",
                hourly * HOURS_PER_MONTH + NAT_INSTANCE_ROOT_GB * EBS_GP3_GB_MONTH,
            )
        elif type_ == "AWS::RDS::DBInstance":
            kind = str(props["DBInstanceClass"])
            copies = 2 if props.get("MultiAZ") is True else 1
            storage = int(props.get("AllocatedStorage", 0))
            hourly = _price(RDS_POSTGRES_HOUR, kind, "RDS instance class")
            add(
                f"RDS {kind}{' Multi-AZ' if copies == 2 else ''} + {storage} GB gp3",
                copies * (hourly * HOURS_PER_MONTH + storage * RDS_GP3_GB_MONTH),
            )
        elif type_ == "AWS::RDS::DBProxy":
            vcpus = max(RDS_PROXY_MIN_VCPUS, _price(RDS_VCPUS, str(db_class), "RDS instance class (vCPUs)"))
            add(f"RDS Proxy ({vcpus} vCPU)", RDS_PROXY_VCPU_HOUR * vcpus * HOURS_PER_MONTH)
        elif type_ == "AWS::ApiGateway::Stage" and props.get("CacheClusterEnabled") is True:
            size = str(props.get("CacheClusterSize", "0.5"))
            add(f"API stage cache {size} GB", _price(API_CACHE_HOUR, size, "API cache size") * HOURS_PER_MONTH)
        elif type_ == "AWS::CloudWatch::Alarm":
            add("CloudWatch alarm", CLOUDWATCH_ALARM_MONTH)
        elif type_ == "AWS::CloudWatch::Dashboard":
            add("CloudWatch dashboard", CLOUDWATCH_DASHBOARD_MONTH)
        elif type_ == "AWS::KMS::Key":
            add("KMS key", KMS_KEY_MONTH)
        elif type_ == "AWS::SecretsManager::Secret":
            add("secret", SECRET_MONTH)
    return out


def idle_cost_total(template: dict[str, Any]) -> float:
    return round(sum(c.usd_month for c in idle_costs(template)), 2)


def print_idle_costs(template: dict[str, Any], title: str) -> None:
    costs = idle_costs(template)
    print(f"{title}: idle cost {idle_cost_total(template):.2f} USD/month ({REGION}, prices as of {PRICES_AS_OF})")
    grouped: dict[str, tuple[int, float]] = {}
    for cost in costs:
        n, usd = grouped.get(cost.what, (0, 0.0))
        grouped[cost.what] = (n + 1, usd + cost.usd_month)
    for what, (n, usd) in sorted(grouped.items(), key=lambda kv: -kv[1][1]):
        print(f"  {usd:>8.2f}  {n:>3} x {what}")
