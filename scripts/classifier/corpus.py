"""The labelled corpus as the yardstick scripts read it (baselines.py, variants.py)."""
import json


def tickets(path):
    """Each line's ticket and label, in file order."""
    with open(path) as f:
        for line in f:
            if line.strip():
                record = json.loads(line)
                yield record["ticket"], record["expect"]


def text(ticket, reported=True):
    """What a generic text model reads of a ticket: subject, description, the impact fields,
    the category and (unless `reported` is False) the reporter's severity, as words."""
    fields = " ".join(f"impact_{k}_{v}" for k, v in sorted((ticket.get("impact") or {}).items()))
    words = f"{ticket['subject']} . {ticket.get('description') or ''} {fields} category_{ticket.get('category')}"
    return words + (f" reported_{ticket.get('reportedSeverity')}" if reported else "")
