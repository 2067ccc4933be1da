"""``deskhand triage``: train the triage classifier on the MSP's own history, measure, list,
and choose the active model version."""

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from rich.table import Table

from deskhand.cli.analyze import FormatName
from deskhand.cli.common import err, group, out, print_json, settings, user_errors
from deskhand.errors import UsageError

if TYPE_CHECKING:
    from deskhand.domain.intents import Intent
    from deskhand.triage.dataset import LabelledTickets
    from deskhand.triage.evaluation import Evaluation, Figures, IntentFigures

triage_app = group("The triage classifier: train, evaluate, list and activate model versions.")

Paths = Annotated[
    list[Path],
    typer.Argument(help="Resolved-ticket exports, or folders of them.", show_default=False),
]
LabelColumn = Annotated[
    str | None,
    typer.Option(
        metavar="COLUMN",
        help="Read any table and use this column as the label (the same as --map category=).",
    ),
]
Format = Annotated[
    FormatName | None,
    typer.Option("--format", help="The PSA the export comes from (default: from the headers)."),
]
Map = Annotated[
    list[str] | None,
    typer.Option(
        "--map",
        metavar="FIELD=COLUMN",
        help="field=column, repeatable, as for `analyze`: category (the label), subject, body; "
        "a table needs only these, e.g. --map category=Topic --map body=Document.",
    ),
]
MappingFile = Annotated[
    Path | None,
    typer.Option(
        metavar="FILE", help="YAML file renaming PSA labels to intents (`label: intent`)."
    ),
]
Folds = Annotated[int, typer.Option(help="Held-out folds.")]
Target = Annotated[
    float,
    typer.Option(
        metavar="PRECISION",
        help="Precision each routed intent must reach, certified by a 95% lower bound.",
    ),
]
Json = Annotated[bool, typer.Option("--json", help="One JSON document on stdout.")]
_LISTED = 8  # labels named in a note before "and N more"


@triage_app.command("eval")
def eval_command(
    paths: Paths,
    label_column: LabelColumn = None,
    format: Format = None,
    map_: Map = None,
    mapping: MappingFile = None,
    folds: Folds = 5,
    target_precision: Target = 0.95,
    json_: Json = False,
) -> None:
    """Compare deskhand's classifier with a TF-IDF + LinearSVC baseline on held-out folds:
    coverage at certified precision, and the precision realised, with its interval."""
    from deskhand.specialists.registry import discover
    from deskhand.triage.evaluation import evaluate

    with user_errors():
        _check(folds, target_precision)
        known = discover().intents  # the installed specialists': what labels are read as
        history = _history(paths, label_column, format, map_, mapping, known)
        with _progress() as advance:
            result = evaluate(history, folds=folds, target=target_precision, progress=advance)
        if json_:
            print_json(result.json_document())
            return
        _print_evaluation(result)
        confusions = Table("actual", "predicted as", "tickets", title="Worst confusions (deskhand)")
        for confusion in result.deskhand.confusions:
            confusions.add_row(confusion.actual, confusion.predicted, f"{confusion.count:,}")
        out.print(confusions)
        _notes(result.set_aside, result.unlabelled, folds)
        _routes(history.read_as, [i.intent for i in result.deskhand.intents], known)


@triage_app.command("train")
def train_command(
    ctx: typer.Context,
    paths: Paths,
    label_column: LabelColumn = None,
    format: Format = None,
    map_: Map = None,
    mapping: MappingFile = None,
    folds: Folds = 5,
    target_precision: Target = 0.95,
    json_: Json = False,
) -> None:
    """Train a model on resolved tickets, store it as a new version and make it active."""
    from deskhand.specialists.registry import discover
    from deskhand.store.db import Database
    from deskhand.triage.models_store import save_model
    from deskhand.triage.training import train

    with user_errors():
        _check(folds, target_precision)
        database = Database(settings(ctx).database())
        database.require_current()
        known = discover().intents  # the installed specialists': what labels are read as
        history = _history(paths, label_column, format, map_, mapping, known)
        with _progress() as advance:
            trained = train(history, folds=folds, target=target_precision, progress=advance)
        training = {
            "sources": history.sources,
            "label_column": label_column,
            "format": format.value if format else None,
            "map": map_ or [],
            "mapping": str(mapping) if mapping else None,
            "read_as": history.read_as,
        }
        with database.session() as session:
            version = save_model(session, trained, training).id
        database.dispose()
        figures = trained.figures
        if json_:
            print_json(
                {
                    "version": version,
                    "active": True,
                    "tickets": trained.tickets,
                    "target_precision": trained.target_precision,
                    "thresholds": {
                        k: None if v == float("inf") else v for k, v in trained.thresholds.items()
                    },
                    "figures": {
                        "accuracy": figures.accuracy,
                        "macro_f1": figures.macro_f1,
                        "coverage": figures.coverage,
                        "routed_precision": figures.routed_precision,
                        "routed_interval": list(figures.routed_interval),
                        "calibration_error": figures.calibration_error,
                    },
                    "set_aside": trained.set_aside,
                }
            )
            return
        out.print(
            f"Triage model version {version} trained on {trained.tickets:,} tickets and made "
            f"active. Held out ({trained.folds} folds): accuracy {figures.accuracy:.1%}, "
            f"macro-F1 {figures.macro_f1:.1%}, coverage at {trained.target_precision:.0%} "
            f"precision {figures.coverage:.1%}, realised precision {figures.routed_precision:.1%} "
            f"(95% interval {_interval(figures)})."
        )
        table = Table("intent", "tickets", "precision", "recall", "routed from probability")
        for intent in figures.intents:
            table.add_row(
                intent.intent,
                f"{intent.support:,}",
                f"{intent.precision:.1%}",
                f"{intent.recall:.1%}",
                "not routed" if intent.threshold is None else f"{intent.threshold:.3f}",
            )
        out.print(table)
        _not_routed(figures.intents, trained.target_precision)
        _notes(trained.set_aside, history.unlabelled, folds)
        _routes(history.read_as, sorted(trained.thresholds), known)


