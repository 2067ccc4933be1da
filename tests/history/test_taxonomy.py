"""The ticket taxonomy: loading and checking the file, PSA labels, and phrase matching."""

from __future__ import annotations

from pathlib import Path

import polars as pl
import pytest

from deskhand.errors import InputError
from deskhand.history.taxonomy import Taxonomy, load_taxonomy

EXPECTED_CATEGORIES = [
    "Password reset",
    "Account lockout",
    "MFA",
    "New user onboarding",
    "User offboarding",
    "License change",
    "Mailbox / distribution list / shared mailbox",
    "Email delivery",
    "Printer",
    "VPN / remote access",
    "Network outage",
    "Software install / update",
    "Hardware / device",
    "Backup alert",
    "Security alert / phishing",
    "File share / permissions",
    "Teams / SharePoint",
    "Billing / quote",
    "Vendor escalation",
    "Other",
]

# (subject, body, category): written the way clients and monitoring tools write tickets.
REALISTIC_TICKETS = [
    (
        "Password expired - can't get into Outlook",
        "Hi, my password expired over the weekend and now Outlook keeps prompting me. "
        "Can you sort it please? Thanks, Sarah",
        "Password reset",
    ),
    (
        "Forgot password",
        "Morning, I've forgotten my password for the laptop and cant log in. "
        "I'm in the office today.\n\nKind regards,\nTom",
        "Password reset",
    ),
    (
        "Locked out again",
        "My account keeps locking me out every morning since I changed my password on my phone. "
        "Please unlock it asap.",
        "Account lockout",
    ),
    (
        "AD account locked - bob.jones",
        "Bob tried too many times after the holiday and now Windows says: The referenced account "
        "is currently locked out and may not be logged on to.",
        "Account lockout",
    ),
    (
        "New phone - authenticator not working",
        "I got a new phone over the weekend and the Microsoft Authenticator app didn't transfer. "
        "Now I can't approve sign-in requests. Can you reset my MFA?",
        "MFA",
    ),
    (
        "Not receiving the text to sign in",
        "When I sign into Office 365 it asks for a verification code but the SMS never arrives. "
        "I'm travelling and need access today.",
        "MFA",
    ),
    (
        "New starter - Emily Clarke - Monday 3rd",
        "Emily is joining the accounts team on Monday as a bookkeeper. Please create her M365 "
        "account, add her to the Finance group and set up a laptop. Her manager is Dave.",
        "New user onboarding",
    ),
    (
        "Setup for new hire",
        "We have someone starting next week in the warehouse. They will need an email address, "
        "a login for the stock system and a phone. Start date is the 14th.",
        "New user onboarding",
    ),
    (
        "Leaver: Mark Peters - last day Friday",
        "Mark is leaving the company on Friday. Please disable his account at 5pm, convert his "
        "mailbox to a shared mailbox and give Sarah access to it.",
        "User offboarding",
    ),
    (
        "Staff member terminated - URGENT",
        "We had to let Karen go this morning. Please block her sign-in immediately and remove "
        "access to everything, including the VPN.",
        "User offboarding",
    ),
    (
        "Need an extra Microsoft 365 licence",
        "We have two new people starting, please buy two more Business Standard licences and add "
        "them to our bill.",
        "License change",
    ),
    (
        "Upgrade to E3 for the directors",
        "Can the three directors be moved from Business Basic to E3 so they get the desktop apps? "
        "Remove the old licenses once done.",
        "License change",
    ),
    (
        "Access to accounts@ shared mailbox",
        "Please give Priya full access and send as permissions on the accounts@contoso.com "
        "mailbox so she can cover while Jo is off.",
        "Mailbox / distribution list / shared mailbox",
    ),
    (
        "Add me to the sales distribution list",
        "Hi, could I be added to sales@ so I receive the enquiries too? Thanks",
        "Mailbox / distribution list / shared mailbox",
    ),
    (
        "Emails to customer bouncing back",
        "Every email we send to orders@bigcustomer.com comes back as undeliverable with "
        "'550 5.7.1 Message rejected'. Started yesterday afternoon.",
        "Email delivery",
    ),
    (
        "Not receiving external emails",
        "Since this morning nobody here is getting mail from outside. Internal mail works fine. "
        "Could it be the MX records?",
        "Email delivery",
    ),
    (
        "Printer on first floor jammed again",
        "The HP in accounts keeps saying paper jam in tray 2 but there's nothing there. "
        "Can someone come and look?",
        "Printer",
    ),
    (
        "Can't scan to email from the Ricoh",
        "Scan-to-email stopped working on the big copier after the password change on the "
        "scanner account. Error says authentication failed.",
        "Printer",
    ),
    (
        "VPN not connecting from home",
        "FortiClient says 'Unable to establish the VPN connection (-14)'. Working from home "
        "today and can't get to the S drive.",
        "VPN / remote access",
    ),
    (
        "Remote desktop to office PC",
        "Can you set up RDP so I can reach my desk PC while travelling next week?",
        "VPN / remote access",
    ),
    (
        "Internet down at Main Street office!!",
        "Nobody at the Main Street site can get online, the Meraki has an orange light and the "
        "phones are down too. ISP is BT.",
        "Network outage",
    ),
    (
        "WiFi keeps dropping in the boardroom",
        "Laptops connect to the guest wifi but lose connection every few minutes. Wired is fine.",
        "Network outage",
    ),
    (
        "Please install Adobe Acrobat Pro on PC-0142",
        "Sam needs to edit PDFs for the new contracts. He has a licence already, just needs it "
        "installed.",
        "Software install / update",
    ),
    (
        "Sage keeps crashing after update",
        "Since the Windows update last night Sage 50 closes as soon as I open a company file. "
        "Already restarted twice.",
        "Software install / update",
    ),
    (
        "Laptop screen cracked",
        "I dropped my Dell laptop on the train this morning and the screen has a crack across it. "
        "It still works with an external monitor.",
        "Hardware / device",
    ),
    (
        "PC won’t turn on",
        "Pressed the power button on my desktop, the light flashes amber then nothing. "
        "Tried another socket.",
        "Hardware / device",
    ),
    (
        "[Datto] Backup Failed: FS01 - Screenshot Verification Failed",
        "Agent: FS01\nProtected machine: FS01\nLast successful backup: 2024-05-02 01:00\n"
        "Error: VSS writer timed out",
        "Backup alert",
    ),
    (
        "Veeam job 'Nightly SQL' finished with warning",
        "1 of 3 VMs processed with warnings: failed to create snapshot.",
        "Backup alert",
    ),
    (
        "Is this email legit? Looks like phishing",
        "Got an email claiming to be from DocuSign asking me to log in to view an invoice. "
        "I didn't click anything. Forwarded it to you.",
        "Security alert / phishing",
    ),
    (
        "Huntress: suspicious PowerShell on RECEPTION-PC",
        "Huntress detected a process that may be malware. Host isolated pending review.",
        "Security alert / phishing",
    ),
    (
        "Access to HR folder on S: drive",
        "New role for Laura, she needs read/write access to S:\\HR\\Policies. Tom approved.",
        "File share / permissions",
    ),
    (
        "Access denied to shared folder",
        "When I open \\\\fs01\\projects I get 'You don't have permission to access this folder'.",
        "File share / permissions",
    ),
    (
        "OneDrive not syncing",
        "The OneDrive icon has a red cross and says sync is paused; files changed on my laptop "
        "aren't on SharePoint.",
        "Teams / SharePoint",
    ),
    (
        "Can't share a file with our client in Teams",
        "When I try to share a document from the Projects channel with our client it says "
        "sharing is disabled by your admin.",
        "Teams / SharePoint",
    ),
    (
        "Query on invoice INV-20931",
        "We've been charged for 25 users but only have 22 staff. Can you check and issue a "
        "credit note?",
        "Billing / quote",
    ),
    (
        "Quote for 5 new laptops",
        "Can you send us pricing for five Dell laptops for the new sales team, similar to last "
        "time?",
        "Billing / quote",
    ),
    (
        "Line of business app down - need to contact vendor",
        "PracticePro won't open for anyone. Can you raise it with their support team? Our "
        "account number is 4471.",
        "Vendor escalation",
    ),
    (
        "Update on Exchange migration",
        "I've opened a case with Microsoft Support about the migration error, case number "
        "2405140040001234. Waiting on their engineer to call back.",
        "Vendor escalation",
    ),
]


