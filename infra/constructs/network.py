"""Network: the VPC, its subnets, one security group per function family, and (prod) the VPC endpoints.

Subnets (a new VPC, 2 AZs):
- public: only the NAT (an instance with an Elastic IP in `lean`, a managed gateway per AZ in `prod`);
- private with egress ("app"): every function in the VPC, the RDS Proxy and the secret rotation function;
- private isolated ("data"): the database; no route out at all.

Egress. The functions must reach the internet: Snowflake (sync, security), Slack (notify) and the
SES API (notify); AWS has no interface endpoint for the SES *API*. The NAT's Elastic IPs are the
stack's output `EgressIps` (stable across NAT replacement: allow them in the Snowflake network
policy). The authorizer runs outside the VPC: it needs only the IdP's JWKS URL, and a NAT outage
must not stop authentication.

Interface endpoints (`prod` only): Secrets Manager and SQS, the AWS calls every job makes. `lean`
sends them through the NAT instance instead ($7.30 per endpoint and AZ a month saved).

Security groups: one per family (api, jobs, notify, migrate) plus the proxy, the database and the
secret rotation function, each with only the egress it needs. An existing VPC (context `vpc_id`) is
looked up instead (needs credentials and an explicit account/region at synth time).
"""

from __future__ import annotations

from aws_cdk import RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from infra.config import Config
from infra.constants import NAT_INSTANCE_TYPE, VPC_MAX_AZS
from infra.constructs.acks import ack

ENDPOINT_SERVICES: dict[str, ec2.InterfaceVpcEndpointAwsService] = {
    "SecretsManager": ec2.InterfaceVpcEndpointAwsService.SECRETS_MANAGER,
    "Sqs": ec2.InterfaceVpcEndpointAwsService.SQS,
}

# Families of functions in the VPC -> (description, extra egress ports beyond HTTPS).
FAMILIES: dict[str, tuple[str, tuple[int, ...]]] = {
    "api": ("API function: HTTPS to AWS APIs, Postgres", ()),
    # The Snowflake connector checks certificate revocation (OCSP) over plain HTTP.
    "jobs": ("Job functions: HTTPS to Snowflake and AWS APIs, HTTP for OCSP, Postgres", (80,)),
    "notify": ("Notify function: HTTPS to SES, Slack and AWS APIs, Postgres", ()),
    "migrate": ("Migration function: HTTPS to Secrets Manager, Postgres to the instance", ()),
}


