#!/usr/bin/env python3
"""What other features would be worth under the classifier's own fit: a yardstick, not a test.

Usage: variants.py [--helpdesk PATH] [--dev FILE] [--validation FILE] [--dev-only] [--recall R] [--variant TEXT]...
       (needs: pip install scikit-learn)

Reads each ticket's features with `helpdesk classify --features`, then fits the classifier's
loss (multinomial logistic regression, critical examples weighted 3, the reporter's vote 0.3,
L2 on the weights; one variant adds a hidden layer beside them) to variants of them with
scipy's L-BFGS, and decides as the classifier does: critical at p >= threshold, else the
likeliest other class. Variants are compared at one critical recall: the threshold is the
highest whose cross-validated critical recall reaches 98 % (`--recall`). Unlike `helpdesk
classify --fit` it keeps no weights ordered, applies none of the classifier's rules and rounds
no weight, so its figures are near the classifier's, not equal.
For each variant the L2 penalty is chosen by 5-fold cross-validation on the development set
(fold = line mod 5; the best accuracy at that recall); the validation set is read once, to
measure (`--dev-only`: its features are not read). `--variant TEXT` runs only the variants whose name has TEXT.
"""
import argparse, collections, itertools, math
import numpy as np
import scipy.sparse as sp
from scipy.optimize import minimize
from sklearn.feature_extraction.text import CountVectorizer
import corpus

parser = argparse.ArgumentParser()
parser.add_argument("--helpdesk", help="the helpdesk binary (default: .build/release/helpdesk, else .build/debug/helpdesk)")
parser.add_argument("--dev", default="Tests/Fixtures/classifier-dev.jsonl")
parser.add_argument("--validation", default="Tests/Fixtures/classifier-validation.jsonl")
parser.add_argument("--dev-only", action="store_true", help="leave the validation set unread")
parser.add_argument("--variant", action="append", default=[], help="run only the variants whose name contains this")
parser.add_argument("--recall", type=float, default=98, help="the cross-validated critical recall the threshold must keep (default 98)")
args = parser.parse_args()

votes, expected, decide = corpus.votes, corpus.expected, corpus.decide
# Fitted only when MIN_COUNT training tickets have them: the classifier's words (also as "any." words), and scikit-learn's.
WORDS = ("word.", "deny.", "subject.word.", "pair.", "sk.", "any.")
CRITICAL_WEIGHT, CRITICAL_AT, MIN_COUNT, FOLDS = 3.0, 0.3, 3, 5

rows = corpus.features(args.helpdesk, [args.dev] + ([] if args.dev_only else [args.validation]))
dev = [r for r in rows if r["file"] == args.dev]
validation = [r for r in rows if r["file"] == args.validation]

def texts(path):
    """What baselines.py's models read of each ticket, without the reporter's severity (the
    classifier's vote for it is fixed, not fitted)."""
    return [corpus.text(ticket, reported=False) for ticket, _ in corpus.tickets(path)]

def matrix(tickets, names, value, unit_words):
    index = {name: i for i, name in enumerate(names)}
    r, c, v = [], [], []
    for i, ticket in enumerate(tickets):
        present = [(index[f], value.get(f, 1.0), f.startswith(WORDS)) for f in set(ticket["features"]) if f in index]
        norm = math.sqrt(sum(x * x for _, x, word in present if word)) if unit_words else 0
        for j, x, word in present:
            r.append(i); c.append(j); v.append(x / norm if word and norm else x)
    return sp.csr_matrix((v, (r, c)), shape=(len(tickets), len(names)))

