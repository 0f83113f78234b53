"""Infrastructure tests: the CDK app synthesized offline, asserted with aws_cdk.assertions, cdk-nag and cfn-lint."""
