"""Generate a SYNTHETIC 90-day Syncro export (tickets.csv and labour.csv) for the demo and tests.

Everything this script writes is invented: the MSP, its 15 technicians, its ~20 client
companies, every person, ticket, e-mail address (all under the reserved ``.example`` domain)
and every minute of labour. No real ticket data was used or sampled. That invented world
(clients, people, categories and their text) lives in ``syncro_catalogue.py``; this script
makes the random draws and writes the two CSV files.

The export is built to look like a real one, pitfalls included: a third of the tickets carry
a vague issue type ("Other", "General", "Misc", blank) although their text says what they are;
the MSP's own labels are inconsistent; the most frequent true category (password resets) is
cheap while rarer ones (onboarding, offboarding, mailbox and licence changes, outages, vendor
escalations) are expensive; one expensive line-of-business theme hides in "Other"; and the
labour export has zero-time closures, timers left running, negative corrections and rows for
tickets that are not in the ticket export.

Usage: python examples/generate_syncro.py OUTDIR [--seed N] [--tickets N]
The same seed and ticket count always produce byte-identical files.
"""

from __future__ import annotations

import argparse
import csv
import math
import random
from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import date, datetime, time, timedelta
from itertools import accumulate
from pathlib import Path
from typing import TypeVar

# examples/ is on sys.path when this file runs as a script, so its neighbour imports directly.
from syncro_catalogue import (
    ALL_CATEGORIES,
    CLIENTS,
    CONTACTS_PER_CLIENT,
    FIRST_NAMES,
    FOLLOW_UP_NOTES,
    HOST_KINDS,
    INDUSTRY_ROLES,
    LAST_NAMES,
    MID_SPLIT,
    MID_TEAM,
    NEWLINE_NOTE_TAILS,
    OFFICE_ROLES,
    PHONE_AREA_CODES,
    POOLS,
    TECH_ROUNDING,
    TECH_WORKLOAD,
    TECHS_BY_LEVEL,
    TITLES,
    VAGUE_LABELS,
    Category,
    Client,
    Person,
    Weighted,
)

DEFAULT_SEED = 20261120
DEFAULT_TICKETS = 6000
FIRST_TICKET_NUMBER = 24001
LAST_DAY = date(2026, 11, 20)
DAYS = 90
EXPORT_CUTOFF = datetime.combine(LAST_DAY + timedelta(days=1), time(0, 0))
HOLIDAYS = frozenset({date(2026, 9, 7)})  # Labor Day

TICKET_HEADER = (
    "Ticket Number",
    "Ticket Subject",
    "Ticket Customer",
    "Tech",
    "Ticket Initial Issue",
    "Ticket Status",
    "Ticket Issue Type",
    "Ticket Created",
    "Ticket Contact",
    "Ticket Priority",
)
LABOUR_HEADER = (
    "Customer",
    "Ticket Number",
    "Tech",
    "Duration Minutes",
    "Billable Status",
    "Labor Type",
    "Created At",
    "Notes",
)

T = TypeVar("T")


class Draw:
    """Random draws built only on ``random.Random.random``.

    Python guarantees that ``random()`` yields the same sequence for the same seed in every
    version; helpers such as ``choice`` or ``gauss`` carry no such promise.
    """

    def __init__(self, seed: int) -> None:
        self._rng = random.Random(seed)

    def uniform(self, low: float = 0.0, high: float = 1.0) -> float:
        """A float in [low, high)."""
        return low + (high - low) * self._rng.random()

    def chance(self, probability: float) -> bool:
        """True with the given probability."""
        return self._rng.random() < probability

    def integer(self, low: int, high: int) -> int:
        """An integer in [low, high], both ends included."""
        return min(high, low + int(self._rng.random() * (high - low + 1)))

    def pick(self, items: Sequence[T]) -> T:
        """One item, all equally likely."""
        return items[self.integer(0, len(items) - 1)]

    def weighted(self, items: Weighted) -> str:
        """One label from (label, weight) pairs."""
        cumulative = list(accumulate(weight for _, weight in items))
        index = bisect_right(cumulative, self._rng.random() * cumulative[-1])
        return items[min(index, len(items) - 1)][0]

    def index(self, weights: Sequence[float]) -> int:
        """An index into ``weights``, chosen in proportion to them."""
        cumulative = list(accumulate(weights))
        return min(bisect_right(cumulative, self._rng.random() * cumulative[-1]), len(weights) - 1)

    def lognormal(self, median: float, sigma: float) -> float:
        """A log-normal draw with the given median (Box-Muller normal underneath)."""
        u1, u2 = self._rng.random(), self._rng.random()
        normal = math.sqrt(-2.0 * math.log(1.0 - u1)) * math.cos(2.0 * math.pi * u2)
        return median * math.exp(sigma * normal)

    def shuffle(self, items: list[T]) -> None:
        """Shuffle in place (Fisher-Yates)."""
        for i in range(len(items) - 1, 0, -1):
            j = self.integer(0, i)
            items[i], items[j] = items[j], items[i]