@triage_app.command("models")
def models_command(ctx: typer.Context, json_: Json = False) -> None:
    """List the stored model versions, newest first; the active one is marked."""
    from deskhand.store.db import Database
    from deskhand.triage.models_store import list_models

    with user_errors():
        database = Database(settings(ctx).database())
        database.require_current()
        with database.reading() as session:
            rows = [
                {
                    "version": row.id,
                    "active": row.active,
                    "created_at": row.created_at.isoformat(timespec="seconds"),
                    "tickets": row.tickets,
                    "target_precision": row.target_precision,
                    "accuracy": row.figures.get("accuracy"),
                    "macro_f1": row.figures.get("macro_f1"),
                    "coverage": row.figures.get("coverage"),
                    "library": row.library,
                }
                for row in list_models(session)
            ]
        database.dispose()
        if json_:
            print_json(rows)
            return
        if not any(row["active"] for row in rows):
            out.print(_cold_start())
        if not rows:
            out.print("No triage model yet. Train one with `deskhand triage train HISTORY...`.")
            return
        table = Table("version", "active", "trained", "tickets", "accuracy", "coverage")
        for row in rows:
            table.add_row(
                str(row["version"]),
                "yes" if row["active"] else "",
                str(row["created_at"]),
                f"{row['tickets']:,}",
                f"{row['accuracy']:.1%}",
                f"{row['coverage']:.1%} at {row['target_precision']:.0%}",
            )
        out.print(table)


@triage_app.command("activate")
def activate_command(
    ctx: typer.Context,
    version: Annotated[int, typer.Argument(help="Model version, as `triage models` lists it.")],
) -> None:
    """Make a stored model version the active one (to roll back to an earlier model)."""
    from deskhand.store.db import Database
    from deskhand.triage.models_store import activate

    with user_errors():
        database = Database(settings(ctx).database())
        try:
            database.require_current()
            with database.session() as session:
                activate(session, version)
        finally:
            database.dispose()
        out.print(f"Triage model version {version} is now active.")


def _history(
    paths: list[Path],
    label_column: str | None,
    format: FormatName | None,
    map_: list[str] | None,
    mapping: Path | None,
    intents: Mapping[str, "Intent"],
) -> "LabelledTickets":
    """The labelled tickets, read with analyze's --format and --map."""
    from deskhand.history.formats import parse_map
    from deskhand.triage.dataset import load_labelled

    return load_labelled(
        paths,
        label_column=label_column,
        columns=parse_map(map_ or []),
        format=format.value if format else None,
        mapping=mapping,
        intents=intents,
    )