def fit(training, l2, idf, unit_words, hidden=0):
    """The weights, and with `hidden` > 0 a layer of that many rectified units beside them (its
    scores added to the linear ones; same penalty, random start with a fixed seed)."""
    counts = collections.Counter(f for t in training for f in set(t["features"]))
    names = sorted(f for f, n in counts.items() if not f.startswith(WORDS) or n >= MIN_COUNT)
    n = len(training)
    value = {f: math.log((1 + n) / (1 + counts[f])) + 1 for f in names if f.startswith(WORDS)} if idf else {}
    x, reporter = matrix(training, names, value, unit_words), votes(training)
    y = expected(training)
    weight = np.where(y == 0, CRITICAL_WEIGHT, 1.0)
    weight /= weight.sum()
    onehot, size, d = np.eye(4)[y], len(names) * 4, len(names)

    def unpack(theta):
        w, b, rest = theta[:size].reshape(-1, 4), theta[size:size + 4], theta[size + 4:]
        if not hidden:
            return w, b, None
        return w, b, (rest[:d * hidden].reshape(d, hidden), rest[d * hidden:d * hidden + hidden],
                      rest[d * hidden + hidden:].reshape(hidden, 4))

    def loss(theta):
        w, b, layer = unpack(theta)
        s = x @ w + b + reporter
        if layer:
            u, c, q = layer
            a = x @ u + c
            h = np.maximum(a, 0)
            s = s + h @ q
        s -= s.max(axis=1, keepdims=True)
        p = np.exp(s)
        p /= p.sum(axis=1, keepdims=True)
        g = (p - onehot) * weight[:, None]
        value_ = -(weight * np.log(p[np.arange(n), y] + 1e-300)).sum() + l2 / 2 * (w * w).sum()
        gradient = [(x.T @ g + l2 * w).ravel(), g.sum(axis=0)]
        if layer:
            gh = (g @ q.T) * (a > 0)
            value_ += l2 / 2 * ((u * u).sum() + (q * q).sum())
            gradient += [(x.T @ gh + l2 * u).ravel(), gh.sum(axis=0), (h.T @ g + l2 * q).ravel()]
        return value_, np.concatenate(gradient)

    start = np.zeros(size + 4)
    if hidden:
        rng = np.random.default_rng(0)
        start = np.concatenate([start, rng.normal(0, 0.1, d * hidden), np.zeros(hidden), rng.normal(0, 0.1, hidden * 4)])
    theta = minimize(loss, start, jac=True, method="L-BFGS-B", options={"maxiter": 3000}).x
    w, b, layer = unpack(theta)
    return names, value, w, b, layer

def probabilities(model, tickets, unit_words):
    names, value, w, b, layer = model
    x = matrix(tickets, names, value, unit_words)
    s = x @ w + b + votes(tickets)
    if layer:
        u, c, q = layer
        s = s + np.maximum(x @ u + c, 0) @ q
    s -= s.max(axis=1, keepdims=True)
    p = np.exp(s)
    return p / p.sum(axis=1, keepdims=True)

def figures(predicted, tickets):
    y = expected(tickets)
    found = ((predicted == 0) & (y == 0)).sum()
    return ((predicted == y).mean() * 100, found / (y == 0).sum() * 100, found / max(1, (predicted == 0).sum()) * 100,
            int(((y == 0) & (predicted == 2)).sum()))

def cross_validate(tickets, l2, idf, unit_words, hidden=0):
    """Each ticket's probabilities from the model fitted without its fold."""
    p = np.zeros((len(tickets), 4))
    for fold in range(FOLDS):
        held = [i for i in range(len(tickets)) if i % FOLDS == fold]
        model = fit([t for i, t in enumerate(tickets) if i % FOLDS != fold], l2, idf, unit_words, hidden)
        p[held] = probabilities(model, [tickets[i] for i in held], unit_words)
    return p

def signals(ticket):
    return sorted({f.split(".", 1)[1] if f.startswith(("text.", "impact.")) else f
                   for f in ticket["features"] if not f.startswith(WORDS)})

def with_conjunctions(tickets):
    return [dict(t, features=t["features"] + [f"both.{a}&{b}" for a, b in itertools.combinations(signals(t), 2)])
            for t in tickets]

def with_plain_tokens(tickets, path, ours=False, keep=lambda gram, ticket: True, vectorizer=None):
    """scikit-learn's words and word pairs of the text ("sk.x"), or what `vectorizer` reads of it,
    instead of the classifier's words (or beside them); only those `keep` keeps."""
    if not tickets:
        return []
    analyzer = (vectorizer or CountVectorizer(ngram_range=(1, 2))).build_analyzer()
    return [dict(t, features=[f for f in t["features"] if ours or not f.startswith(WORDS)]
                 + ["sk." + g for g in set(analyzer(text)) if keep(g, t)])
            for t, text in zip(tickets, texts(path))]

def field(gram, ticket):
    return gram.startswith(("impact_", "category_"))

def single(gram, ticket):
    return " " not in gram and not field(gram, ticket)

def outside_denials(gram, ticket):
    """A single word whose stem is not one only a clause that denies has (near: scikit-learn's
    words are not stemmed)."""
    plain = {f[5:] for f in ticket["features"] if f.startswith("word.")}
    denied = {f[5:] for f in ticket["features"] if f.startswith("deny.")} - plain
    return single(gram, ticket) and not any(gram.startswith(d[:max(3, len(d) - 1)]) for d in denied)