@pytest.fixture(scope="module")
def taxonomy() -> Taxonomy:
    return load_taxonomy()


def write(tmp_path: Path, text: str, name: str = "my-taxonomy.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def match_one(
    taxonomy: Taxonomy, subject: str | None, body: str | None
) -> tuple[str | None, float]:
    result = taxonomy.match(
        pl.Series([subject], dtype=pl.String), pl.Series([body], dtype=pl.String)
    )
    return result["category"][0], result["score"][0]


# --- loading ---------------------------------------------------------------------------------


def test_bundled_taxonomy_has_every_category_in_order_with_other_last(taxonomy: Taxonomy) -> None:
    assert taxonomy.names == EXPECTED_CATEGORIES
    assert taxonomy.other == "Other"


def test_bundled_categories_have_synonyms_and_enough_phrases(taxonomy: Taxonomy) -> None:
    for category in taxonomy.categories:
        assert category.synonyms, category.name
        if category.name == taxonomy.other:
            assert category.phrases == []
        else:
            assert 15 <= len(category.phrases) <= 45, category.name


def test_a_custom_file_is_read_from_its_path(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "categories:\n"
        "  - name: EHR\n    synonyms: [emr]\n    phrases: [ehr, patient chart*]\n"
        "  - name: Other\n",
    )
    taxonomy = load_taxonomy(path)
    assert taxonomy.names == ["EHR", "Other"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        pytest.param(
            "categories:\n  - name: Printer\n    phrases: [printer\n  - name: Other\n",
            "not valid YAML at line",
            id="bad-yaml",
        ),
        pytest.param(
            "categories:\n  - synonyms: [x]\n    phrases: [printer]\n  - name: Other\n",
            "category 1, `name`: is missing",
            id="missing-name",
        ),
        pytest.param(
            "categories:\n  - name: Printer\n  - name: Printer\n  - name: Other\n",
            "category 'Printer' is listed twice",
            id="duplicate-name",
        ),
        pytest.param(
            "categories:\n  - name: Printer\n  - name: PRINTER!\n  - name: Other\n",
            "clashes with 'Printer'",
            id="names-equal-ignoring-case",
        ),
        pytest.param(
            "categories:\n  - name: Printer\n    phrases: [printer, '  ']\n  - name: Other\n",
            "category 1 ('Printer'), `phrases`: phrase '  ' is empty",
            id="empty-phrase",
        ),
        pytest.param(
            "categories:\n  - name: Printer\n    phrases: ['***']\n  - name: Other\n",
            "phrase '***' is empty",
            id="phrase-of-symbols",
        ),
        pytest.param(
            "categories:\n  - name: Printer\n    phrases: ['pr*nter']\n  - name: Other\n",
            "'*' is only allowed once, at the end",
            id="star-inside-phrase",
        ),
        pytest.param(
            "categories:\n  - name: Printer\n    phrase: [printer]\n  - name: Other\n",
            "`phrase`: is not a known key (expected name, synonyms, phrases, intent)",
            id="misspelt-key",
        ),
        pytest.param(
            "categories:\n  - name: Printer\n    synonyms: [print]\n"
            "  - name: Scanner\n    synonyms: [Print!]\n  - name: Other\n",
            "synonym 'Print!' of 'Scanner' already means 'Printer'",
            id="synonym-in-two-categories",
        ),
        pytest.param(
            "categories:\n  - name: Printer\n",
            "no category named 'Other'",
            id="no-other",
        ),
        pytest.param(
            "categories:\n  - name: Printer\n  - name: Other\n    phrases: [misc]\n",
            "'Other' must have no phrases",
            id="other-with-phrases",
        ),
        pytest.param("categories: []\n", "`categories`", id="no-categories"),
        pytest.param("- name: Printer\n", "must be a mapping", id="not-a-mapping"),
    ],
)
def test_a_malformed_file_is_an_input_error_naming_the_file_and_problem(
    tmp_path: Path, text: str, expected: str
) -> None:
    with pytest.raises(InputError) as caught:
        load_taxonomy(write(tmp_path, text))
    assert "my-taxonomy.yaml" in str(caught.value)
    assert expected in str(caught.value)