# --- when things happen ------------------------------------------------------------------

HOUR_WEIGHTS = (
    0.02, 0.01, 0.01, 0.01, 0.01, 0.02, 0.08, 0.35, 1.0, 1.4, 1.3, 1.15,
    0.8, 1.1, 1.1, 1.0, 0.8, 0.45, 0.15, 0.08, 0.06, 0.05, 0.04, 0.03,
)  # fmt: skip
NIGHT_HOUR_WEIGHTS = tuple(3.0 if 1 <= hour <= 5 else 0.3 for hour in range(24))
WEEKDAY_WEIGHTS = (1.2, 1.0, 1.0, 1.0, 0.85, 0.07, 0.04)
CLOSED_STATUSES = ("Resolved", "Closed", "Invoiced")


def window_days() -> list[date]:
    """The 90 calendar days of the export window, oldest first."""
    return [LAST_DAY - timedelta(days=offset) for offset in range(DAYS - 1, -1, -1)]


def next_working_time(moment: datetime, draw: Draw) -> datetime:
    """The same moment if it falls in working hours, else a time on the next working morning."""
    if moment.weekday() < 5 and 7 <= moment.hour < 18 and moment.date() not in HOLIDAYS:
        return moment
    day = moment.date()
    if moment.hour >= 7 or moment.weekday() >= 5 or day in HOLIDAYS:
        day += timedelta(days=1)
    while day.weekday() >= 5 or day in HOLIDAYS:
        day += timedelta(days=1)
    return datetime.combine(day, time(8, 0)) + timedelta(minutes=draw.integer(0, 90))


def syncro_time(moment: datetime) -> str:
    """Format as Syncro's US export does: ``11/20/2026 2:05 PM``."""
    hour = moment.hour % 12 or 12
    meridiem = "AM" if moment.hour < 12 else "PM"
    return f"{moment.month}/{moment.day}/{moment.year} {hour}:{moment.minute:02d} {meridiem}"


def ordinal(number: int) -> str:
    """``1st``, ``2nd``, ``13th``, ``22nd``..."""
    suffix = (
        "th" if 11 <= number % 100 <= 13 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    )
    return f"{number}{suffix}"


# --- building the export -----------------------------------------------------------------


@dataclass
class LabourRow:
    """One time entry in labour.csv."""

    customer: str
    ticket_number: int
    tech: str
    minutes: int
    billable: str
    labour_type: str
    created_at: datetime
    notes: str

    def row(self) -> list[str]:
        """The CSV fields in LABOUR_HEADER order."""
        return [
            self.customer,
            str(self.ticket_number),
            self.tech,
            str(self.minutes),
            self.billable,
            self.labour_type,
            syncro_time(self.created_at),
            self.notes,
        ]


@dataclass
class Ticket:
    """One ticket in tickets.csv, with the true category the export itself does not show."""

    number: int
    category: Category
    client: Client
    subject: str
    body: str
    contact: str
    tech: str
    issue_type: str
    priority: str
    created: datetime
    slots: dict[str, str]  # the values its text was filled with; its labour notes reuse them
    status: str = ""
    labour: list[LabourRow] = field(default_factory=list)

    def row(self) -> list[str]:
        """The CSV fields in TICKET_HEADER order."""
        return [
            str(self.number),
            self.subject,
            self.client.name,
            self.tech,
            self.body,
            self.status,
            self.issue_type,
            syncro_time(self.created),
            self.contact,
            self.priority,
        ]


