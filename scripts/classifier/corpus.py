"""The labelled corpus as the yardstick scripts read it (baselines.py, variants.py, constraints.py)."""
import json, os, subprocess, sys
import numpy as np

LABELS = {"critical": 0, "major": 1, "minor": 2, "docs": 3}  # the fit's classes, in its order
REPORTER_VOTE = 0.3  # the classifier's vote for the reporter's severity (set, not fitted)


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


def features(helpdesk, paths, rules=None):
    """What the fit reads of each ticket of the files (`helpdesk classify --features`), a dict
    per ticket (file, externalId, expect, reported, features). `helpdesk` None: the release
    build, else the debug one."""
    helpdesk = helpdesk or next((p for p in (".build/release/helpdesk", ".build/debug/helpdesk") if os.path.exists(p)), None)
    if helpdesk is None:
        raise SystemExit(f"{os.path.basename(sys.argv[0])}: no helpdesk binary; build one (swift build --product helpdesk) "
                         "or pass --helpdesk")
    command = [helpdesk, "classify"] + (["--rules", rules] if rules else []) + [a for p in paths for a in ("--features", p)]
    return [json.loads(line) for line in subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True).stdout.splitlines()]


def votes(tickets, vote=REPORTER_VOTE):
    """Per ticket of `features`, the scores the reporter's severity adds (critical, major, minor, docs)."""
    scores = np.zeros((len(tickets), 4))
    for i, ticket in enumerate(tickets):
        if ticket["reported"]:
            scores[i, ticket["reported"] - 1] = vote
    return scores


def expected(tickets):
    """The labels of `features` tickets, as the fit's class numbers."""
    return np.array([LABELS[t["expect"]] for t in tickets])


def decide(p, threshold):
    """As the classifier decides: critical at p(critical) >= threshold, else the likeliest other class."""
    return np.where(p[:, 0] >= threshold, 0, 1 + p[:, 1:].argmax(axis=1))