# Parts of the second reading ("together", below), each beside the classifier's words.
second_reading = [
    ("numbers", lambda g, t: any(c.isdigit() for c in g) and not field(g, t)),
    ("impact fields and category as words", lambda g, t: field(g, t) and " " not in g),
    ("word pairs", lambda g, t: " " in g),
    ("single words", single),
    ("single words outside clauses that deny", outside_denials),
]

def with_words_of_any_clause(tickets):
    """Every word also as a feature of whatever clause it is in ("any.x" beside "word.x" and
    "deny.x"): shares what a word says across clauses, but lets "everyone can log in" raise."""
    return [dict(t, features=t["features"] + sorted({"any." + f.split(".", 1)[1] for f in t["features"]
                                                     if f.startswith(("word.", "deny."))})) for t in tickets]

# Each variant: its name, what makes its development and validation features (built only when
# it runs), idf, unit length.
variants = [
    ("the classifier's features", lambda: (dev, validation), False, False),
    ("words and pairs valued by idf", lambda: (dev, validation), True, False),
    ("words and pairs by idf, scaled to length 1 per ticket", lambda: (dev, validation), True, True),
    ("signals two by two added", lambda: (with_conjunctions(dev), with_conjunctions(validation)), False, False),
    ("scikit-learn's words and pairs instead of ours",
     lambda: (with_plain_tokens(dev, args.dev), with_plain_tokens(validation, args.validation)), False, False),
    ("the same, valued by idf",
     lambda: (with_plain_tokens(dev, args.dev), with_plain_tokens(validation, args.validation)), True, False),
    ("the classifier's words and scikit-learn's together",
     lambda: (with_plain_tokens(dev, args.dev, ours=True), with_plain_tokens(validation, args.validation, ours=True)),
     False, False),
    # Character 3- to 5-grams of the words: spellings, inflections and typos the lexicon does not list.
    ("the classifier's features and character 3- to 5-grams",
     lambda grams=CountVectorizer(analyzer="char_wb", ngram_range=(3, 5)):
         (with_plain_tokens(dev, args.dev, ours=True, vectorizer=grams),
          with_plain_tokens(validation, args.validation, ours=True, vectorizer=grams)), False, False),
    ("every word also as a word of any clause",
     lambda: (with_words_of_any_clause(dev), with_words_of_any_clause(validation)), False, False),
    # Not linear: 16 rectified units over the same features, beside the linear weights.
    ("the classifier's features, and a hidden layer of 16 units", lambda: (dev, validation), False, False, 16),
] + [(f"the classifier's words and scikit-learn's {part}",
      lambda keep=keep: (with_plain_tokens(dev, args.dev, ours=True, keep=keep),
                         with_plain_tokens(validation, args.validation, ours=True, keep=keep)), False, False)
     for part, keep in second_reading]
variants = [v for v in variants if not args.variant or any(text in v[0] for text in args.variant)]
show = lambda f: f"{f[0]:.1f} / {f[1]:.1f} / {f[2]:.1f} ({f[3]} as minor)"
thresholds = [round(t, 2) for t in np.arange(0.05, 0.61, 0.01)]
print("| variant | L2 | threshold | cross-validation (dev): accuracy / critical recall / precision | validation | "
      "validation at the classifier's threshold 0.3 |")
print("|---|---|---|---|---|---|")
for name, features, idf, unit, *layer in variants:
    hidden = layer[0] if layer else 0
    d, v = features()
    best = None
    for l2 in ([0.0003, 0.001, 0.003] if not unit else [0.00003, 0.0001, 0.0003]):
        p = cross_validate(d, l2, idf, unit, hidden)
        reaching = [t for t in thresholds if figures(decide(p, t), d)[1] >= args.recall]
        if not reaching:
            continue
        cv = figures(decide(p, max(reaching)), d)
        if best is None or cv[0] > best[2][0]:
            best = (l2, max(reaching), cv)
    if best is None:
        print(f"| {name} | – | – | under {args.recall:g} % recall at every threshold and penalty | | |", flush=True)
        continue
    l2, at, cv = best
    if args.dev_only:
        print(f"| {name} | {l2} | {at} | {show(cv)} | not read | not read |", flush=True)
        continue
    held_out = probabilities(fit(d, l2, idf, unit, hidden), v, unit)
    print(f"| {name} | {l2} | {at} | {show(cv)} | {show(figures(decide(held_out, at), v))} "
          f"| {show(figures(decide(held_out, CRITICAL_AT), v))} |", flush=True)
