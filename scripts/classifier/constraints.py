#!/usr/bin/env python3
"""What the fit's weight constraints cost: a yardstick, not a test.

Usage: constraints.py [--helpdesk PATH] [--rules FILE] [--dev FILE] [--validation FILE] [--orders N]
                      [--critical-at P] [--read-validation] [--constraints TEXT]...
       (needs: numpy, scipy, PyYAML)

A copy of `helpdesk classify --fit` in numpy: full-batch gradient descent from zero, 3,000
steps of rate 0.5, L2 0.0003, critical examples weighted 3, the reporter's vote 0.3 left out
when the evidence alone is critical, critical at p >= 0.22 (`--critical-at`), words kept when
3 training tickets have them. The classifier's other rules (too little to read, all three
critical criteria stated) are left out. It reads what the fit reads (`helpdesk classify
--rules R --features`), rounds the weights as the model file does, and fits with four sets of
constraints, applied after every step as ModelFit applies them:

- every constraint (the classifier): critical evidence ordered (critical >= major >= minor >=
  docs), the named contact among it; minor evidence and the words of clauses that deny kept from
  raising;
- critical evidence not ordered, except the named contact;
- only the contact ordered and the words of clauses that deny kept from raising (what the
  metamorphic guarantees lean on besides the classifier's rules);
- none.

Prints 5-fold cross-validation on the development set (fold = line mod 5) in N fold orders
(the file's, then `random.Random(k).shuffle` for k = 1 .. N-1) and, with --read-validation,
the figures on the validation set of a fit to the whole development set, with how many
verdicts each set of constraints turns against the first one run. `--constraints TEXT` runs
only the sets whose name has TEXT.
"""
import argparse, collections, os, random
import numpy as np
import scipy.sparse as sp
import yaml
from scipy.stats import binomtest
import corpus

parser = argparse.ArgumentParser()
parser.add_argument("--helpdesk", help="the helpdesk binary (default: .build/release/helpdesk, else .build/debug/helpdesk)")
parser.add_argument("--dev", default="Tests/Fixtures/classifier-dev.jsonl")
parser.add_argument("--validation", default="Tests/Fixtures/classifier-validation.jsonl")
parser.add_argument("--rules", default="Shared/HelpdeskModel/Classification/classifier-rules.yaml")
parser.add_argument("--orders", type=int, default=3)
parser.add_argument("--critical-at", type=float, default=0.22)
parser.add_argument("--read-validation", action="store_true")
parser.add_argument("--constraints", action="append", default=[], help="run only the sets whose name has this text")
args = parser.parse_args()
for name in ("helpdesk", "dev", "validation", "rules"):  # given paths are the caller's; the defaults, the repository's
    if getattr(args, name) and os.path.exists(getattr(args, name)):
        setattr(args, name, os.path.abspath(getattr(args, name)))
os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

votes, expected = corpus.votes, corpus.expected
WORDS = ("word.", "deny.", "subject.word.", "pair.")
STEPS, RATE, L2, CRITICAL_WEIGHT, MIN_COUNT, FOLDS = 3000, 0.5, 0.0003, 3.0, 3, 5
CRITICAL_AT = args.critical_at

rows = corpus.features(args.helpdesk, [args.dev] + ([args.validation] if args.read_validation else []), rules=args.rules)
dev = [r for r in rows if r["file"] == args.dev]
validation = [r for r in rows if r["file"] == args.validation]

signals = yaml.safe_load(open(args.rules))["signals"]
severity = {name: signal["severity"] for name, signal in signals.items()}


def signal(feature):
    kind, _, name = feature.partition(".")
    return name if kind in ("text", "subject", "impact") else None


def critical_evidence(feature):
    return severity.get(signal(feature)) == "critical" or feature in ("scope.majority.unavailable", "impact.dedicatedContact")


def minor_evidence(feature):
    tempered = feature.startswith("tempered.") and severity.get(feature.rsplit(".", 1)[1]) == "minor"
    return severity.get(signal(feature)) == "minor" or tempered


def contact(feature):
    return feature == "impact.dedicatedContact"


CONSTRAINTS = {  # name: (ordered, lowering), each a test of a feature's name
    "every constraint (the classifier)": (critical_evidence, lambda f: minor_evidence(f) or f.startswith("deny.")),
    "critical evidence not ordered": (contact, lambda f: minor_evidence(f) or f.startswith("deny.")),
    "only the contact ordered and the words of clauses that deny lowering": (contact, lambda f: f.startswith("deny.")),
    "none": (lambda f: False, lambda f: False),
}