@dataclass
class Export:
    """A generated export: tickets (with true categories) and all labour rows, in file order."""

    tickets: list[Ticket]
    labour: list[LabourRow]


class Generator:
    """Builds one synthetic export from a seed; every random choice goes through ``draw``."""

    def __init__(self, seed: int) -> None:
        self.draw = Draw(seed)
        self.staff = {client.code: self._staff(client) for client in CLIENTS}
        self.days = window_days()
        self.day_weights = [
            0.15 if day in HOLIDAYS else WEEKDAY_WEIGHTS[day.weekday()] for day in self.days
        ]

    def _staff(self, client: Client) -> list[Person]:
        """The client's employees; the first few are its authorised contacts."""
        names: dict[str, Person] = {}
        while len(names) < client.users:
            draw = self.draw
            contact = len(names) < CONTACTS_PER_CLIENT
            title = draw.pick(TITLES) if contact else draw.pick(self._roles(client)).title()
            person = Person(draw.pick(FIRST_NAMES), draw.pick(LAST_NAMES), title)
            names.setdefault(person.full, person)
        return list(names.values())

    def _roles(self, client: Client) -> tuple[str, ...]:
        return INDUSTRY_ROLES[client.industry] + OFFICE_ROLES

    def export(self, ticket_count: int) -> Export:
        """Generate ``ticket_count`` tickets, their labour and the data-quality pitfalls."""
        categories = self._category_plan(ticket_count)
        drafts = []
        for i, category in enumerate(categories):
            automated = self.draw.chance(category.alert_share)
            drafts.append((self._created(category, automated), i, category, automated))
        drafts.sort(key=lambda draft: (draft[0], draft[1]))
        tickets = [
            self._ticket(FIRST_TICKET_NUMBER + i, category, created, automated)
            for i, (created, _, category, automated) in enumerate(drafts)
        ]
        for ticket in tickets:
            self._work(ticket)
        labour = [row for ticket in tickets for row in ticket.labour]
        labour += self._pitfalls(tickets, labour)
        labour.sort(key=lambda row: (row.created_at, row.ticket_number))
        return Export(tickets, labour)

    def _category_plan(self, ticket_count: int) -> list[Category]:
        """Exact per-category counts (largest remainder), shuffled."""
        total_share = sum(category.share for category in ALL_CATEGORIES)
        quotas = [ticket_count * category.share / total_share for category in ALL_CATEGORIES]
        counts = [math.floor(quota) for quota in quotas]
        by_remainder = sorted(
            range(len(quotas)), key=lambda i: (counts[i] - quotas[i], ALL_CATEGORIES[i].key)
        )
        for i in by_remainder[: ticket_count - sum(counts)]:
            counts[i] += 1
        plan = [
            category
            for category, count in zip(ALL_CATEGORIES, counts, strict=True)
            for _ in range(count)
        ]
        self.draw.shuffle(plan)
        return plan

    def _created(self, category: Category, automated: bool) -> datetime:
        draw = self.draw
        if automated:  # monitoring does not keep office hours
            day = draw.pick(self.days)
            hour = draw.index(NIGHT_HOUR_WEIGHTS) if category.night_alerts else draw.integer(0, 23)
        else:
            day = self.days[draw.index(self.day_weights)]
            hour = draw.index(HOUR_WEIGHTS)
        return datetime.combine(day, time(hour, draw.integer(0, 59)))

    def _ticket(
        self, number: int, category: Category, created: datetime, automated: bool
    ) -> Ticket:
        draw = self.draw
        eligible = [
            c for c in CLIENTS if not category.industries or c.industry in category.industries
        ]
        client = eligible[draw.index([c.users for c in eligible])]
        staff = self.staff[client.code]
        user, contact = draw.pick(staff), draw.pick(staff[:CONTACTS_PER_CLIENT])
        subjects, body_template = draw.pick(category.alerts if automated else category.requests)
        subject_template = draw.pick(subjects)
        mentions_user = any(
            f"{{{slot}}}" in subject_template + body_template for slot in ("user", "first", "last")
        )
        if not automated and not mentions_user:
            contact = user  # people write about themselves unless they name someone else
        slots = self._slots(client, created, user, contact)
        subject = subject_template.format(**slots)
        body = body_template.format(**slots)
        if not automated:
            subject = self._noisy_subject(subject)
            body = self._noisy_body(body, slots, client)
        vague = draw.chance(category.vague_share)
        return Ticket(
            number=number,
            category=category,
            client=client,
            subject=subject,
            body=body,
            contact="" if automated else contact.full,
            tech=self._tech(category.team),
            issue_type=draw.weighted(VAGUE_LABELS if vague else category.labels),
            priority=draw.weighted(category.priorities),
            created=created,
            slots=slots,
        )

    def _slots(
        self, client: Client, created: datetime, user: Person, contact: Person
    ) -> dict[str, str]:
        """Every value a template can mention, drawn for one ticket."""
        draw = self.draw
        other = draw.pick(self.staff[client.code])
        start = created.date() + timedelta(days=draw.integer(2, 14))
        while start.weekday() >= 5:
            start += timedelta(days=1)
        weekday = start.strftime("%A")
        slots = {name: draw.pick(values) for name, values in POOLS.items()}
        slots.update(
            user=user.full,
            first=user.first,
            last=user.last,
            email=user.email(client),
            other=other.full,
            other_email=other.email(client),
            cfirst=contact.first,
            cfull=contact.full,
            ctitle=contact.title,
            cemail=contact.email(client),
            company=client.name,
            site=draw.pick(client.sites),
            printer=draw.pick(client.printers),
            lob=draw.pick(client.apps),
            role=draw.pick(self._roles(client)),
            mailbox=f"{slots['mailbox_local']}@{client.domain}",
            hostname=f"{client.code}-{draw.pick(HOST_KINDS)}{draw.integer(1, 40):02d}",
            invoice=f"INV-{draw.integer(10200, 11900)}",
            case=str(draw.integer(10_000_000, 99_999_999)),
            # 555-0100 to 555-0199 are reserved for fiction in North America.
            phone=f"({draw.pick(PHONE_AREA_CODES)}) 555-01{draw.integer(0, 99):02d}",
            when=draw.pick(
                (
                    weekday,
                    f"{start.month}/{start.day}",
                    f"next {weekday}",
                    f"{weekday} the {ordinal(start.day)}",
                )
            ),
        )
        return slots

    def _noisy_subject(self, subject: str) -> str:
        draw = self.draw
        if draw.chance(0.05):
            subject = draw.pick(("RE: ", "FW: ", "Fwd: ")) + subject
        if draw.chance(0.08):
            subject = subject.lower()
        return self._typo(subject) if draw.chance(0.04) else subject

    def _noisy_body(self, body: str, slots: dict[str, str], client: Client) -> str:
        """Greeting, sign-off, signature, phone footer, typos: what real e-mail tickets carry."""
        draw = self.draw
        if draw.chance(0.15):
            body = self._typo(body)
        greeting = draw.pick(("", "", "", "Hi,\n\n", "Hello,\n\n", "Hi team,\n\n", "Hey guys,\n\n"))
        sign_off = draw.pick(
            (
                "",
                "\n\nThanks,\n{cfirst}",
                "\n\nThanks",
                "\n\nThank you!\n{cfirst}",
                "\n\nRegards,\n{cfull}",
            )
        ).format(**slots)
        footer = ""
        if draw.chance(0.15):
            footer = f"\n\n{slots['cfull']}\n{slots['ctitle']} | {client.name}\n{slots['phone']}"
        elif draw.chance(0.08):
            footer = "\n\nSent from my iPhone"
        if client.industry in ("law", "medical", "finance") and draw.chance(0.25):
            footer += "\n\nCONFIDENTIAL: intended only for the named recipient."
        return f"{greeting}{body}{sign_off}{footer}"

    def _typo(self, text: str) -> str:
        """Swap two adjacent letters inside one longer lower-case word (never in a name)."""
        words = text.split(" ")
        candidates = [
            i
            for i, word in enumerate(words)
            if len(word) >= 5 and word.isalpha() and word.islower()
        ]
        if not candidates:
            return text
        i = self.draw.pick(candidates)
        word = words[i]
        j = self.draw.integer(1, len(word) - 3)
        words[i] = word[:j] + word[j + 1] + word[j] + word[j + 2 :]
        return " ".join(words)

    def _tech(self, team: tuple[float, float, float]) -> str:
        level = TECHS_BY_LEVEL[self.draw.index(team)]
        return level[self.draw.index([TECH_WORKLOAD.get(tech, 1.0) for tech in level])]

    def _work(self, ticket: Ticket) -> None:
        """Plan the labour entries, cut them at the export time, and set the status."""
        draw, category = self.draw, ticket.category
        total = draw.lognormal(category.median_minutes, category.sigma)
        total = min(max(1.0, total), 8 * category.median_minutes)  # a tail of hours, not days
        count = min(draw.index(category.split) + 1, max(1, int(total // 5)))
        if EXPORT_CUTOFF - ticket.created < timedelta(days=2) and draw.chance(0.3):
            count = 0  # still in the queue when the export was taken
        shares = [0.3 + draw.uniform() for _ in range(count)]
        urgent = ticket.priority in ("0 Urgent", "1 High")
        start = ticket.created + timedelta(
            minutes=max(2, round(draw.lognormal(10 if urgent else 35, 0.9)))
        )
        if not urgent:
            start = next_working_time(start, draw)
        tech = ticket.tech
        for i, share in enumerate(shares):
            if i:
                start = self._next_session(ticket.labour[-1].created_at)
                if draw.chance(0.3):
                    tech = self._tech(category.team)
            minutes = self._rounded(max(1, round(total * share / sum(shares))), tech)
            logged = start + timedelta(minutes=minutes)
            if logged >= EXPORT_CUTOFF:
                break
            labour_type = draw.weighted(category.labour_types)
            note_pool = category.notes if i == 0 or draw.chance(0.5) else FOLLOW_UP_NOTES
            ticket.labour.append(
                LabourRow(
                    customer=ticket.client.name,
                    ticket_number=ticket.number,
                    tech=tech,
                    minutes=minutes,
                    billable=self._billable(ticket.client, labour_type, logged),
                    labour_type=labour_type,
                    created_at=logged,
                    notes=draw.pick(note_pool).format(**ticket.slots),
                )
            )
        ticket.status = self._status(ticket, unfinished=len(ticket.labour) < count)
        if ticket.status in CLOSED_STATUSES and draw.chance(0.04):
            ticket.labour.clear()  # closed without anyone logging time
        if ticket.status == "New" and draw.chance(0.5):
            ticket.tech = ""  # not yet assigned

    def _next_session(self, previous: datetime) -> datetime:
        draw = self.draw
        gap_days = draw.index((45.0, 30.0, 15.0, 7.0, 3.0))
        if gap_days == 0:
            moment = previous + timedelta(minutes=round(draw.lognormal(90, 0.6)))
        else:
            day = previous.date() + timedelta(days=gap_days)
            moment = datetime.combine(day, time(8, 0)) + timedelta(minutes=draw.integer(0, 540))
        return next_working_time(moment, draw)

    def _rounded(self, minutes: int, tech: str) -> int:
        block = TECH_ROUNDING.get(tech)
        return max(block, round(minutes / block) * block) if block else minutes

    def _billable(self, client: Client, labour_type: str, logged: datetime) -> str:
        """Break-fix clients pay for everything; managed ones for projects, visits, late work."""
        if client.contract == "break-fix":
            probability = 0.95
        elif labour_type in ("Project", "Onsite"):
            probability = 0.75
        elif labour_type == "Internal":
            probability = 0.0
        elif logged.weekday() >= 5 or not 7 <= logged.hour < 18:
            probability = 0.5
        else:
            probability = 0.06
        return "Billable" if self.draw.chance(probability) else "Non-billable"

    def _status(self, ticket: Ticket, unfinished: bool) -> str:
        draw = self.draw
        age_days = (EXPORT_CUTOFF - ticket.created).total_seconds() / 86400
        if not ticket.labour:
            return "New" if age_days < 2 else draw.pick(("In Progress", "Waiting on Customer"))
        if unfinished or (age_days < 2 and draw.chance(0.25)) or draw.chance(0.015):
            return draw.weighted(
                (("In Progress", 55), ("Waiting on Customer", 35), ("Scheduled", 10))
            )
        if age_days > 35:
            return draw.weighted((("Invoiced", 50), ("Closed", 30), ("Resolved", 20)))
        if age_days > 7:
            return draw.weighted((("Invoiced", 20), ("Closed", 35), ("Resolved", 45)))
        return draw.weighted((("Resolved", 70), ("Closed", 25), ("Invoiced", 5)))

    def _pitfalls(self, tickets: list[Ticket], labour: list[LabourRow]) -> list[LabourRow]:
        """Timers left running, newlines in notes, reversed duplicates, unknown tickets."""
        draw = self.draw
        by_number = {ticket.number: ticket for ticket in tickets}
        mid_cost = [
            row for row in labour if by_number[row.ticket_number].category.split == MID_SPLIT
        ]
        for row, minutes in zip(self._sample(mid_cost, 3), (1700, 1463, 2211), strict=True):
            row.minutes = minutes
        for row in self._sample(labour, 2):
            row.notes += "\n" + draw.pick(NEWLINE_NOTE_TAILS)
        extra = []
        # A time entry saved twice, later reversed with a negative entry of the same length.
        for original in self._sample(labour, 2):
            duplicate = replace(original, created_at=original.created_at + timedelta(minutes=1))
            reversal = replace(
                original,
                minutes=-original.minutes,
                created_at=min(
                    next_working_time(
                        original.created_at + timedelta(hours=draw.integer(2, 30)), draw
                    ),
                    EXPORT_CUTOFF - timedelta(minutes=1),
                ),
                notes="Correction: time entered twice, reversing duplicate entry",
            )
            extra += [duplicate, reversal]
        # Time logged in the window on tickets opened before it (or since deleted).
        earlier = list(range(FIRST_TICKET_NUMBER - 160, FIRST_TICKET_NUMBER))
        for number in sorted(self._sample(earlier, 5)):
            client = draw.pick(CLIENTS)
            day = self.days[draw.integer(0, 9)]
            moment = datetime.combine(day, time(draw.integer(8, 16), draw.integer(0, 59)))
            extra.append(
                LabourRow(
                    customer=client.name,
                    ticket_number=number,
                    tech=self._tech(MID_TEAM),
                    minutes=draw.integer(10, 90),
                    billable="Billable" if client.contract == "break-fix" else "Non-billable",
                    labour_type="Remote Support",
                    created_at=next_working_time(moment, draw),
                    notes=draw.pick(FOLLOW_UP_NOTES).format(cfirst=draw.pick(FIRST_NAMES)),
                )
            )
        return extra

    def _sample(self, items: list[T], count: int) -> list[T]:
        """``count`` distinct items, in the order drawn."""
        chosen: dict[int, T] = {}
        while len(chosen) < count:
            index = self.draw.integer(0, len(items) - 1)
            chosen.setdefault(index, items[index])
        return list(chosen.values())


def write_export(export: Export, outdir: Path) -> None:
    """Write tickets.csv and labour.csv (UTF-8, no BOM, '\\n' line endings) into ``outdir``."""
    outdir.mkdir(parents=True, exist_ok=True)
    for name, header, rows in (
        ("tickets.csv", TICKET_HEADER, [ticket.row() for ticket in export.tickets]),
        ("labour.csv", LABOUR_HEADER, [row.row() for row in export.labour]),
    ):
        with (outdir / name).open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)


def main() -> None:
    """Parse the command line, generate the synthetic export and write it."""
    parser = argparse.ArgumentParser(description="Write a SYNTHETIC 90-day Syncro export.")
    parser.add_argument("outdir", type=Path, help="directory for tickets.csv and labour.csv")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="random seed")
    parser.add_argument(
        "--tickets", type=int, default=DEFAULT_TICKETS, help="number of tickets (at least 200)"
    )
    args = parser.parse_args()
    if args.tickets < 200:
        parser.error("--tickets must be at least 200 so every category and pitfall can occur")
    export = Generator(args.seed).export(args.tickets)
    write_export(export, args.outdir)
    print(
        f"Wrote {len(export.tickets)} SYNTHETIC tickets and {len(export.labour)} labour rows "
        f"to {args.outdir}"
    )


if __name__ == "__main__":
    main()
