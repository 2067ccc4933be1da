"""`deskhand triage eval|train|models|activate`: figures, versions, bad input told plainly."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner, Result

from deskhand.cli import app
from deskhand.specialists.registry import discover
from deskhand.triage.dataset import load_labelled
from tests.support import csv_text
from tests.triage.test_plugin_intents import PRINTER_MAPPING

runner = CliRunner()


def deskhand(*args: str) -> Result:
    return runner.invoke(app, list(args))


def said(result: Result) -> str:
    """What the command printed, with Rich's line wrapping undone."""
    return " ".join(result.output.split())


def test_eval_prints_both_models_on_the_same_tickets(endava_slice: Path) -> None:
    result = deskhand(
        "triage", "eval", str(endava_slice), "--label-column", "category", "--folds", "3", "--json"
    )
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert document["folds"] == 3
    assert document["deskhand"]["model"] == "deskhand"
    assert document["baseline"]["model"].startswith("baseline")
    assert {i["intent"] for i in document["deskhand"]["intents"]} == {"4", "5", "6"}
    table = deskhand(
        "triage", "eval", str(endava_slice), "--label-column", "category", "--folds", "3"
    )
    assert table.exit_code == 0, table.output
    assert "coverage at 95% precision" in table.stdout
    assert "Worst confusions" in table.stdout


def test_train_stores_an_active_version_that_models_lists(
    endava_slice: Path, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'deskhand.db'}"
    assert deskhand("--db", db, "db", "upgrade").exit_code == 0
    assert json.loads(deskhand("--db", db, "triage", "models", "--json").stdout) == []
    trained = deskhand(
        "--db", db, "triage", "train", str(endava_slice), "--label-column", "category",
        "--folds", "3", "--json",
    )  # fmt: skip
    assert trained.exit_code == 0, trained.output
    figures = json.loads(trained.stdout)
    assert figures["version"] == 1
    assert set(figures["thresholds"]) == {"4", "5", "6"}
    listed = json.loads(deskhand("--db", db, "triage", "models", "--json").stdout)
    assert [(m["version"], m["active"]) for m in listed] == [(1, True)]
    assert listed[0]["coverage"] == figures["figures"]["coverage"]


def test_activate_switches_the_active_version_and_refuses_an_unknown_one(
    endava_slice: Path, tmp_path: Path
) -> None:
    db = f"sqlite:///{tmp_path / 'deskhand.db'}"
    assert deskhand("--db", db, "db", "upgrade").exit_code == 0
    for _ in range(2):
        trained = deskhand(
            "--db", db, "triage", "train", str(endava_slice), "--label-column", "category",
            "--folds", "3", "--json",
        )  # fmt: skip
        assert trained.exit_code == 0, trained.output

    def active() -> list[int]:
        listed = json.loads(deskhand("--db", db, "triage", "models", "--json").stdout)
        return [m["version"] for m in listed if m["active"]]

    assert active() == [2]
    switched = deskhand("--db", db, "triage", "activate", "1")
    assert switched.exit_code == 0, switched.output
    assert "version 1 is now active" in said(switched)
    assert active() == [1]
    unknown = deskhand("--db", db, "triage", "activate", "99")
    assert unknown.exit_code == 2
    assert "There is no triage model version 99" in said(unknown)
    assert "Traceback" not in said(unknown)
    assert active() == [1]
    not_a_number = deskhand("--db", db, "triage", "activate", "latest")
    assert not_a_number.exit_code == 2
    assert active() == [1]


def test_train_refuses_a_database_without_the_schema(endava_slice: Path, tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'empty.db'}"
    result = deskhand(
        "--db", db, "triage", "train", str(endava_slice), "--label-column", "category"
    )
    assert result.exit_code == 2
    assert "deskhand db upgrade" in said(result)


def test_a_missing_label_column_names_the_columns_found(endava_slice: Path) -> None:
    result = deskhand("triage", "eval", str(endava_slice), "--label-column", "intent")
    assert result.exit_code == 2
    assert "Column 'intent' not found" in said(result)
    assert "title, body" in said(result)
    assert "Traceback" not in said(result)