def isotonic(v, increasing):
    """Per row of `v`, the closest monotone sequence (least squares), by the min-max formula:
    as ModelFit.nonIncreasing (pool adjacent violators), for all rows at once."""
    n = v.shape[1]
    prefix = np.concatenate([np.zeros((len(v), 1)), np.cumsum(v, axis=1)], axis=1)
    mean = {(s, t): (prefix[:, t + 1] - prefix[:, s]) / (t - s + 1) for s in range(n) for t in range(s, n)}
    outer, inner = (np.max, np.min) if increasing else (np.min, np.max)
    return np.stack([outer(np.stack([inner(np.stack([mean[s, t] for t in range(i, n)]), axis=0) for s in range(i + 1)]), axis=0)
                     for i in range(n)], axis=1)


def design(tickets, index):
    cells = [(i, index[f]) for i, t in enumerate(tickets) for f in set(t["features"]) if f in index]
    r, c = [i for i, _ in cells], [j for _, j in cells]
    return sp.csr_matrix((np.ones(len(r)), (r, c)), shape=(len(tickets), len(index)))


def softmax(scores):
    e = np.exp(scores - scores.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def fit(training, constraint):
    counts = collections.Counter(f for t in training for f in set(t["features"]))
    names = sorted(f for f, n in counts.items() if not f.startswith(WORDS) or n >= MIN_COUNT)
    index = {name: i for i, name in enumerate(names)}
    ordered, lowering = ([i for i, name in enumerate(names) if test(name)] for test in constraint)
    x, vote = design(training, index), votes(training)
    y = expected(training)
    weight = np.where(y == 0, CRITICAL_WEIGHT, 1.0)
    weight /= weight.sum()
    w, b = np.zeros((len(names), 4)), np.zeros(4)
    for _ in range(STEPS):
        error = (softmax(x @ w + b + vote) - np.eye(4)[y]) * weight[:, None]
        b -= RATE * error.sum(axis=0)
        w -= RATE * (x.T @ error + L2 * w)
        if ordered:
            w[ordered] = isotonic(w[ordered], increasing=False)
        if lowering:
            rising = isotonic(w[lowering, :3], increasing=True)
            w[lowering] = np.column_stack([rising, np.maximum(w[lowering, 3], rising[:, 1])])
    return index, np.round(w, 3), np.round(b, 3)  # as the model file keeps them


def predict(model, tickets):
    """As Classifier.classify: the reporter's vote only when the evidence alone is not critical."""
    index, w, b = model
    scores = design(tickets, index) @ w + b
    evidence, with_vote = softmax(scores), softmax(scores + votes(tickets))
    p = np.where((evidence[:, 0] >= CRITICAL_AT)[:, None], evidence, with_vote)
    return corpus.decide(p, CRITICAL_AT)


def figures(predicted, tickets):
    y = expected(tickets)
    found, alarms = int(((predicted == 0) & (y == 0)).sum()), int(((predicted == 0) & (y != 0)).sum())
    return (f"{(predicted == y).mean() * 100:.1f} / {found / (y == 0).sum() * 100:.1f} / {found / max(1, found + alarms) * 100:.1f} % "
            f"({(predicted == y).sum():,}; {found}; {alarms})")


def cross_validate(tickets, constraint):
    predicted = np.zeros(len(tickets), dtype=int)
    for fold in range(FOLDS):
        held = [i for i in range(len(tickets)) if i % FOLDS == fold]
        model = fit([t for i, t in enumerate(tickets) if i % FOLDS != fold], constraint)
        predicted[held] = predict(model, [tickets[i] for i in held])
    return figures(predicted, tickets)


def shuffled(tickets, seed):
    order = list(tickets)
    random.Random(seed).shuffle(order)
    return order


orders = [dev] + [shuffled(dev, k) for k in range(1, args.orders)]
print("| constraints | dev cross-validation per fold order: accuracy / critical recall / precision (right; found; false alarms) |"
      + (" validation set | verdicts turned against the first row: to right, to wrong (sign test) |" if validation else ""))
print("|---|---|" + ("---|---|" if validation else ""))
kept = None
for name, constraint in CONSTRAINTS.items():
    if args.constraints and not any(text in name for text in args.constraints):
        continue
    line = f"| {name} | " + "<br>".join(cross_validate(order, constraint) for order in orders) + " |"
    if validation:
        predicted = predict(fit(dev, constraint), validation)
        y = expected(validation)
        kept = predicted if kept is None else kept
        better, worse = int(((predicted == y) & (kept != y)).sum()), int(((predicted != y) & (kept == y)).sum())
        test = f"p = {binomtest(better, better + worse).pvalue:.3f}" if better + worse else "none turned"
        line += f" {figures(predicted, validation)} | {better}, {worse} ({test}) |"
    print(line, flush=True)
