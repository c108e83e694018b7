#!/usr/bin/env python3
"""Checks the PII corpus against independent libraries (see oracles.py).

- Every label must be valid for its type and occur in its text.
- Every value the libraries' finders see in a text must be labelled, unless the case carries a
  `policy:` tag naming the decision that makes it not PII here (a reference number, a version,
  a hex digest...).

Usage: python check.py [PATH]   (defaults to the fixture the Swift tests read)
"""

import collections
import json
import os
import sys

import oracles

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURE = os.path.join(HERE, "..", "..", "Tests", "TollgateCoreTests", "Fixtures", "pii_corpus.jsonl")


def overlaps(value, labels):
    return any(value.strip() in label or label in value.strip() for label in labels)


def check_cases(cases):
    problems = []
    for number, case in enumerate(cases, 1):
        text, entities, tags = case["text"], case["entities"], case.get("tags", [])
        for entity in entities:
            kind, value = entity["type"], entity["value"]
            if kind not in oracles.VALIDATORS:
                problems.append(f"case {number}: unknown type {kind}")
            elif not oracles.validate(kind, value, text):
                problems.append(f"case {number}: {kind} {value!r} is not valid by its oracle")
            if value not in text:
                problems.append(f"case {number}: {value!r} does not occur in the text")
        if any(tag.startswith("policy:") for tag in tags):
            continue
        labelled = collections.defaultdict(list)
        for entity in entities:
            labelled[entity["type"]].append(entity["value"])
        every_label = [e["value"] for e in entities]
        for kind, value in oracles.find_independent(text):
            # A finder reading digits inside a labelled IBAN or phone number is not a new entity.
            if any(value.strip() in label for label in every_label):
                continue
            if not overlaps(value, labelled[kind]):
                problems.append(f"case {number}: the oracles find an unlabelled {kind} {value!r} in {text!r}")
    return problems


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else FIXTURE
    with open(path, encoding="utf-8") as handle:
        cases = [json.loads(line) for line in handle if line.strip()]
    problems = check_cases(cases)
    per_type = collections.Counter(e["type"] for case in cases for e in case["entities"])
    negatives = sum(1 for case in cases if not case["entities"])
    print(f"{len(cases)} cases, {negatives} without entities; labels per type: {dict(sorted(per_type.items()))}")
    if problems:
        print("\n".join(problems))
        sys.exit(1)
    print("all labels agree with the oracles")


if __name__ == "__main__":
    main()