def test_bad_yaml_reports_the_line_of_the_problem(tmp_path: Path) -> None:
    text = "categories:\n  - name: Printer\n    phrases: [printer]\n  - name: Other\n    bad: : x\n"
    with pytest.raises(InputError, match="line 5"):
        load_taxonomy(write(tmp_path, text))


def test_a_missing_file_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match=r"nowhere\.yaml"):
        load_taxonomy(tmp_path / "nowhere.yaml")


# --- PSA labels ------------------------------------------------------------------------------


def test_canonical_label_ignores_case_spacing_and_punctuation(taxonomy: Taxonomy) -> None:
    raw = pl.Series(
        "category_raw",
        ["  PASSWORD reset ", "Pwd-Reset", "New User", "password reset request", "VPN"],
    )
    assert taxonomy.canonical_label(raw).to_list() == [
        "Password reset",
        "Password reset",
        "New user onboarding",
        "Password reset",
        "VPN / remote access",
    ]


def test_canonical_label_maps_vague_labels_to_other_and_unknown_ones_to_null(
    taxonomy: Taxonomy,
) -> None:
    # "Other" is a category name, so it is recognised; callers categorise these from text.
    raw = pl.Series(["Other", "General", "Misc.", "N/A", "Server maintenance", "", "--", None])
    assert taxonomy.canonical_label(raw).to_list() == [
        "Other",
        "Other",
        "Other",
        "Other",
        None,
        None,
        None,
        None,
    ]


