"""Categories learnt from ticket text: the classifier and the TF-IDF behind it."""

from __future__ import annotations

import random

import numpy as np
import pytest

from deskhand.history.textmodel import TICKET_NOISE, TextFeatures, predict_categories

NAMES = ["Sarah", "Tom", "Priya", "Dave", "Karen", "Mark", "Jo", "Emily", "Raj", "Lucy"]
SERVERS = ["FS01", "DC02", "SQL01", "APP-SRV", "HV-HOST1"]
GREETINGS = ["Hi team,", "Morning,", "Hello,", "", "Hi there"]
SIGN_OFFS = ["Thanks, {name}", "Regards\n{name}", "Cheers {name}\n\nSent from my iPhone", ""]

TEMPLATES = {
    "Password reset": [
        "{name} has forgotten her password and can't get into Outlook",
        "Password expired for {name} overnight, please reset it",
        "Can you reset the password for {name}? Doesn't remember it after holiday",
        "Need a temporary password for {name}, the old one expired",
    ],
    "Printer": [
        "The first floor printer is showing paper jam again",
        "Printer offline for {name}, print jobs stuck in the queue",
        "Toner low on the Ricoh copier, could you order some",
        "Can't print to the HP from my laptop, driver error 0x709",
    ],
    "Backup alert": [
        "[Datto] Backup failed on {server}: screenshot verification failed",
        "Veeam job for {server} finished with warning: snapshot could not be created",
        "Backup of {server} missed last night, backup agent offline",
        "Offsite sync for {server} is 3 days behind",
    ],
    "New user onboarding": [
        "New starter {name} begins Monday, please create account and laptop",
        "Onboarding: set up {name} in accounts with mailbox and Teams",
        "New hire {name} needs email, VPN and access to the finance share",
        "Please create a user for {name}, starting next week in sales",
    ],
    "VPN / remote access": [
        "VPN won't connect from home for {name}, FortiClient error -14",
        "{name} can't reach the RDP server over the VPN",
        "Remote desktop to {server} times out when working from home",
        "AnyConnect keeps dropping for {name} at the hotel",
    ],
}


def ticket(rng: random.Random, category: str) -> str:
    """One ticket's subject and body as a client would send it."""
    name = rng.choice(NAMES)
    line = rng.choice(TEMPLATES[category]).format(name=name, server=rng.choice(SERVERS))
    sign_off = rng.choice(SIGN_OFFS).format(name=rng.choice(NAMES))
    return f"{rng.choice(GREETINGS)}\n{line}.\n{sign_off}"


def labelled(seed: int, per_category: int) -> tuple[list[str], list[str]]:
    rng = random.Random(seed)
    labels = [category for category in TEMPLATES for _ in range(per_category)]
    rng.shuffle(labels)
    return [ticket(rng, label) for label in labels], labels


# --- the TF-IDF features ---------------------------------------------------------------------


def test_text_features_equal_scikit_learns_tfidf_on_plain_words() -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [
        "printer jam on the first floor printer",
        "vpn drops when working from home",
        "printer offline again and vpn slow",
        "backup failed on the file server",
        "file server backup offline",
        "home vpn and printer",
    ]
    ours = TextFeatures.fit(texts, stop_words=TICKET_NOISE, bigrams=True, min_df=2)
    theirs = TfidfVectorizer(
        ngram_range=(1, 2), sublinear_tf=True, min_df=2, stop_words=sorted(TICKET_NOISE)
    ).fit(texts)
    assert ours.terms == list(theirs.get_feature_names_out())
    unseen = [*texts, "printer printer printer vpn", "nothing known here", ""]
    expected = theirs.transform(unseen).toarray()
    assert np.allclose(ours.transform(unseen).toarray(), expected)


def test_weighted_distinct_texts_learn_what_the_repeated_texts_learn() -> None:
    distinct = ["printer jam again", "vpn drops at home", "printer offline", "backup failed"]
    weights = np.array([3, 1, 0, 2])
    repeated = [text for text, times in zip(distinct, weights, strict=True) for _ in range(times)]
    weighted = TextFeatures.fit(distinct, weights=weights, stop_words=TICKET_NOISE, bigrams=False)
    plain = TextFeatures.fit(repeated, stop_words=TICKET_NOISE, bigrams=False)
    assert weighted.vocabulary.equals(plain.vocabulary)
    assert "offline" not in weighted.terms  # a text of weight 0 stands for no ticket


