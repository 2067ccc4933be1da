"""Benchmark: training the triage classifier on 100,000 tickets, and classifying one ticket.
Prints figures; asserts nothing.

    python bench/triage.py [--tickets 100000] [--folds 5] [--single 1000]

The tickets are SYNTHETIC: each is built from the built-in taxonomy's phrases for its category
plus filler words drawn from every category, so the intents overlap as real tickets do.
Training is what `deskhand triage train` does: held-out folds for the thresholds, then a fit on
everything. One-ticket latency is a loop of single-ticket predictions on the fitted model
(vectorise + calibrated SVM), as the dispatcher would call it; then the same tickets through
the rest of the text work triage does per ticket (keyword signals, entity and date extraction,
warning signs), and both together.
"""

from __future__ import annotations

import argparse
import random
import statistics
import time
from datetime import UTC, datetime

from deskhand.history.taxonomy import load_taxonomy
from deskhand.specialists.registry import discover
from deskhand.triage import entities, keywords, warning_signs
from deskhand.triage.dataset import LabelledTickets
from deskhand.triage.training import train

FILLER = ("hi please can you help the user at our office since this morning thanks regards").split()  # noqa: SIM905


def synthetic_tickets(count: int, seed: int = 0) -> LabelledTickets:
    """``count`` synthetic tickets labelled with the taxonomy's categories (Other left out)."""
    rng = random.Random(seed)
    taxonomy = load_taxonomy()
    categories = [c for c in taxonomy.categories if c.phrases]
    every_phrase = [p.rstrip("*") for c in categories for p in c.phrases]
    texts, labels = [], []
    for _ in range(count):
        category = rng.choice(categories)
        own = [p.rstrip("*") for p in rng.sample(category.phrases, min(2, len(category.phrases)))]
        noise = rng.sample(every_phrase, 2) + rng.sample(FILLER, 6)
        words = own + noise
        rng.shuffle(words)
        texts.append(f"{own[0]}\n" + " ".join(words))
        labels.append(category.name)
    return LabelledTickets(texts, labels, ["synthetic"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=100_000)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--single", type=int, default=1000, help="single-ticket predictions")
    args = parser.parse_args()

    history = synthetic_tickets(args.tickets)
    print(f"{args.tickets:,} synthetic tickets, {len(history.intents)} intents")
    started = time.perf_counter()
    trained = train(history, folds=args.folds)
    seconds = time.perf_counter() - started
    figures = trained.figures
    print(
        f"training ({args.folds} held-out folds + final fit): {seconds:.1f} s; "
        f"held-out accuracy {figures.accuracy:.1%}, coverage at 95% precision "
        f"{figures.coverage:.1%}"
    )

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


def report(what: str, times: list[float]) -> None:
    cuts = statistics.quantiles(times, n=100)
    print(
        f"{what}: median {statistics.median(times):.2f} ms, p95 {cuts[94]:.2f} ms, "
        f"p99 {cuts[98]:.2f} ms"
    )


if __name__ == "__main__":
    main()
