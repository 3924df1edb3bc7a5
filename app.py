#!/usr/bin/env python3
"""The CDK app: one Mediaport stack, checked by cdk-nag's AWS Solutions pack."""

from aws_cdk import App

from infra.constants import STACK_NAME
from infra.nag import apply_aws_solutions_checks
from infra.stack import MediaportStack

app = App()
MediaportStack(app, STACK_NAME, description="Mediaport: serverless media uploads")
apply_aws_solutions_checks(app)
app.synth()