class Network(Construct):
    def __init__(self, scope: Construct, id: str, *, config: Config) -> None:
        super().__init__(scope, id)
        profile = config.profile
        self.vpc: ec2.IVpc
        self.egress_ips: list[str] = []
        if config.vpc_id:
            self.vpc = ec2.Vpc.from_lookup(self, "Vpc", vpc_id=config.vpc_id)
            isolated = bool(self.vpc.isolated_subnets)
        else:
            nat_instance = (
                ec2.NatProvider.instance_v2(
                    instance_type=ec2.InstanceType(NAT_INSTANCE_TYPE),
                    machine_image=ec2.MachineImage.latest_amazon_linux2023(cpu_type=ec2.AmazonLinuxCpuType.ARM_64),
                    default_allowed_traffic=ec2.NatTrafficDirection.OUTBOUND_ONLY,
                    associate_public_ip_address=False,
                )
                if profile.nat_gateways == 0
                else None
            )
            vpc = ec2.Vpc(
                self,
                "Vpc",
                max_azs=VPC_MAX_AZS,
                nat_gateways=profile.nat_gateways or 1,
                nat_gateway_provider=nat_instance,
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
                removal_policy=RemovalPolicy.RETAIN if profile.retain else RemovalPolicy.DESTROY,
            )
            vpc.add_flow_log(
                "FlowLog",
                destination=ec2.FlowLogDestination.to_cloud_watch_logs(flow_logs),
                traffic_type=ec2.FlowLogTrafficType.REJECT,
            )
            self.vpc = vpc
            isolated = True
            if nat_instance is not None:
                # An Elastic IP on the NAT instance: the address survives the instance's replacement.
                for i, gateway in enumerate(nat_instance.configured_gateways):
                    eip = ec2.CfnEIP(self, f"NatEip{i + 1}", domain="vpc")
                    ec2.CfnEIPAssociation(
                        self, f"NatEipAssociation{i + 1}", allocation_id=eip.attr_allocation_id,
                        instance_id=gateway.gateway_id,
                    )  # fmt: skip
                    self.egress_ips.append(eip.ref)
                for instance in vpc.node.find_all():
                    if isinstance(instance, ec2.Instance):
                        self._harden_nat_instance(instance)
            else:
                self.egress_ips = [
                    address.ref
                    for subnet in vpc.public_subnets
                    if isinstance(address := subnet.node.try_find_child("EIP"), ec2.CfnEIP)
                ]

        self.app_subnets = ec2.SubnetSelection(subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS)
        self.data_subnets = ec2.SubnetSelection(
            subnet_type=ec2.SubnetType.PRIVATE_ISOLATED if isolated else ec2.SubnetType.PRIVATE_WITH_EGRESS
        )

        # One security group per family; the database (and proxy) admit them in database.py.
        self.family_sgs: dict[str, ec2.SecurityGroup] = {}
        for family, (description, extra_ports) in FAMILIES.items():
            sg = self._sg(family.capitalize(), description)
            sg.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS")
            for port in extra_ports:
                sg.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(port), "HTTP: OCSP for the Snowflake connector")
            self.family_sgs[family] = sg
        self.proxy_sg = self._sg("Proxy", "RDS Proxy")
        self.database_sg = self._sg("Database", "RDS PostgreSQL")
        self.rotation_sg = self._sg("Rotation", "Secret rotation function")
        self.rotation_sg.add_egress_rule(ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS: Secrets Manager")

        self.endpoints: dict[str, ec2.InterfaceVpcEndpoint] = {}
        if profile.interface_endpoints:
            endpoint_sg = self._sg("Endpoints", "VPC interface endpoints: HTTPS from the functions")
            for client in (*self.family_sgs.values(), self.rotation_sg):
                endpoint_sg.connections.allow_from(client, ec2.Port.tcp(443), "HTTPS to AWS APIs")
            for name in profile.interface_endpoints:
                self.endpoints[name] = self.vpc.add_interface_endpoint(
                    name,
                    service=ENDPOINT_SERVICES[name],
                    subnets=self.app_subnets,
                    private_dns_enabled=True,
                    security_groups=[endpoint_sg],
                    open=False,
                )

    @staticmethod
    def _harden_nat_instance(instance: ec2.Instance) -> None:
        """IMDSv2 only and an encrypted root volume; basic monitoring and no termination protection."""
        instance.instance.add_property_override("MetadataOptions.HttpTokens", "required")
        instance.instance.block_device_mappings = [
            ec2.CfnInstance.BlockDeviceMappingProperty(
                device_name="/dev/xvda",
                ebs=ec2.CfnInstance.EbsProperty(
                    encrypted=True, volume_type="gp3", volume_size=8, delete_on_termination=True
                ),
            )
        ]
        ack(
            instance,
            "AwsSolutions-EC28",
            "The NAT instance keeps basic (5-minute) monitoring: detailed monitoring costs more than the "
            "instance itself; the lean profile trades it away on purpose (prod uses NAT gateways).",
        )
        ack(
            instance,
            "AwsSolutions-EC29",
            "No termination protection: CloudFormation replaces the NAT instance on updates and must delete "
            "it with the stack; its Elastic IP (the egress address) is a separate resource and survives.",
        )

    def _sg(self, id: str, description: str) -> ec2.SecurityGroup:
        return ec2.SecurityGroup(self, f"{id}Sg", vpc=self.vpc, description=description, allow_all_outbound=False)
