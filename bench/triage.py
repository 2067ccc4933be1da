"""Benchmark: training the triage classifier on 100,000 tickets, its figures against the
baseline on the real ticket sets, and classifying one ticket. Prints figures; asserts nothing.

    python bench/triage.py [--tickets 100000] [--noise 0.1] [--folds 5] [--single 1000]

The 100,000 tickets are SYNTHETIC: each is built from the built-in taxonomy's phrases for its
category plus filler words drawn from every category, so the intents overlap as real tickets
do, and a share (--noise) is given a label drawn at random, as real histories mislabel some
tickets, so the data is not trivially separable. Training is what `deskhand triage train`
does: held-out folds for the certified thresholds (at most 3 past 20,000 tickets, 2 past
60,000), then a fit on everything. CPU time counts every thread (user + system).

The real sets (../shared/data: Endava tickets by category and by business service, and the same
tickets' 8-way topic) are read in place when present. On each, `deskhand triage eval`'s figures
for deskhand and the baseline (TF-IDF + LinearSVC), then the promise checked on tickets nothing
saw: a stratified 20% split is held out, `train` runs on the rest (its folds certify the
thresholds), and the stored model with its thresholds routes the held-out 20%.

One-ticket latency is a loop of single-ticket predictions on the fitted model (vectorise +
calibrated SVMs), as the dispatcher would call it; then the same tickets through the rest of
the text work triage does per ticket (keyword signals, entity and date extraction, warning
signs), and both together.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from datetime import UTC, datetime
from pathlib import Path

import numpy as np

from deskhand.history.taxonomy import load_taxonomy
from deskhand.specialists.registry import discover
from deskhand.triage import entities, keywords, warning_signs
from deskhand.triage.dataset import LabelledTickets, load_labelled
from deskhand.triage.evaluation import evaluate, folds_of
from deskhand.triage.selective import coverage
from deskhand.triage.training import train

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
REAL_SETS = {  # name -> (file, --map)
    "Endava tickets, category": ("endava_subset.csv", {"category": "category"}),
    "IT tickets, 8-way topic": (
        "it_tickets_topic_dev.csv",
        {"category": "Topic_group", "body": "Document"},
    ),
    # A stand-in for a history of many small assignment groups.
    "Endava tickets, 54 business services": (
        "endava_subset.csv",
        {"category": "business_service"},
    ),
}

FILLER = ("hi please can you help the user at our office since this morning thanks regards").split()  # noqa: SIM905


def synthetic_tickets(count: int, seed: int = 0, noise: float = 0.0) -> LabelledTickets:
    """``count`` synthetic tickets labelled with the taxonomy's categories (Other left out),
    a share ``noise`` of them with a label drawn at random instead."""
    rng = random.Random(seed)
    taxonomy = load_taxonomy()
    categories = [c for c in taxonomy.categories if c.phrases]
    every_phrase = [p.rstrip("*") for c in categories for p in c.phrases]
    texts, labels = [], []
    for _ in range(count):
        category = rng.choice(categories)
        own = [p.rstrip("*") for p in rng.sample(category.phrases, min(2, len(category.phrases)))]
        shared = rng.sample(every_phrase, 2) + rng.sample(FILLER, 6)
        words = own + shared
        rng.shuffle(words)
        texts.append(f"{own[0]}\n" + " ".join(words))
        mislabelled = noise and rng.random() < noise
        labels.append(rng.choice(categories).name if mislabelled else category.name)
    return LabelledTickets(texts, labels, ["synthetic"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--noise", type=float, default=0.03, help="share of labels at random")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--single", type=int, default=1000, help="single-ticket predictions")
    args = parser.parse_args()

    history = synthetic_tickets(args.tickets, noise=args.noise)
    print(
        f"{args.tickets:,} synthetic tickets, {len(history.intents)} intents, "
        f"{args.noise:.0%} of labels at random"
    )
    started, cpu = time.perf_counter(), time.process_time()
    trained = train(history, folds=args.folds)
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    figures = trained.figures
    low, high = figures.routed_interval
    print(
        f"training ({trained.folds} held-out folds + final fit): {seconds:.1f} s "
        f"({cpu:.1f} s of CPU, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}); "
        f"held-out accuracy {figures.accuracy:.1%}, coverage at 95% precision "
        f"{figures.coverage:.1%}, realised precision {figures.routed_precision:.1%} "
        f"({low:.1%}-{high:.1%})"
    )
    for name, (file, columns) in REAL_SETS.items():
        if (SHARED_DATA / file).exists():
            real_set(name, load_labelled([SHARED_DATA / file], columns=columns), args.folds)

    probe = synthetic_tickets(args.single, seed=1).texts
    trained.model.best(probe[:5])  # warm up
    times = []
    for text in probe:
        start = time.perf_counter()
        trained.model.best([text])
        times.append((time.perf_counter() - start) * 1000)
    report(f"one ticket, classifier ({len(times):,} single predictions)", times)

    received = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    intents = discover().intents
    text_times = []
    for text in probe:
        start = time.perf_counter()
        keywords.triage("", text, intents)
        entities.extract("", text, received)
        warning_signs.warning_signs(text)
        text_times.append((time.perf_counter() - start) * 1000)
    report("one ticket, keywords + entities + dates + warning signs", text_times)
    report("one ticket, both", [a + b for a, b in zip(times, text_times, strict=True)])


def real_set(name: str, history: LabelledTickets, folds: int) -> None:
    """`triage eval`'s figures on a real set, then the promise on a split nothing saw."""
    result = evaluate(history, folds=folds)
    print(f"\n{name}: {result.tickets:,} tickets, {len(result.deskhand.intents)} intents")
    for figures in (result.deskhand, result.baseline):
        low, high = figures.routed_interval
        print(
            f"  {figures.model}: accuracy {figures.accuracy:.1%}, coverage at 95% precision "
            f"{figures.coverage:.1%}, realised precision {figures.routed_precision:.1%} "
            f"({low:.1%}-{high:.1%})"
        )
    print(f"  coverage gain over the baseline: {result.coverage_gain * 100:+.1f} points")
    usable = history.without_rare(max(folds, 3))
    learn, held = folds_of(usable.labels, 5, seed=1)[0]
    part = LabelledTickets(
        [usable.texts[i] for i in learn], [usable.labels[i] for i in learn], usable.sources
    )
    trained = train(part, folds=folds)
    texts = [usable.texts[i] for i in held]
    actual = [usable.labels[i] for i in held]
    predicted, confidence = trained.model.best(texts)
    routed = coverage(predicted, np.asarray(confidence), actual, trained.thresholds)
    low, high = routed.interval()
    print(
        f"  trained on 80%, routing the held-out 20% ({routed.tickets:,} tickets): "
        f"coverage {routed.coverage:.1%}, realised precision {routed.precision:.1%} "
        f"({low:.1%}-{high:.1%}), accuracy "
        f"{np.mean(np.asarray(predicted) == np.asarray(actual)):.1%}"
    )


def report(what: str, times: list[float]) -> None:
    cuts = statistics.quantiles(times, n=100)
    print(
        f"{what}: median {statistics.median(times):.2f} ms, p95 {cuts[94]:.2f} ms, "
        f"p99 {cuts[98]:.2f} ms"
    )


if __name__ == "__main__":
    main()