def _print_evaluation(result: "Evaluation") -> None:
    """Both models' held-out figures, the routing promise checked, and each intent's routing."""
    ours, theirs = result.deskhand, result.baseline
    target = f"{result.target_precision:.0%}"
    out.print(
        f"{result.tickets:,} labelled tickets, {len(ours.intents)} intents, "
        f"{result.folds}-fold cross-validation (same folds for both models; baseline: "
        f"TF-IDF + LinearSVC, thresholds certified the same way)."
    )
    table = Table("held out", "deskhand", "baseline", title="Held-out figures")
    for label, a, b in (
        ("accuracy", ours.accuracy, theirs.accuracy),
        ("macro-F1", ours.macro_f1, theirs.macro_f1),
        (f"coverage at {target} precision", ours.coverage, theirs.coverage),
        ("realised precision, routed", ours.routed_precision, theirs.routed_precision),
    ):
        table.add_row(label, f"{a:.1%}", f"{b:.1%}")
    table.add_row("  95% interval", _interval(ours), _interval(theirs))
    table.add_row("calibration error (ECE)", f"{ours.calibration_error or 0:.3f}", "n/a")
    out.print(table)
    gain = result.coverage_gain * 100
    out.print(
        f"Coverage gain over the baseline: {gain:+.1f} points ({ours.coverage:.1%} against "
        f"{theirs.coverage:.1%} routed at {target} precision)."
    )
    low = ours.routed_interval[0]
    kept = ours.routed_precision >= result.target_precision
    out.print(
        f"Promise ({target} of routed tickets right) "
        f"{'kept' if kept else 'NOT kept'} on held-out folds: {ours.routed_precision:.1%} "
        f"realised, 95% interval {_interval(ours)}"
        + ("." if low >= result.target_precision else ", which reaches below the target.")
    )
    intents = Table(
        "intent",
        "tickets",
        "precision",
        "recall",
        "routed from",
        "certified",
        title="Per intent (deskhand; certified: the least precision each threshold has, "
        f"with {1 - result.risk:.0%} confidence or more)",
    )
    for mine in ours.intents:
        intents.add_row(
            mine.intent,
            f"{mine.support:,}",
            f"{mine.precision:.1%}",
            f"{mine.recall:.1%}",
            "not routed" if mine.threshold is None else f"{mine.threshold:.3f}",
            "" if mine.threshold is None else f"{mine.certified_precision:.1%}",
        )
    out.print(intents)
    _not_routed(ours.intents, result.target_precision)


def _not_routed(intents: "list[IntentFigures]", target: float) -> None:
    """Which intents always escalate as low_confidence, and why."""
    held = [i for i in intents if i.threshold is None]
    if not held:
        return
    out.print(
        f"Not routed, their precision cannot be certified at {target:.0%} (their tickets "
        f"escalate as low_confidence):"
    )
    for intent in held:
        out.print(f"  {intent.intent}: {intent.not_routed}.")


def _interval(figures: "Figures") -> str:
    low, high = figures.routed_interval
    return f"{low:.1%}–{high:.1%}"


def _cold_start() -> str:
    """What triages tickets while no trained model is active."""
    from deskhand.specialists.registry import discover
    from deskhand.triage.cold_start import builtin

    cold_start = builtin(discover().intents)
    return (
        f"In use: the built-in taxonomy model ({cold_start.source}: "
        f"{len(cold_start.taxonomy.categories)} categories; routes "
        f"{', '.join(cold_start.intents) or 'nothing: no specialist is installed'}), because no "
        f"trained model is active."
    )


def _check(folds: int, target: float) -> None:
    if folds < 2:
        raise UsageError(f"--folds {folds}: cross-validation needs at least 2 folds.")
    if not 0.5 <= target < 1.0:
        raise UsageError(
            f"--target-precision {target}: use a share between 0.5 and 1, such as 0.95.",
            hint="1.0 would demand a classifier that is never wrong on held-out history.",
        )


def _notes(set_aside: dict[str, int], unlabelled: int, folds: int) -> None:
    if set_aside:
        listing = ", ".join(f"{label} ({n})" for label, n in sorted(set_aside.items()))
        out.print(
            f"Left out, fewer than {max(folds, 3)} tickets each (cannot be held out): {listing}. "
            f"Such tickets escalate; merge small categories with --mapping."
        )
    if unlabelled:
        out.print(f"{unlabelled:,} rows had no label or no text and were skipped.")


def _routes(read_as: dict[str, str], labels: list[str], intents: Mapping[str, object]) -> None:
    """Which labels the installed specialists' intents gave a name, and which none handles."""
    if read_as:
        renamed = ", ".join(f"{label!r} as {intent}" for label, intent in sorted(read_as.items()))
        out.print(f"Read as the installed specialists' intents: {renamed}.")
    unhandled = [label for label in labels if label not in intents]
    if unhandled:
        shown = ", ".join(unhandled[:_LISTED]) + (
            f" and {len(unhandled) - _LISTED} more" if len(unhandled) > _LISTED else ""
        )
        out.print(
            f"No installed specialist handles {shown}: a ticket the model reads as one of these "
            f"escalates as no_specialist. Name an intent for them with --mapping; the intents "
            f"are {', '.join(intents) or 'none (no specialist is installed)'}."
        )


@contextmanager
def _progress() -> Iterator[Callable[[str, int, int], None]]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn

    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as progress:
        task = progress.add_task("reading", total=None)

        def advance(what: str, done: int, total: int) -> None:
            progress.update(task, description=what, completed=done, total=total)

        yield advance
