#!/usr/bin/env python3
"""Split labelled tickets once into a development set and a held-out validation set.

Usage: split-corpus.py DEV_ONLY.jsonl NEW.jsonl... --dev OUT --validation OUT [--share 0.36]
       [--held-out VALIDATION.jsonl]

Tickets of DEV_ONLY files go to the development set whole, and those of --held-out (a
validation set split before) to the validation set whole. Of the others, per label, the
tickets whose sha256(externalId) sorts first make up `share` of that label in the validation
set: stratified, and the same input always splits the same way. Run once; tune only on the
development set.
"""
import argparse, hashlib, json, collections

parser = argparse.ArgumentParser()
parser.add_argument("dev_only")
parser.add_argument("new", nargs="+")
parser.add_argument("--dev", required=True)
parser.add_argument("--validation", required=True)
parser.add_argument("--share", type=float, default=0.36)
parser.add_argument("--held-out")
args = parser.parse_args()

def lines(path):
    with open(path) as f:
        return [line.rstrip("\n") for line in f if line.strip()]

by_label = collections.defaultdict(list)
for path in args.new:
    for line in lines(path):
        by_label[json.loads(line)["expect"]].append(line)
dev, validation = lines(args.dev_only), lines(args.held_out) if args.held_out else []
for label, items in sorted(by_label.items()):
    items.sort(key=lambda line: hashlib.sha256(json.loads(line)["ticket"]["externalId"].encode()).hexdigest())
    cut = round(len(items) * args.share)
    validation += items[:cut]
    dev += items[cut:]
key = lambda line: json.loads(line)["ticket"]["externalId"]
for path, items in ((args.dev, dev), (args.validation, validation)):
    with open(path, "w") as f:
        f.write("\n".join(sorted(items, key=key)) + "\n")
    print(path, len(items), dict(collections.Counter(json.loads(l)["expect"] for l in items)))
