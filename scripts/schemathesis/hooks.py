"""Schemathesis hooks for HelpdeskSLA's APIs.

Instants a service accepts lie within a window around the moment it receives them (intake:
at most INTAKE_MAX_PAST_HOURS, 7 days, before receipt; docs/openapi.yaml says so), which a
JSON Schema cannot state. Generated bodies carry "now" in their instant fields, so that a
request valid by the schema is valid by the window too.
"""
from datetime import datetime, timezone

import schemathesis

INSTANT_FIELDS = {"openedAt", "sentAt", "changedAt", "assignedAt"}


@schemathesis.hook
def map_body(context, body):
    if isinstance(body, dict):
        now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        for field in INSTANT_FIELDS & body.keys():
            if isinstance(body[field], str):
                body[field] = now
    return body
