#!/usr/bin/env python3
"""What generic text classifiers reach on the classifier's corpus: a yardstick, not a test.

Usage: baselines.py [--dev FILE] [--validation FILE]   (needs: pip install scikit-learn)

Each model reads what the classifier reads (subject, description, impact fields, category,
reported severity) and scores p(critical). Critical wins at a threshold t, chosen on the
development set by 5-fold cross-validation: the t with the best accuracy, and the highest t
whose critical recall reaches 99 %. The validation set is read once per row, to measure.
"""
import argparse
import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
import corpus

parser = argparse.ArgumentParser()
parser.add_argument("--dev", default="Tests/Fixtures/classifier-dev.jsonl")
parser.add_argument("--validation", default="Tests/Fixtures/classifier-validation.jsonl")
args = parser.parse_args()

def load(path):
    pairs = list(corpus.tickets(path))
    return [corpus.text(ticket) for ticket, _ in pairs], np.array([label for _, label in pairs])

def decide(probabilities, classes, threshold):
    critical = list(classes).index("critical")
    others = probabilities.copy()
    others[:, critical] = -1
    return np.where(probabilities[:, critical] >= threshold, "critical", classes[others.argmax(axis=1)])

def figures(predicted, expected):
    critical, called = expected == "critical", predicted == "critical"
    precision = (expected[called] == "critical").mean() if called.any() else 0.0
    return (predicted == expected).mean() * 100, (predicted[critical] == "critical").mean() * 100, precision * 100

models = {
    "tf-idf words and word pairs, logistic regression": lambda: make_pipeline(
        TfidfVectorizer(ngram_range=(1, 2), binary=True, min_df=2), LogisticRegression(C=10, max_iter=5000)),
    "tf-idf character 2-5-grams, logistic regression": lambda: make_pipeline(
        TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2), LogisticRegression(C=10, max_iter=5000)),
}
dev_texts, dev_labels = load(args.dev)
validation_texts, validation_labels = load(args.validation)
thresholds = [round(t, 2) for t in np.arange(0.05, 0.61, 0.01)]
print(f"| model | threshold t | cross-validation (dev): accuracy, critical recall, precision | validation |")
print(f"|---|---|---|---|")
for name, make in models.items():
    folds = StratifiedKFold(5, shuffle=True, random_state=0)
    cv = cross_val_predict(make(), dev_texts, dev_labels, cv=folds, method="predict_proba")
    model = make().fit(dev_texts, dev_labels)
    classes = model.classes_
    held_out = model.predict_proba(validation_texts)
    rows = {t: figures(decide(cv, classes, t), dev_labels) for t in thresholds}
    best = max(thresholds, key=lambda t: (rows[t][0], t))
    safe = max([t for t in thresholds if rows[t][1] >= 99] or [min(thresholds)])
    for label, t in (("best accuracy", best), ("recall ≥ 99 %", safe)):
        validation = figures(decide(held_out, classes, t), validation_labels)
        print(f"| {name} ({label}) | {t:.2f} | " + " / ".join(f"{v:.1f} %" for v in rows[t]) + " | "
              + " / ".join(f"{v:.1f} %" for v in validation) + " |")