def test_an_unreadable_file_is_reported(tmp_path: Path) -> None:
    missing = deskhand("triage", "eval", str(tmp_path / "nope.csv"), "--label-column", "c")
    assert missing.exit_code == 2
    assert "does not exist" in said(missing)
    empty = tmp_path / "empty.csv"
    empty.write_text("")
    result = deskhand("triage", "eval", str(empty), "--label-column", "c")
    assert result.exit_code == 2
    assert "is empty" in said(result)


def test_too_few_labelled_tickets_or_a_lone_example_are_refused(tmp_path: Path) -> None:
    rows = [("printer jammed again", "printer")] * 8 + [("vpn is down", "vpn")]
    path = tmp_path / "tiny.csv"
    path.write_text(csv_text(["subject", "label"], rows))
    result = deskhand("triage", "eval", str(path), "--label-column", "label")
    assert result.exit_code == 2
    assert "A classifier needs at least two" in said(result)
    assert "'vpn' (1)" in said(result)
    blank = tmp_path / "blank.csv"
    blank.write_text(csv_text(["subject", "label"], [("printer", ""), ("", "vpn")]))
    result = deskhand("triage", "eval", str(blank), "--label-column", "label")
    assert result.exit_code == 2
    assert "No labelled tickets" in said(result)


def test_bad_options_are_refused(endava_slice: Path) -> None:
    folds = deskhand(
        "triage", "eval", str(endava_slice), "--label-column", "category", "--folds", "1"
    )
    assert folds.exit_code == 2
    assert "at least 2 folds" in said(folds)
    target = deskhand(
        "triage", "eval", str(endava_slice), "--label-column", "category",
        "--target-precision", "1.5",
    )  # fmt: skip
    assert target.exit_code == 2
    assert "--target-precision 1.5" in said(target)