def test_canonical_label_keeps_length_and_accepts_categorical_input(taxonomy: Taxonomy) -> None:
    raw = pl.Series(["Printer", "printing", "Printer"] * 1000, dtype=pl.Categorical)
    mapped = taxonomy.canonical_label(raw)
    assert mapped.dtype == pl.String
    assert mapped.len() == 3000
    assert set(mapped.to_list()) == {"Printer"}


# --- matching ticket text --------------------------------------------------------------------


def test_every_category_has_realistic_tickets_in_this_test() -> None:
    covered = {category for _, _, category in REALISTIC_TICKETS}
    assert covered == set(EXPECTED_CATEGORIES) - {"Other"}
    for name in covered:
        assert sum(category == name for _, _, category in REALISTIC_TICKETS) >= 2, name


def test_realistic_tickets_land_in_their_category(taxonomy: Taxonomy) -> None:
    subjects = pl.Series([subject for subject, _, _ in REALISTIC_TICKETS])
    bodies = pl.Series([body for _, body, _ in REALISTIC_TICKETS])
    result = taxonomy.match(subjects, bodies)
    wrong = [
        (subject, expected, got)
        for (subject, _, expected), got in zip(REALISTIC_TICKETS, result["category"], strict=True)
        if got != expected
    ]
    assert wrong == []
    assert (result["score"] > 0).all()


def test_a_ticket_that_fits_nothing_is_null_with_score_zero(taxonomy: Taxonomy) -> None:
    assert match_one(taxonomy, "Quick question", "Can you call me when you have a minute?") == (
        None,
        0.0,
    )


def test_null_subject_or_body_is_read_as_empty(taxonomy: Taxonomy) -> None:
    assert match_one(taxonomy, None, None) == (None, 0.0)
    assert match_one(taxonomy, None, "the printer is jammed")[0] == "Printer"
    assert match_one(taxonomy, "VPN down", None)[0] == "VPN / remote access"


