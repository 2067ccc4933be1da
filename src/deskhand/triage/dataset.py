"""Labelled history for the triage classifier: a ticket's text and the intent it turned out to be.

Read the way ``deskhand analyze`` reads, with the same ``--format`` and ``--map field=column``.
Two ways in. Without a label column named, PSA exports go through analyze's importer (Syncro,
ConnectWise, Autotask, Halo, generic) and the PSA category is the label. With one named
(``--map category=C``, or ``--label-column C``), any table (CSV, XLSX, JSON) is read as it is,
with no ticket ids or dates needed: column C is the label and the text is the ``--map``
subject/body columns, else the ``--format``'s subject and body columns, else a column with a
usual name (subject, title, body, description…).

Labels are read as the intents the installed specialists declare (passed in by the caller): a
label that names an intent, or a taxonomy category an intent takes (``Intent.categories``) by
its name or a synonym ("Pwd Reset" → Password reset → password_reset), becomes that intent. An
optional mapping file (YAML, ``PSA label: intent``) comes first: it renames PSA categories to
intents, a label mapped to nothing (``~``) is left out. Any other label keeps its name; a model
that predicts it escalates the ticket as ``no_specialist``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl
import yaml

from deskhand.domain.intents import Intent
from deskhand.errors import InputError, UnknownFormatError, UsageError
from deskhand.history.formats import LAYOUTS, normalise_header
from deskhand.history.importer import import_history
from deskhand.history.quality import Ledger
from deskhand.history.sources import discover, read_tables
from deskhand.history.taxonomy import label_key, load_taxonomy

SUBJECT_HEADERS = ("subject", "title", "summary", "ticketsubject", "ticketsummary")
BODY_HEADERS = ("body", "description", "details", "problem", "initialissue", "text")


@dataclass(frozen=True)
class LabelledTickets:
    """Ticket texts with their labels, and what was left out on the way."""

    texts: list[str]
    labels: list[str]
    sources: list[str]
    set_aside: dict[str, int] = field(default_factory=dict)  # rare label -> tickets left out
    unlabelled: int = 0  # rows with no label or no text
    read_as: dict[str, str] = field(default_factory=dict)  # PSA label -> intent, by the registry

    def __post_init__(self) -> None:
        if len(self.texts) != len(self.labels):
            raise ValueError(f"{len(self.texts)} texts but {len(self.labels)} labels")

    @property
    def intents(self) -> list[str]:
        """The labels present, sorted."""
        return sorted(set(self.labels))

    def without_rare(self, minimum: int) -> LabelledTickets:
        """The same tickets minus the labels with fewer than ``minimum`` examples, which no
        held-out evaluation can test; they are counted in ``set_aside``."""
        counts = Counter(self.labels)
        rare = {label: n for label, n in counts.items() if n < minimum}
        if not rare:
            return self
        kept = [i for i, label in enumerate(self.labels) if label not in rare]
        return LabelledTickets(
            texts=[self.texts[i] for i in kept],
            labels=[self.labels[i] for i in kept],
            sources=self.sources,
            set_aside={**self.set_aside, **rare},
            unlabelled=self.unlabelled,
            read_as=self.read_as,
        )

    def require_learnable(self, minimum: int) -> None:
        """Refuse, with a message saying why, history that cannot train or test a classifier."""
        if len(self.intents) < 2:
            rare = ", ".join(f"{label!r} ({n})" for label, n in sorted(self.set_aside.items()))
            found = f"; left out for having fewer than {minimum} tickets: {rare}" if rare else ""
            raise InputError(
                f"The history has {len(self.intents)} label(s) with at least {minimum} tickets "
                f"each{found}. A classifier needs at least two.",
                hint="Add more resolved tickets, or merge small categories with --mapping.",
            )


def load_labelled(
    paths: Sequence[Path],
    *,
    label_column: str | None = None,
    columns: Mapping[str, str] | None = None,
    format: str | None = None,
    mapping: Path | None = None,
    intents: Mapping[str, Intent] | None = None,
) -> LabelledTickets:
    """Read labelled tickets from ``paths`` (files or folders) with ``columns`` (``--map``:
    field -> column) and ``format`` as analyze reads them, renamed by ``mapping``, then read as
    ``intents`` (the registry's) where a label means one."""
    columns = dict(columns or {})
    if label_column is not None:
        if columns.get("category", label_column) != label_column:
            raise UsageError(
                f"--label-column {label_column} and --map category={columns['category']} "
                f"name two label columns.",
                hint="Name the label column once, with --map category=COLUMN.",
            )
        columns["category"] = label_column
    if "category" in columns:
        texts, labels, sources = _read_tables(paths, columns, format)
    else:
        texts, labels, sources = _read_exports(paths, columns, format)
    renames = load_mapping(mapping) if mapping is not None else {}
    unnamed = {(label or "").strip() for label in labels} - set(renames) - {""}
    read_as = intent_labels(unnamed, intents or {})
    renames = {**read_as, **renames}
    kept_texts: list[str] = []
    kept_labels: list[str] = []
    unlabelled = 0
    for text, label in zip(texts, labels, strict=True):
        name = (label or "").strip()
        intent = renames.get(name, name)
        if not intent or not text.strip():
            unlabelled += 1
            continue
        kept_texts.append(text)
        kept_labels.append(intent)
    if not kept_labels:
        raise InputError(
            f"No labelled tickets in {', '.join(sources)}: every row lacks a label or text.",
            hint="Name the label column with --label-column, or check the export.",
        )
    return LabelledTickets(kept_texts, kept_labels, sources, unlabelled=unlabelled, read_as=read_as)


def intent_labels(labels: Iterable[str], intents: Mapping[str, Intent]) -> dict[str, str]:
    """The labels that mean one of ``intents``, other than by being its name: its name written
    otherwise ("Password Reset"), or a taxonomy category the intent takes, by name or synonym."""
    if not intents:
        return {}
    taxonomy = load_taxonomy()
    routes = taxonomy.intents_by_category(intents)
    by_key = {label_key(name): name for name in intents}
    found = {}
    for label in labels:
        category = taxonomy.category_of(label)
        intent = routes.get(category) if category else by_key.get(label_key(label))
        if intent is not None and intent != label:
            found[label] = intent
    return found


def load_mapping(path: Path) -> dict[str, str]:
    """A mapping file: ``PSA label: intent`` per line; an empty intent leaves the label out."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise InputError(f"Cannot read the mapping file {path}: {error.strerror}.") from None
    except UnicodeDecodeError:
        raise InputError(f"The mapping file {path} is not UTF-8 text.") from None
    except yaml.YAMLError as error:
        raise InputError(f"The mapping file {path} is not valid YAML: {error}.") from None
    if not isinstance(data, dict) or not data:
        raise InputError(
            f"The mapping file {path} must map PSA labels to intents, one per line, "
            f"like `Pwd reset: password_reset`."
        )
    return {str(k).strip(): "" if v is None else str(v).strip() for k, v in data.items()}


def _read_exports(
    paths: Sequence[Path], columns: Mapping[str, str], format: str | None
) -> tuple[list[str], list[str | None], list[str]]:
    try:
        imported = import_history(paths, ledger=Ledger(), mapping=columns, forced_format=format)
    except UnknownFormatError as error:
        raise UnknownFormatError(
            error.message,
            hint="deskhand knows Syncro, ConnectWise Manage, Autotask and HaloPSA exports. "
            + TABLE_HINT,
        ) from None
    tickets = imported.tickets
    texts = _join_text(tickets.get_column("subject"), tickets.get_column("body"))
    if tickets.get_column("category_raw").null_count() == tickets.height:
        raise InputError(
            "The export has no category column, so its tickets carry no label.",
            hint="Name the label column with --map category=COLUMN.",
        )
    labels = tickets.get_column("category_raw").to_list()
    return texts, labels, [item.path for item in imported.inputs]


# A training set is often a plain table of text and label, not a PSA export.
TABLE_HINT = (
    "For a table of text and labels, say which column is which: "
    "--map category=LABEL_COLUMN --map body=TEXT_COLUMN."
)


def _read_tables(
    paths: Sequence[Path], columns: Mapping[str, str], format: str | None
) -> tuple[list[str], list[str | None], list[str]]:
    texts: list[str] = []
    labels: list[str | None] = []
    sources: list[str] = []
    for path in discover(paths):
        for table in read_tables(path):
            by_normal = {normalise_header(h): h for h in table.header}
            label = _column(table.name, table.header, by_normal, "category", columns["category"])
            subject, body = _text_columns(table.name, table.header, by_normal, columns, format)
            if subject is None and body is None:
                others = [h for h in table.header if h != label]
                raise InputError(
                    f"{table.name} has no text column: expected one of "
                    f"{', '.join(SUBJECT_HEADERS + BODY_HEADERS)}. "
                    f"Found: {', '.join(table.header[:25])}.",
                    hint="Say which column holds the text: "
                    f"--map body={others[0] if others else 'COLUMN'} (or --map subject=…).",
                )
            wanted = [c for c in (label, subject, body) if c is not None]
            frame = table.load(list(dict.fromkeys(wanted)))
            empty = pl.Series([None] * frame.height, dtype=pl.String)
            texts.extend(
                _join_text(
                    frame.get_column(subject) if subject else empty,
                    frame.get_column(body) if body else empty,
                )
            )
            labels.extend(frame.get_column(label).cast(pl.String).to_list())
            sources.append(table.name)
    return texts, labels, sources


def _text_columns(
    name: str,
    header: Sequence[str],
    by_normal: Mapping[str, str],
    columns: Mapping[str, str],
    format: str | None,
) -> tuple[str | None, str | None]:
    """The subject and body columns: as mapped (a mapped one alone is the whole text), else
    found by the names the format, or any export, gives them."""
    if {"subject", "body"} & columns.keys():
        subject, body = (
            _column(name, header, by_normal, f, columns[f]) if f in columns else None
            for f in ("subject", "body")
        )
        return subject, body
    return (
        _first(by_normal, _text_headers("subject", format)),
        _first(by_normal, _text_headers("body", format)),
    )


def _column(
    name: str, header: Sequence[str], by_normal: Mapping[str, str], field: str, column: str
) -> str:
    """The file's own header for a ``--map`` column, matched as analyze matches it."""
    found = column if column in header else by_normal.get(normalise_header(column))
    if found is None:
        raise UsageError(
            f"Column {column!r} not found in {name}. Found: {', '.join(header[:25])}.",
            hint=f"Name the {'label' if field == 'category' else field} column with "
            f"--map {field}=COLUMN.",
        )
    return found


def _text_headers(field: str, format: str | None) -> tuple[str, ...]:
    """Where a ticket's subject or body is, in a PSA's own layouts, else by usual names."""
    usual = SUBJECT_HEADERS if field == "subject" else BODY_HEADERS
    if format is None or format == "generic":
        return usual
    own = [
        name
        for layout in LAYOUTS
        if layout.format == format and layout.kind == "tickets"
        for name in layout.columns.get(field, ())
    ]
    return tuple(dict.fromkeys([*own, *usual]))


def _first(by_normal: Mapping[str, str], candidates: Sequence[str]) -> str | None:
    return next((by_normal[c] for c in candidates if c in by_normal), None)


def _join_text(subject: pl.Series, body: pl.Series) -> list[str]:
    """Subject and body as one text, the subject on the first line."""
    frame = pl.DataFrame({"subject": subject.cast(pl.String), "body": body.cast(pl.String)})
    joined = pl.concat_str(
        [pl.col("subject").fill_null(""), pl.col("body").fill_null("")], separator="\n"
    )
    return frame.select(joined).to_series().to_list()