def test_text_features_skip_numbers_noise_and_mail_boilerplate() -> None:
    texts = [
        "Hi team, 2FA on M365 fails. Ticket 48213 at 10:45 from 10.0.0.1\nSent from my iPhone",
        "Hello, 2FA on M365 fails again. Ticket 48214\nGet Outlook for iOS",
    ]
    terms = TextFeatures.fit(texts, stop_words=TICKET_NOISE, bigrams=False).terms
    assert terms == ["2fa", "fails", "m365", "on"]


# --- predicting categories -------------------------------------------------------------------


def test_held_out_tickets_get_their_category_with_high_probability() -> None:
    train_text, train_labels = labelled(seed=1, per_category=60)
    test_text, test_labels = labelled(seed=2, per_category=10)
    predictions = predict_categories(train_text, train_labels, test_text)
    assert [label for label, _ in predictions] == test_labels
    probabilities = [probability for _, probability in predictions]
    assert min(probabilities) > 0.7
    assert np.mean(probabilities) > 0.85


def test_gibberish_and_pleasantries_get_no_category() -> None:
    train_text, train_labels = labelled(seed=1, per_category=60)
    predictions = predict_categories(
        train_text,
        train_labels,
        ["xqzt vlorp gnarfle", "Hi team, thanks! Regards", "", "12345 67890"],
    )
    assert predictions == [(None, 0.0)] * 4


def test_a_ticket_that_mixes_categories_gets_a_lower_probability_than_a_clear_one() -> None:
    train_text, train_labels = labelled(seed=1, per_category=60)
    [(_, mixed_up), (_, clear)] = predict_categories(
        train_text,
        train_labels,
        [
            "printer, backup, vpn, password and a new starter",
            "the printer is jammed, print jobs stuck in the queue",
        ],
    )
    assert mixed_up < 0.6
    assert clear > 0.8


def test_one_class_or_too_few_examples_predicts_nothing() -> None:
    train_text, train_labels = labelled(seed=1, per_category=60)
    printer = [(t, label) for t, label in zip(train_text, train_labels, strict=True)]
    only_printer = [(t, label) for t, label in printer if label == "Printer"]
    texts, labels = zip(*only_printer, strict=True)
    assert predict_categories(texts, labels, ["printer jam"]) == [(None, 0.0)]
    assert predict_categories(train_text, train_labels, ["printer jam"], min_per_class=100) == [
        (None, 0.0)
    ]


def test_classes_below_the_minimum_are_never_predicted() -> None:
    train_text, train_labels = labelled(seed=1, per_category=60)
    rare = ["Sage payroll export fails"] * 5
    predictions = predict_categories(
        train_text + rare, train_labels + ["Payroll"] * 5, ["Sage payroll export fails"]
    )
    assert predictions[0][0] != "Payroll"


def test_a_stratified_sample_still_learns_every_class_and_is_deterministic() -> None:
    train_text, train_labels = labelled(seed=1, per_category=200)
    test_text, test_labels = labelled(seed=2, per_category=5)
    first = predict_categories(train_text, train_labels, test_text, max_train=100, seed=3)
    again = predict_categories(train_text, train_labels, test_text, max_train=100, seed=3)
    assert first == again
    correct = sum(
        label == expected for (label, _), expected in zip(first, test_labels, strict=True)
    )
    assert correct >= 0.9 * len(test_labels)


def test_repeated_texts_get_the_same_answer_and_order_is_kept() -> None:
    train_text, train_labels = labelled(seed=1, per_category=60)
    texts = ["printer paper jam", "VPN won't connect", "printer paper jam", None]
    predictions = predict_categories(train_text, train_labels, texts)
    assert [label for label, _ in predictions] == [
        "Printer",
        "VPN / remote access",
        "Printer",
        None,
    ]
    assert predictions[0] == predictions[2]


def test_nothing_to_predict_is_an_empty_list() -> None:
    train_text, train_labels = labelled(seed=1, per_category=60)
    assert predict_categories(train_text, train_labels, []) == []


def test_training_texts_and_labels_must_pair_up() -> None:
    with pytest.raises(ValueError, match="labels"):
        predict_categories(["a", "b"], ["x"], ["a"])