TWO_CATEGORIES = (
    "categories:\n"
    "  - name: Printer\n    phrases: [printer, toner]\n"
    "  - name: VPN\n    phrases: [vpn, forticlient]\n"
    "  - name: Other\n"
)


def test_subject_hits_count_double(tmp_path: Path) -> None:
    taxonomy = load_taxonomy(write(tmp_path, TWO_CATEGORIES))
    assert match_one(taxonomy, "Printer", "vpn") == ("Printer", 2.0)
    assert match_one(taxonomy, "VPN", "printer") == ("VPN", 2.0)
    # Two body hits against one subject hit: a tie, won by the category listed first.
    assert match_one(taxonomy, "VPN", "printer toner") == ("Printer", 2.0)
    assert match_one(taxonomy, "Printer", "vpn forticlient") == ("Printer", 2.0)
    assert match_one(taxonomy, "Printer", "vpn forticlient, vpn") == ("VPN", 3.0)


def test_phrases_match_whole_words_across_punctuation_and_case(tmp_path: Path) -> None:
    taxonomy = load_taxonomy(
        write(
            tmp_path,
            "categories:\n"
            '  - name: Login\n    phrases: ["can\'t sign in", print*]\n'
            "  - name: Other\n",
        )
    )
    for text in ["CAN'T SIGN-IN", "can’t sign in", "cant sign_in", "can't\nsign   in", "Printers"]:
        assert match_one(taxonomy, None, text)[0] == "Login", text
    for text in ["cannot sign in", "can't signin", "blueprint", "can't sign inside"]:
        assert match_one(taxonomy, None, text)[0] is None, text


def test_only_the_start_of_a_long_body_is_read(tmp_path: Path) -> None:
    taxonomy = load_taxonomy(write(tmp_path, TWO_CATEGORIES))
    body = "x " * 1500 + "printer"
    assert match_one(taxonomy, None, body)[0] is None
    result = taxonomy.match(pl.Series([None], dtype=pl.String), pl.Series([body]), body_chars=5000)
    assert result["category"][0] == "Printer"


def test_regex_syntax_in_ticket_text_is_just_text(taxonomy: Taxonomy) -> None:
    hostile = ["(((", "[a-z]+ .* \\", "$^|?*+{2,}", "(?i)printer(", "\x00\ufeff😀"]
    result = taxonomy.match(pl.Series(hostile), pl.Series(hostile))
    assert result["category"].to_list() == [None, None, None, "Printer", None]


def test_regex_syntax_in_phrases_is_matched_as_text(tmp_path: Path) -> None:
    taxonomy = load_taxonomy(
        write(
            tmp_path,
            "categories:\n"
            "  - name: Odd\n"
            "    phrases: ['a.b', '(x|y)', 'c++ error', '[urgent]', 'e$p^']\n"
            "  - name: Other\n",
        )
    )
    for text in ["a.b", "A-B", "(x|y)", "x y", "c++ error", "urgent", "E$P^"]:
        assert match_one(taxonomy, None, text)[0] == "Odd", text
    for text in ["axb", "ab", "x", "y", "cc error", "ep"]:
        assert match_one(taxonomy, None, text)[0] is None, text


def test_match_returns_one_row_per_ticket_in_order(taxonomy: Taxonomy) -> None:
    subjects = pl.Series(["Printer jam", "hello", "VPN down"] * 500)
    result = taxonomy.match(subjects, pl.Series([""] * 1500))
    assert result.columns == ["category", "score"]
    assert result.schema == pl.Schema({"category": pl.String, "score": pl.Float64})
    assert result["category"].to_list()[:3] == ["Printer", None, "VPN / remote access"]
    assert result["category"].to_list() == result["category"].to_list()[:3] * 500


def test_match_on_no_tickets_is_empty(taxonomy: Taxonomy) -> None:
    empty = pl.Series([], dtype=pl.String)
    assert taxonomy.match(empty, empty).height == 0


def test_match_refuses_columns_of_different_lengths(taxonomy: Taxonomy) -> None:
    with pytest.raises(ValueError, match="rows"):
        taxonomy.match(pl.Series(["a"]), pl.Series(["a", "b"]))
