"""Schemathesis hooks for HelpdeskSLA's APIs.

Instants a service accepts lie within a window around the moment it receives them (intake:
at most INTAKE_MAX_PAST_HOURS, 7 days, before receipt; docs/openapi.yaml says so), which a
JSON Schema cannot state. Generated bodies carry "now" in their instant fields, so that a
request valid by the schema is valid by the window too.
"""
from datetime import date, datetime, timedelta, timezone

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


# The history's reports take two local dates, `from` no later than `to` and at most 400 days
# apart (docs/history.openapi.yaml says so), which a JSON Schema cannot state across two
# parameters: generated periods are put in order and shortened to fit.
LONGEST_PERIOD_DAYS = 399


@schemathesis.hook
def map_query(context, query):
    if isinstance(query, dict) and isinstance(query.get("from"), str) and isinstance(query.get("to"), str):
        try:
            first, last = date.fromisoformat(query["from"]), date.fromisoformat(query["to"])
        except ValueError:
            return query
        if first > last:
            first, last = last, first
        if (last - first).days > LONGEST_PERIOD_DAYS:
            first = last - timedelta(days=LONGEST_PERIOD_DAYS)
        query["from"], query["to"] = first.isoformat(), last.isoformat()
    return query