def test_a_mapping_file_renames_and_drops_labels(endava_slice: Path, tmp_path: Path) -> None:
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("'4': access_change\n'5': password_reset\n'6': ~\n")
    result = deskhand(
        "triage", "eval", str(endava_slice), "--label-column", "category",
        "--mapping", str(mapping), "--folds", "3", "--json",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    intents = [i["intent"] for i in json.loads(result.stdout)["deskhand"]["intents"]]
    assert intents == ["access_change", "password_reset"]
    mapping.write_text("- not a mapping\n")
    bad = deskhand(
        "triage", "eval", str(endava_slice), "--label-column", "category", "--mapping", str(mapping)
    )
    assert bad.exit_code == 2
    assert "must map PSA labels to intents" in said(bad)


def labelled_csv(path: Path) -> Path:
    """Tickets as a PSA labels them: its own words for deskhand's categories, and others."""
    rows = (
        [(f"Forgot my password {i}", "Pwd Reset") for i in range(6)]
        + [(f"Locked out again {i}", "Account Locked") for i in range(6)]
        + [(f"Printer jammed on floor {i}", "Printer") for i in range(6)]
    )
    path.write_text(csv_text(["subject", "label"], rows))
    return path


def test_labels_that_mean_an_installed_intent_are_read_as_it(tmp_path: Path) -> None:
    path = labelled_csv(tmp_path / "history.csv")
    intents = discover().intents
    history = load_labelled([path], label_column="label", intents=intents)
    assert history.intents == ["Printer", "account_unlock", "password_reset"]
    assert history.read_as == {"Pwd Reset": "password_reset", "Account Locked": "account_unlock"}
    # A plugin's intent that takes the Printer category trains on its tickets too.
    printer = PRINTER_MAPPING.model_copy(update={"categories": ("Printer",)})
    with_plugin = load_labelled(
        [path], label_column="label", intents={**intents, "printer_mapping": printer}
    )
    assert with_plugin.read_as["Printer"] == "printer_mapping"
    # The mapping file comes first; without the registry's intents, labels keep their names.
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text("Pwd Reset: account_unlock\n")
    mapped = load_labelled([path], label_column="label", mapping=mapping, intents=intents)
    assert mapped.intents == ["Printer", "account_unlock"]
    assert load_labelled([path], label_column="label").intents == [
        "Account Locked",
        "Printer",
        "Pwd Reset",
    ]


def test_eval_says_which_labels_no_installed_specialist_handles(tmp_path: Path) -> None:
    path = labelled_csv(tmp_path / "history.csv")
    result = deskhand("triage", "eval", str(path), "--label-column", "label", "--folds", "2")
    assert result.exit_code == 0, result.output
    assert "'Account Locked' as account_unlock, 'Pwd Reset' as password_reset" in said(result)
    assert "No installed specialist handles Printer: a ticket the model reads as one" in said(
        result
    )


def topic_table(path: Path) -> Path:
    """A SYNTHETIC training table shaped like a topic-labelled export: its text column is
    `Document`, its label `Topic_group`; two clear topics and one with too few tickets."""
    rows = (
        [(f"printer on floor {i % 7} jammed paper tray {i}", "Hardware") for i in range(150)]
        + [(f"need access to shared folder {i % 5} for project {i}", "Access") for i in range(150)]
        + [(f"please approve my holiday {i}", "HR Support") for i in range(9)]
    )
    path.write_text(csv_text(["Document", "Topic_group"], rows))
    return path


def test_a_table_with_a_document_column_trains_when_mapped(tmp_path: Path) -> None:
    path = topic_table(tmp_path / "topics.csv")
    mapped = ["--map", "category=Topic_group", "--map", "body=Document", "--folds", "3"]
    result = deskhand("triage", "eval", str(path), *mapped)
    assert result.exit_code == 0, result.output
    text = said(result)
    assert "coverage at 95% precision" in text
    assert "95% interval" in text
    assert "Coverage gain over the baseline:" in text
    assert "Promise (95% of routed tickets right) kept on held-out folds:" in text
    # The intent with nine tickets (three held out per fold) cannot be certified: it says so.
    assert "Not routed, their precision cannot be certified at 95%" in text
    assert "HR Support: too few: 9 predicted, needs 72." in text
    document = json.loads(deskhand("triage", "eval", str(path), *mapped, "--json").stdout)
    low, high = document["deskhand"]["routed_interval"]
    assert low <= document["deskhand"]["routed_precision"] <= high
    hr = next(i for i in document["deskhand"]["intents"] if i["intent"] == "HR Support")
    assert hr["threshold"] is None
    db = f"sqlite:///{tmp_path / 'deskhand.db'}"
    assert deskhand("--db", db, "db", "upgrade").exit_code == 0
    trained = deskhand("--db", db, "triage", "train", str(path), *mapped, "--json")
    assert trained.exit_code == 0, trained.output
    figures = json.loads(trained.stdout)
    assert figures["thresholds"]["HR Support"] is None
    assert figures["thresholds"]["Hardware"] is not None


def test_an_unmapped_text_column_gets_an_error_naming_map(tmp_path: Path) -> None:
    path = topic_table(tmp_path / "topics.csv")
    no_text = deskhand("triage", "eval", str(path), "--map", "category=Topic_group")
    assert no_text.exit_code == 2
    assert "topics.csv has no text column" in said(no_text)
    assert "--map body=Document" in said(no_text)
    nothing = deskhand("triage", "eval", str(path))
    assert nothing.exit_code == 2
    assert "--map category=LABEL_COLUMN --map body=TEXT_COLUMN" in said(nothing)
    wrong = deskhand("triage", "eval", str(path), "--map", "category=Topic", "--map", "body=Doc")
    assert wrong.exit_code == 2
    assert "Column 'Topic' not found in topics.csv" in said(wrong)
    assert "Traceback" not in said(wrong) + said(nothing) + said(no_text)


def test_a_format_finds_the_text_where_that_psa_puts_it(tmp_path: Path) -> None:
    path = tmp_path / "connectwise.csv"
    rows = [(f"printer {i}", "paper jam", "Hardware") for i in range(4)]
    path.write_text(csv_text(["Summary", "Initial Description", "Area"], rows))
    history = load_labelled([path], columns={"category": "Area"}, format="connectwise")
    assert history.texts[0] == "printer 0\npaper jam"
    assert load_labelled([path], columns={"category": "Area"}).texts[0] == "printer 0\n"
    clash = deskhand("triage", "eval", str(path), "--label-column", "Area", "--map", "category=X")
    assert clash.exit_code == 2
    assert "name two label columns" in said(clash)
