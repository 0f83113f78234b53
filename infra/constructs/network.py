"""Network: the VPC, its subnets, the security groups and the VPC endpoints.

Subnets (a new VPC, 2 AZs):
- public: only the NAT gateway(s);
- private with egress ("app"): every Lambda function, the RDS Proxy and the secret rotation function;
- private isolated ("data"): the database; no route out at all.

Egress. The functions must reach the internet regardless of endpoints: Snowflake (sync, security),
Slack (notify), the IdP's JWKS URL (authorizer) and the SES API (notify). AWS offers no interface
endpoint for the SES *API* (the `email-smtp` endpoint is SMTP only, and the functions send through
the API), so SES goes out through the NAT gateway like Snowflake and Slack. One NAT gateway by
default, one per AZ with `prod=true`.

Interface endpoints (context `vpc_endpoints`, default on) keep the AWS calls that carry secrets or
happen on every invocation off the NAT path: Secrets Manager, SQS, Lambda (job dispatch),
CloudWatch Logs and X-Ray. They cost per AZ-hour; turn them off with `-c vpc_endpoints=false` and
the same calls go through the NAT gateway.

An existing VPC (context `vpc_id`) is looked up instead (needs credentials and an explicit
account/region at synth time): its private-with-egress subnets host the functions and its isolated
subnets (or, lacking those, the private ones) host the database.
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import Config
from infra.constants import DB_PORT, VPC_MAX_AZS, VPC_NAT_GATEWAYS, VPC_NAT_GATEWAYS_PROD

ENDPOINT_SERVICES: dict[str, ec2.InterfaceVpcEndpointAwsService] = {
    "SecretsManager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    "Sqs": ec2.InterfaceVpcEndpointAwsService.SQS,
    "Lambda": ec2.InterfaceVpcEndpointAwsService.LAMBDA_,
    "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
    "XRay": ec2.InterfaceVpcEndpointAwsService.XRAY,
}


class Network(Construct):
    def __init__(self, scope: Construct, id: str, *, config: Config) -> None:
        super().__init__(scope, id)
        self.vpc: ec2.IVpc
        self.egress_ips: list[str] = []
        if config.vpc_id:
            self.vpc = ec2.Vpc.from_lookup(self, "Vpc", vpc_id=config.vpc_id)
            isolated = bool(self.vpc.isolated_subnets)
        else:
            vpc = ec2.Vpc(
                self,
                "Vpc",
                max_azs=VPC_MAX_AZS,
                nat_gateways=VPC_NAT_GATEWAYS_PROD if config.prod else VPC_NAT_GATEWAYS,
                restrict_default_security_group=False,  # no custom resource; nothing uses the default SG
                subnet_configuration=[
                    ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=24),
                    ec2.SubnetConfiguration(name="app", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22),
                    ec2.SubnetConfiguration(name="data", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24),
                ],
            )
            flow_logs = logs.LogGroup(
                self,
                "FlowLogs",
                retention=logs.RetentionDays.ONE_MONTH,
                removal_policy=RemovalPolicy.RETAIN if config.prod else RemovalPolicy.DESTROY,
            )
            vpc.add_flow_log(
                "FlowLog",
                destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
                traffic_type=ec2.FlowLogTrafficType.REJECT,
            )
            self.vpc = vpc
            isolated = True
            # The NAT gateways' addresses: the stack's egress IPs, for a Snowflake network policy.
            self.egress_ips = [
                eip.ref
                for subnet in vpc.public_subnets
                if isinstance(eip := subnet.node.try_find_child("EIP"), ec2.CfnEIP)
            ]

        self.app_subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        self.data_subnets = ec2.SubnetSelection(
            subnet_type=ec2.SubnetType.PRIVATE_ISOLATED if isolated else ec2.SubnetType.PRIVATE_WITH_EGRESS
        )

        # Security groups: functions -> proxy -> database; the secret rotation function (Secrets
        # Manager's hosted rotation) reaches the database directly.
        self.functions_sg = self._sg("Functions", "Lambda functions: HTTPS out, Postgres to the proxy")
        self.functions_sg.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS: AWS APIs, Snowflake, Slack, IdP"
        )
        # The Snowflake connector checks certificate revocation (OCSP) over plain HTTP.
        self.functions_sg.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(80), "HTTP: OCSP for the Snowflake connector"
        )
        self.proxy_sg = self._sg("Proxy", "RDS Proxy")
        self.database_sg = self._sg("Database", "RDS PostgreSQL")
        self.rotation_sg = self._sg("Rotation", "Secret rotation function")
        self.rotation_sg.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS: Secrets Manager")

        pg = ec2.Port.tcp(DB_PORT)
        self.functions_sg.connections.allow_to(self.proxy_sg, pg, "functions to the RDS Proxy")
        self.proxy_sg.connections.allow_to(self.database_sg, pg, "proxy to the database")
        self.rotation_sg.connections.allow_to(self.database_sg, pg, "secret rotation to the database")

        self.endpoints: dict[str, ec2.InterfaceVpcEndpoint] = {}
        if config.vpc_endpoints:
            endpoint_sg = self._sg("Endpoints", "VPC interface endpoints: HTTPS from the functions")
            for client in (self.functions_sg, self.rotation_sg):
                endpoint_sg.connections.allow_from(client, ec2.Port.tcp(443), "HTTPS to AWS APIs")
            for name, service in ENDPOINT_SERVICES.items():
                self.endpoints[name] = self.vpc.add_interface_endpoint(
                    name,
                    service=service,
                    subnets=self.app_subnets,
                    private_dns_enabled=True,
                    security_groups=[endpoint_sg],
                    open=False,
                )

    def _sg(self, id: str, description: str) -> ec2.SecurityGroup:
        return ec2.SecurityGroup(self, f"{id}Sg", vpc=self.vpc, description=description, allow_all_outbound=False)
