"""The invented world behind the SYNTHETIC Syncro export that generate_syncro.py writes.

Everything here is synthetic, made up for the demo and the tests: the MSP and its 15
technicians, its client companies, their staff names, titles and roles, and every ticket
category with its share of tickets, its minutes, the MSP's labels for it, the text clients and
monitoring write and the notes technicians log. E-mail domains end in the reserved
``.example`` TLD and phone numbers are 555-01xx. No real ticket data was used or sampled.

Templates use ``{slot}`` placeholders that generate_syncro.py fills in for each ticket.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

Weighted = tuple[tuple[str, float], ...]  # (label, weight) pairs for a weighted draw


# --- the MSP and its clients -------------------------------------------------------------

TECHS_BY_LEVEL: tuple[tuple[str, ...], ...] = (
    ("Dana K.", "Tyler B.", "Aisha M.", "Kevin O.", "Sofia G.", "Luis P."),
    ("Marcus T.", "Priya S.", "Jordan L.", "Mei C.", "Hannah F.", "Brandon W."),
    ("Elena R.", "Derek N.", "Grace H."),
)
TECH_WORKLOAD = {"Sofia G.": 0.5, "Dana K.": 1.4, "Mei C.": 1.3, "Grace H.": 0.7}
# Some techs log in 5- or 15-minute blocks, as real teams do.
TECH_ROUNDING = {"Kevin O.": 5, "Luis P.": 5, "Derek N.": 15}


@dataclass(frozen=True)
class Client:
    """A client company of the MSP, with what its tickets talk about."""

    name: str
    code: str
    industry: str
    users: int
    contract: str  # "managed" (remote work covered) or "break-fix" (everything billed)
    sites: tuple[str, ...]
    apps: tuple[str, ...]  # line-of-business applications
    printers: tuple[str, ...]

    @property
    def domain(self) -> str:
        """The client's invented e-mail domain under the reserved .example TLD."""
        return f"{self.code.lower()}.example"


CLIENTS: tuple[Client, ...] = (
    Client(
        "Brightwater Dental Group",
        "BWD",
        "dental",
        45,
        "managed",
        ("Main St office", "Eastside office"),
        ("OpalChart", "Dexis imaging"),
        ("HP LaserJet M404 at front desk", "Brother MFC-L8900 in the back office"),
    ),
    Client(
        "Hollis & Kerr LLP",
        "HKLAW",
        "law",
        60,
        "managed",
        ("downtown office",),
        ("Clio", "Worldox", "PCLaw"),
        ("Ricoh IM C3000 copier", "HP LaserJet in reception", "Canon imageRUNNER on 4th floor"),
    ),
    Client(
        "Maple Ridge Accounting",
        "MRACCT",
        "accounting",
        35,
        "managed",
        ("main office",),
        ("Drake Tax", "QuickBooks Desktop", "CCH Axcess"),
        ("Xerox VersaLink C405", "HP LaserJet M507"),
    ),
    Client(
        "Northgate Precision Manufacturing",
        "NPM",
        "manufacturing",
        110,
        "managed",
        ("Plant 1", "Plant 2", "front office"),
        ("Epicor", "SolidWorks", "SupplierLink portal"),
        ("Zebra label printer in shipping", "Kyocera TASKalfa in the office", "HP in QA lab"),
    ),
    Client(
        "Cedar Hill Montessori School",
        "CHMS",
        "school",
        70,
        "managed",
        ("Lower School", "Upper School"),
        ("PowerSchool", "Google Classroom"),
        ("Ricoh copier in the teachers lounge", "HP color printer in the office"),
    ),
    Client(
        "Lakeside Family Medicine",
        "LFM",
        "medical",
        55,
        "managed",
        ("Lakeside clinic", "North clinic"),
        ("OpalChart", "Doxy.me"),
        ("Brother label printer at check-in", "HP LaserJet in nurses station"),
    ),
    Client(
        "Pioneer Title & Escrow",
        "PTE",
        "title",
        30,
        "break-fix",
        ("main office",),
        ("SoftPro", "DocuSign"),
        ("Canon imageRUNNER", "HP LaserJet in closing room"),
    ),
    Client(
        "Summit Physical Therapy",
        "SUMPT",
        "physio",
        25,
        "managed",
        ("Summit clinic",),
        ("OpalChart", "WebPT"),
        ("Brother MFC at front desk",),
    ),
    Client(
        "Greenfield Veterinary Clinic",
        "GVC",
        "veterinary",
        20,
        "break-fix",
        ("clinic",),
        ("AVImark",),
        ("HP OfficeJet at reception", "Dymo label printer"),
    ),
    Client(
        "Harbor Point Realty",
        "HPR",
        "real estate",
        40,
        "managed",
        ("Harbor office", "Bayside office"),
        ("Dotloop", "Zillow Premier Agent"),
        ("Sharp MX copier",),
    ),
    Client(
        "Oakline Architects",
        "OAKARCH",
        "architecture",
        28,
        "managed",
        ("studio",),
        ("Revit", "Bluebeam Revu", "AutoCAD LT"),
        ("HP DesignJet plotter", "Ricoh copier"),
    ),
    Client(
        "Redstone Logistics",
        "RSL",
        "logistics",
        80,
        "managed",
        ("dispatch office", "warehouse"),
        ("McLeod", "Samsara"),
        ("Zebra label printer in warehouse", "HP LaserJet in dispatch"),
    ),
    Client(
        "Willow Creek Senior Living",
        "WCSL",
        "senior living",
        90,
        "managed",
        ("main building", "memory care wing"),
        ("PointClickCare",),
        ("Canon copier at nurses station", "HP LaserJet in the business office"),
    ),
    Client(
        "Bayview Insurance Agency",
        "BVIA",
        "insurance",
        22,
        "managed",
        ("agency office",),
        ("Applied Epic",),
        ("Xerox copier",),
    ),
    Client(
        "Keystone HVAC Services",
        "KHVAC",
        "trades",
        35,
        "break-fix",
        ("shop", "office"),
        ("ServiceTitan", "QuickBooks Online"),
        ("Brother MFC in the office",),
    ),
    Client(
        "Copperleaf Financial Advisors",
        "CLFA",
        "finance",
        18,
        "managed",
        ("office",),
        ("Redtail CRM", "Orion"),
        ("HP LaserJet M404",),
    ),
    Client(
        "Riverside Community Church",
        "RCC",
        "nonprofit",
        12,
        "break-fix",
        ("church office",),
        ("Planning Center",),
        ("Ricoh copier in the office",),
    ),
    Client(
        "Atlas Auto Parts",
        "AAP",
        "retail",
        50,
        "managed",
        ("store 1", "store 2", "warehouse"),
        ("Epicor Vision", "Square POS"),
        ("receipt printer at register 2", "HP LaserJet in the back office"),
    ),
    Client(
        "Tidewater Marine Supply",
        "TMS",
        "retail",
        26,
        "managed",
        ("store", "boatyard office"),
        ("Lightspeed",),
        ("Brother MFC-L8900",),
    ),
    Client(
        "Meridian Orthodontics",
        "MORTHO",
        "dental",
        24,
        "managed",
        ("Meridian office",),
        ("OpalChart", "Dolphin Imaging"),
        ("HP LaserJet at check-out",),
    ),
    Client(
        "Juniper & Vale Bakery",
        "JVB",
        "hospitality",
        10,
        "break-fix",
        ("bakery", "cafe"),
        ("Square POS", "Toast"),
        ("Epson receipt printer",),
    ),
)
HEALTHCARE = ("dental", "medical", "physio")
CONTACTS_PER_CLIENT = 6  # the staff who raise tickets for others (managers, office staff)
HOST_KINDS = ("FS", "WS", "LT", "SRV")

FIRST_NAMES = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Karen",
    "Christopher", "Sarah", "Daniel", "Lisa", "Matthew", "Nancy", "Anthony", "Sandra", "Mark",
    "Ashley", "Steven", "Emily", "Andrew", "Michelle", "Joshua", "Amanda", "Kenneth", "Melissa",
    "Kevin", "Stephanie", "Brian", "Rebecca", "Tim", "Laura", "Ryan", "Heather", "Jacob", "Amy",
    "Gary", "Angela", "Nicholas", "Rachel", "Eric", "Megan", "Jonathan", "Olivia", "Zoë", "José",
    "Raj", "Ngozi", "Wei", "Fatima", "Carlos", "Ana", "Hiroshi", "Yasmin", "Liam", "Chloe",
    "Dmitri", "Aaliyah", "Pat", "Jo", "Beth", "Rosa", "Miguel", "Tanya", "Darnell", "Keisha",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Garcia", "Miller", "Davis", "Rodriguez",
    "Martinez", "Hernandez", "Lopez", "Wilson", "Anderson", "Thomas", "Taylor", "Moore",
    "Jackson", "Martin", "Lee", "Perez", "Thompson", "White", "Harris", "Sanchez", "Clark",
    "Ramirez", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott",
    "Torres", "Nguyen", "Hill", "Flores", "Green", "Adams", "Nelson", "Baker", "Hall", "Rivera",
    "Campbell", "Mitchell", "Carter", "Roberts", "Patel", "O'Brien", "Kowalski", "Okafor",
    "Chen", "Schmidt", "Murphy", "Sullivan", "Novak", "Haddad", "Yamamoto", "Fischer",
)  # fmt: skip
TITLES = (
    "Office Manager", "Practice Administrator", "Operations Manager", "Controller",
    "Managing Partner", "Front Desk Lead", "HR Coordinator", "Director of Operations",
)  # fmt: skip
OFFICE_ROLES = ("receptionist", "office assistant", "billing specialist", "bookkeeper")
INDUSTRY_ROLES = {
    "dental": ("hygienist", "dental assistant", "treatment coordinator"),
    "law": ("paralegal", "associate attorney", "legal secretary"),
    "accounting": ("staff accountant", "tax preparer", "senior auditor"),
    "manufacturing": ("production planner", "quality engineer", "shipping clerk", "buyer"),
    "school": ("teacher", "teaching assistant", "admissions coordinator"),
    "medical": ("nurse", "medical assistant", "physician assistant"),
    "title": ("escrow officer", "title examiner", "closing coordinator"),
    "physio": ("physical therapist", "PT aide"),
    "veterinary": ("vet tech", "associate veterinarian"),
    "real estate": ("agent", "transaction coordinator"),
    "architecture": ("project architect", "designer", "drafter"),
    "logistics": ("dispatcher", "driver manager", "warehouse lead"),
    "senior living": ("nurse", "caregiver", "activities director"),
    "insurance": ("account manager", "producer", "CSR"),
    "trades": ("service technician", "estimator", "dispatcher"),
    "finance": ("financial advisor", "client service associate"),
    "nonprofit": ("youth pastor", "volunteer coordinator"),
    "retail": ("sales associate", "store manager", "parts counter clerk"),
    "hospitality": ("shift lead", "baker", "barista"),
}
PHONE_AREA_CODES = ("312", "614", "503", "919", "720", "412")

# Slot values shared by every client.
POOLS: dict[str, tuple[str, ...]] = {
    "app": (
        "Adobe Acrobat Pro", "Zoom", "Google Chrome", "Excel", "Word", "Sage 50", "Dropbox",
        "DocuSign", "7-Zip", "Java", "Power BI Desktop", "Adobe Reader", "Firefox", "Outlook",
    ),
    "device": (
        "laptop", "desktop", "Surface", "monitor", "docking station", "iPad", "keyboard",
        "webcam", "headset",
    ),
    "license": (
        "Microsoft 365 Business Premium", "Microsoft 365 Business Standard",
        "Exchange Online Plan 1", "Visio Plan 2", "Project Plan 3", "Power BI Pro",
        "Adobe Acrobat Pro", "Microsoft 365 E3",
    ),
    "dl": ("All Staff", "Front Desk", "Billing Team", "Managers", "Info", "Scheduling"),
    "mailbox_local": ("info", "billing", "scheduling", "reception", "orders", "hr", "accounts"),
    "dept": ("Billing", "Operations", "Front Desk", "Sales", "HR", "Accounting", "Admin"),
    "share": ("S: drive", "shared drive", "P: drive", "file server", "Company share"),
    "folder": ("Accounting", "HR", "Clients 2026", "Scans", "Projects", "Admin", "Payroll"),
    "team": ("All Staff", "Operations", "Management", "Front Office", "Projects 2026"),
    "external": (
        "Delta Supply Co", "our accountant", "the county recorder's office", "Crestline Bank",
        "a patient", "our insurance carrier", "the school district", "a new client",
    ),
    "vendor": (
        "Comcast Business", "Spectrum", "Dell ProSupport", "Microsoft Support",
        "the copier company", "RingCentral", "Lenovo support", "the alarm company",
    ),
    "issue": (
        "fiber circuit keeps dropping", "phone numbers won't port", "warranty repair is overdue",
        "license portal shows the wrong seat count", "server warranty renewal is stuck",
        "copier lease return",
    ),
    "isp": ("Comcast Business", "Spectrum Business", "AT&T Fiber", "Frontier"),
    "error": (
        "0x80070005", "0xc000007b", "MEMORY_MANAGEMENT", "Error 1603", "SC320", "49.4C02",
        "Unable to connect to server", "Runtime error 429", "0x8004010F",
    ),
    "backup_error": (
        "VSS snapshot timed out", "Destination storage unreachable",
        "Insufficient space on target volume", "Agent not responding", "Cloud sync stalled",
    ),
    "ehr_error": (
        "Connection to OpalChart server timed out", "Database is locked (code 5)",
        "Sync queue exceeded 5000 items", "Invalid license token",
    ),
    "country": ("Nigeria", "Brazil", "the Netherlands", "Vietnam", "Romania"),
    "malware": ("Invoice_2026_11.pdf.exe", "setup_crack.exe", "DocuSign_Review.html", "scan42.zip"),
    "server": ("FS01", "DC01", "SQL01", "NAS01", "APP01"),
    "time": ("9:30", "10am", "2pm", "11:15", "3:30", "8:45 this morning", "noon"),
    "count": ("2", "3", "4", "5", "6", "10"),
}  # fmt: skip


@dataclass(frozen=True)
class Person:
    """Someone who works at a client."""

    first: str
    last: str
    title: str

    @property
    def full(self) -> str:
        """First and last name."""
        return f"{self.first} {self.last}"

    def email(self, client: Client) -> str:
        """The person's invented work address."""
        plain = unicodedata.normalize("NFKD", f"{self.first}.{self.last}".lower())
        local = "".join(c for c in plain if c.isascii() and (c.isalnum() or c == "."))
        return f"{local}@{client.domain}"


# --- the true categories -----------------------------------------------------------------

Request = tuple[tuple[str, ...], str]  # (subject lines, body)


def ask(body: str, *subjects: str) -> Request:
    """A ticket body and the subject lines people put above it."""
    return subjects, body


NEW_USER_SUBJECTS = (
    "New user setup - {user}", "New hire starting {when}", "Onboarding: {user}",
    "new employee {user} starts {when}", "Please set up account for new {role}",
    "New Starter - {user} ({role})", "Setup new user {first}",
)  # fmt: skip
EHR_SUBJECTS = (
    "OpalChart not syncing", "OpalChart sync error again",
    "EHR sync failing - appointments missing", "OpalChart crashes at front desk",
    "Charts not updating - OpalChart", "OpalChart database sync stuck",
)  # fmt: skip

P_NORMAL: Weighted = (("2 Normal", 72), ("1 High", 12), ("3 Low", 13), ("0 Urgent", 3))
P_LOW: Weighted = (("3 Low", 35), ("2 Normal", 58), ("1 High", 7))
P_HIGH: Weighted = (("1 High", 45), ("0 Urgent", 15), ("2 Normal", 40))
P_OUTAGE: Weighted = (("0 Urgent", 55), ("1 High", 40), ("2 Normal", 5))

REMOTE: Weighted = (("Remote Support", 80), ("Phone Support", 15), ("Onsite", 5))
HANDS_ON: Weighted = (("Remote Support", 50), ("Onsite", 45), ("Phone Support", 5))
PROJECT: Weighted = (("Project", 45), ("Remote Support", 40), ("Onsite", 15))
ADMIN: Weighted = (("Internal", 60), ("Remote Support", 25), ("Phone Support", 15))

CHEAP_SPLIT = (85.0, 15.0)
MID_SPLIT = (65.0, 25.0, 10.0)
LONG_SPLIT = (10.0, 25.0, 25.0, 20.0, 12.0, 8.0)
CHEAP_TEAM = (80.0, 20.0, 0.0)
MID_TEAM = (35.0, 55.0, 10.0)
SENIOR_TEAM = (0.0, 55.0, 45.0)


@dataclass(frozen=True)
class Category:
    """A true ticket category: how often it occurs, what it costs, how it reads."""

    key: str
    share: float  # percent of all tickets
    median_minutes: float
    sigma: float
    labels: Weighted  # the MSP's own issue-type labels when it bothers to pick one
    requests: tuple[Request, ...]  # what clients write
    notes: tuple[str, ...]
    split: tuple[float, ...] = MID_SPLIT  # weights for 1, 2, 3... labour entries
    team: tuple[float, float, float] = MID_TEAM  # weights for L1, L2, L3 techs
    labour_types: Weighted = REMOTE
    priorities: Weighted = P_NORMAL
    vague_share: float = 0.31
    industries: tuple[str, ...] = ()  # empty: any client
    alert_share: float = 0.0  # share raised by monitoring: no contact, machine text
    alerts: tuple[Request, ...] = ()  # what monitoring writes
    night_alerts: bool = False  # monitoring alerts arrive mostly between 1 and 5 AM


CATEGORIES: tuple[Category, ...] = (
    Category(
        key="password_reset",
        share=18.0,
        median_minutes=6,
        sigma=0.5,
        labels=(
            ("Password Reset", 40),
            ("password reset", 14),
            ("Pwd Reset", 12),
            ("PW Reset", 6),
            ("Password", 10),
            ("Account", 10),
            ("User Account", 8),
        ),
        requests=(
            ask(
                "I forgot my password and now I can't log in to my computer. Can you please reset "
                "it?",
                "Forgot my password",
                "cant remember password",
                "Password reset",
                "PW reset",
            ),
            ask(
                "My password expired this morning and it won't let me change it. Please reset my "
                "password.",
                "password expired on my computer",
                "Can't log in - password expired",
                "password reset please",
            ),
            ask(
                "Please reset the password for {user} ({email}). {first} is back from leave and "
                "can't remember it.",
                "Need password reset for {user}",
                "Reset password for {email}",
                "Password reset request - {user}",
            ),
            ask(
                "Outlook keeps prompting for my password and says it's wrong. I think it expired "
                "over the weekend. Can someone reset it?",
                "Password expired – Outlook keeps asking",
                "Outlook password prompt",
            ),
            ask(
                "Can you reset my password? I changed it Friday and now I can't remember what I "
                "set.",
                "Password reset",
                "password reset please",
                "cant remember password",
            ),
            ask(
                "{first} needs a password reset on their email account, they are at the front "
                "desk and can't get in.",
                "Password reset request - {user}",
                "Need password reset for {user}",
            ),
            ask(
                "Need my password reset ASAP, I have a client meeting at {time}.",
                "URGENT password reset",
                "Password reset",
            ),
            ask(
                "The password expired notice came up and I clicked later, now it won't accept my "
                "old one. please reset",
                "password expired",
                "Can't log in - password expired",
            ),
        ),
        notes=(
            "Reset password in AD, synced to M365, user logged in.",
            "Verified caller via callback, reset pwd, set must change at next logon.",
            "Reset password, cleared cached creds on phone.",
            "pw reset, user confirmed",
            "Reset password via M365 admin, user updated mail app on phone.",
        ),
        split=CHEAP_SPLIT,
        team=CHEAP_TEAM,
    ),
    Category(
        key="account_lockout",
        share=5.5,
        median_minutes=8,
        sigma=0.55,
        labels=(
            ("Account Lockout", 30),
            ("Locked Out", 20),
            ("Password Reset", 25),
            ("Account", 15),
            ("AD", 10),
        ),
        requests=(
            ask(
                "I typed my password wrong a few times and now it says my account is locked. Can "
                "you unlock it?",
                "locked out of my account",
                "Account locked out",
            ),
            ask(
                "{first} is locked out. Windows says 'The referenced account is currently locked "
                "out and may not be logged on to'. Please unlock.",
                "{user} locked out",
                "User locked out of PC",
            ),
            ask(
                "Getting 'your account has been locked' when signing in to Office 365. I haven't "
                "changed anything.",
                "Can't log in - says account is locked",
                "Account locked out",
            ),
            ask(
                "Locked out again, third time this week. I think my phone still has the old "
                "password.",
                "Locked out again",
                "locked out AGAIN",
            ),
            ask(
                "Please unlock {user}'s account, they're locked out of the computer at the {site}.",
                "Account lockout - {email}",
                "{user} locked out",
            ),
        ),
        notes=(
            "Unlocked account in ADUC, source was old phone w/ saved pwd.",
            "Unlocked, checked lockout source on DC01: mapped drive with stale creds, removed.",
            "Unlocked acct",
            'Unlocked, user says "it happens every Monday" - checking scheduled task creds.',
        ),
        split=CHEAP_SPLIT,
        team=CHEAP_TEAM,
    ),
    Category(
        key="mfa",
        share=4.0,
        median_minutes=12,
        sigma=0.55,
        labels=(("MFA", 45), ("2FA", 15), ("Security", 15), ("Account", 15), ("Authenticator", 10)),
        requests=(
            ask(
                "I got a new phone and the Microsoft Authenticator app didn't transfer. Now I "
                "can't approve the sign in. Can you reset my MFA?",
                "New phone - need MFA reset",
                "Can't approve sign in request",
                "MFA not working",
            ),
            ask(
                "{first} lost their phone and can't complete the two-factor prompt. Please reset "
                "MFA so they can register the new number.",
                "Lost phone, {first} can't sign in (MFA)",
                "MFA reset for {user}",
            ),
            ask(
                "The authenticator keeps saying 'request denied' and I never get the code by text "
                "either. Need help with MFA.",
                "Authenticator app not getting codes",
                "2FA help",
                "MFA not working",
            ),
            ask(
                "Can you set up MFA for {user}? They keep getting asked to register security info.",
                "MFA prompt for {user}",
                "MFA setup - {user}",
            ),
            ask(
                "I'm traveling and my MFA text codes aren't coming through. Can you switch me to "
                "the authenticator app?",
                "2FA codes not arriving",
                "MFA text codes not coming through",
            ),
        ),
        notes=(
            "Required re-register MFA, walked user through Authenticator setup.",
            "Revoked MFA sessions, new phone registered, tested sign-in.",
            'User "did not get any prompt", reset MFA methods, re-enrolled.',
        ),
        split=CHEAP_SPLIT,
        team=CHEAP_TEAM,
    ),
    Category(
        key="new_user_onboarding",
        share=4.5,
        median_minutes=95,
        sigma=0.6,
        labels=(
            ("New User", 40),
            ("Onboarding", 25),
            ("new user", 10),
            ("New Hire", 15),
            ("User Setup", 10),
        ),
        requests=(
            ask(
                "We have a new {role}, {user}, starting {when}. Please create their email account "
                "and computer login, same access as {other}. They will need {license} and access "
                "to the {share} and {lob}.",
                *NEW_USER_SUBJECTS,
            ),
            ask(
                "New hire: {user}\nTitle: {role}\nStart date: {when}\nManager: {cfull}\nNeeds: "
                "laptop, email, {lob}, added to {dl} distribution list, door code.\nThanks!",
                *NEW_USER_SUBJECTS,
            ),
            ask(
                "Please onboard {user} who starts {when} at the {site}. They need a new laptop "
                "set up, a Microsoft 365 account, and access to the shared mailbox {mailbox}.",
                *NEW_USER_SUBJECTS,
            ),
            ask(
                "{first} {last} is joining as a {role} on {when}. Can you get their user account, "
                "email and phone extension set up? Copy permissions from {other}.",
                *NEW_USER_SUBJECTS,
            ),
            ask(
                "New employee starting {when}. Name is {user}. Needs a computer, email, and login "
                "to {lob}. Let me know if you need anything else from me.",
                *NEW_USER_SUBJECTS,
            ),
        ),
        notes=(
            "Created AD account, M365 license assigned, added to groups.",
            "Imaged laptop, installed {lob}, Office, printers, joined to domain.",
            "Set up mailbox, added to {dl}, requested {lob} login from vendor.",
            "Onsite: delivered laptop, first login, MFA enrollment with user.",
            "Ordered laptop from distributor, waiting on delivery.",
            "Copied group memberships from {other}, set up phone ext, door fob request sent to "
            "office mgr.",
        ),
        split=LONG_SPLIT,
        team=SENIOR_TEAM,
        labour_types=PROJECT,
        priorities=P_LOW,
    ),
    Category(
        key="user_offboarding",
        share=3.0,
        median_minutes=60,
        sigma=0.6,
        labels=(
            ("User Offboarding", 40),
            ("Offboarding", 25),
            ("Termination", 15),
            ("Leaver", 10),
            ("Disable User", 10),
        ),
        requests=(
            ask(
                "{user} is leaving, last day is {when}. Please disable their account, convert the "
                "mailbox to a shared mailbox and give {other} access, and forward their email.",
                "User offboarding - {user}",
                "{user} last day {when}",
                "Offboard {user}",
            ),
            ask(
                "We had to let {first} go today. Please disable their login and email effective "
                "immediately and reset the password on the {device}. Remove them from {dl}.",
                "Termination - {user} - disable account",
                "Remove access for {user} effective immediately",
                "Employee leaving - please disable access",
            ),
            ask(
                "{user}'s last day is {when}. Can you back up their files, remove their license "
                "and collect the laptop? Please set an out of office pointing to {other_email}.",
                "{user} last day {when}",
                "User offboarding - {user}",
            ),
            ask(
                "Offboarding request: {user} ({email}). Disable account, remove from all groups, "
                "wipe phone, and remove from {lob}.",
                "Offboard {user}",
                "Employee leaving - please disable access",
            ),
        ),
        notes=(
            "Disabled account, reset pwd, removed from groups, converted mailbox to shared.",
            "Granted {other} access to mailbox, set OOO, forwarded email.",
            "Backed up profile + OneDrive to file server, removed license.",
            "Wiped phone via Intune, collected laptop, reimaged for stock.",
        ),
        split=LONG_SPLIT,
        team=SENIOR_TEAM,
        labour_types=PROJECT,
        priorities=P_HIGH,
    ),
    Category(
        key="license_change",
        share=3.5,
        median_minutes=45,
        sigma=0.55,
        labels=(("License", 45), ("Licensing", 25), ("O365", 20), ("Billing", 10)),
        requests=(
            ask(
                "{first} needs a {license} license, can you purchase one and assign it? They need "
                "it for a project starting next week.",
                "License for {user}",
                "Need a {license} license",
                "Add license - {user}",
            ),
            ask(
                "When I sign in to Office it says 'Your account doesn't have a license'. Please "
                "check my license.",
                "Office says no license",
                "Unlicensed product error in Office",
            ),
            ask(
                "Please remove the {license} license from {user}, they don't need it anymore, and "
                "let me know how that affects our bill.",
                "Remove license from {user}",
            ),
            ask(
                "We need to upgrade {user} from Business Basic to {license} so they can use the "
                "desktop apps.",
                "Upgrade to {license}",
                "License upgrade for {user}",
            ),
            ask(
                "Can you add {count} more {license} licenses to our subscription? We have new "
                "people starting.",
                "Out of licenses?",
                "Need {count} more licenses",
            ),
        ),
        notes=(
            "Purchased 1x {license} via distributor, assigned to user.",
            "Removed license, reduced subscription count.",
            "Checked licensing, user was unlicensed after group change. Reassigned.",
            "Swapped license SKU, reinstalled Office apps, activated.",
        ),
        split=LONG_SPLIT,
        team=MID_TEAM,
    ),
    Category(
        key="mailbox_dl_shared",
        share=4.5,
        median_minutes=50,
        sigma=0.6,
        labels=(
            ("Shared Mailbox", 35),
            ("Email", 25),
            ("Distribution List", 15),
            ("Exchange", 15),
            ("Mailbox", 10),
        ),
        requests=(
            ask(
                "Please give {user} full access and send as permission on the {mailbox} shared "
                "mailbox.",
                "Access to {mailbox} shared mailbox",
                "Shared mailbox access for {user}",
            ),
            ask(
                "Can you create a new shared mailbox {mailbox} and add me, {first} and {other}?",
                "New shared mailbox for {dept}",
                "Create shared mailbox {mailbox}",
            ),
            ask(
                "Please add {user} to the {dl} distribution list. They are not getting the all "
                "staff emails.",
                "Add {user} to {dl} distribution list",
                "{first} not on the {dl} list",
            ),
            ask(
                "The {mailbox} mailbox disappeared from my Outlook after the update. I still need "
                "access to it.",
                "Shared mailbox not showing in Outlook",
                "{mailbox} missing from Outlook",
            ),
            ask(
                "{first}'s mailbox is full, getting 'mailbox is almost full' warnings. Can you "
                "increase it or set up archiving?",
                "Mailbox full - {user}",
            ),
            ask(
                "Please give {user} editor access to my calendar and the {dept} shared calendar.",
                "calendar permissions for {user}",
            ),
            ask(
                "Please remove {user} from the {dl} distribution list, they moved to another team.",
                "Remove {user} from {dl}",
            ),
        ),
        notes=(
            "Granted Full Access + Send As on {mailbox}, automapping on.",
            "Created shared mailbox, added members, tested send as.",
            "Added to DL in Exchange admin, confirmed with test email.",
            "Enabled online archive, set retention policy 2y.",
        ),
        split=LONG_SPLIT,
        team=MID_TEAM,
    ),
    Category(
        key="email_delivery",
        share=6.0,
        median_minutes=20,
        sigma=0.7,
        labels=(("Email", 55), ("email", 15), ("Outlook", 20), ("Spam", 10)),
        requests=(
            ask(
                "I haven't received any emails from {external} since yesterday. They say they've "
                "sent several. Can you check if they are being blocked?",
                "Not receiving emails from {external}",
                "Emails not coming through",
            ),
            ask(
                "Every email I send to {external} bounces back with '550 5.7.1 message rejected'. "
                "Can you look into it?",
                "Email bouncing back",
                "Undeliverable message",
            ),
            ask(
                "Our clients are saying our emails are going to their junk folder. Started this "
                "week.",
                "Client says our emails go to junk",
            ),
            ask(
                "Emails are stuck in my outbox and won't send. I've restarted Outlook twice.",
                "Outlook not sending emails",
                "Emails stuck in outbox",
            ),
            ask(
                "Important email from {external} went to quarantine, can you release it and "
                "whitelist the sender?",
                "email from {external} in quarantine",
            ),
        ),
        notes=(
            "Message trace: emails quarantined by spam filter, released and allow-listed sender.",
            "SPF record missing new sender, updated DNS. Monitoring.",
            "Cleared stuck outbox, rebuilt OST.",
            "Sender domain on a blocklist, advised client to contact sender's IT.",
        ),
        team=MID_TEAM,
    ),
    Category(
        key="printer",
        share=7.5,
        median_minutes=18,
        sigma=0.7,
        labels=(
            ("Printer", 60),
            ("printer", 10),
            ("Printing", 15),
            ("Scanner", 10),
            ("Hardware", 5),
        ),
        requests=(
            ask(
                "The {printer} says offline on my computer and nothing prints. I restarted it "
                "already.",
                "{printer} offline",
                "Printer not working",
                "Can't print",
            ),
            ask(
                "Can't print to the {printer}, jobs just sit in the queue. Other people can print "
                "fine.",
                "Can't print",
                "printing stuck in queue",
            ),
            ask(
                "Scan to email stopped working on the {printer}. It gives an SMTP error.",
                "Scanner not scanning to email",
            ),
            ask(
                "Please add the {printer} to {first}'s computer, they moved desks.",
                "need printer added to {first}'s computer",
            ),
            ask(
                "Printer at the {site} is printing blank pages and showing error {error}.",
                "Printer error {error}",
                "Printer jammed / error",
            ),
            ask(
                "The copier won't scan to the shared folder anymore, says 'cannot connect to "
                "server'.",
                "Scan to folder broken",
            ),
        ),
        notes=(
            "Printer had new IP after power outage, set DHCP reservation, re-added port.",
            "Cleared print spooler, reinstalled driver.",
            "Updated SMTP settings on scanner for scan-to-email.",
            "Jammed fuser, placed service call with copier vendor.",
        ),
        team=MID_TEAM,
        labour_types=HANDS_ON,
    ),
    Category(
        key="vpn_remote_access",
        share=4.5,
        median_minutes=22,
        sigma=0.65,
        labels=(("VPN", 55), ("Remote Access", 25), ("Network", 15), ("RDP", 5)),
        requests=(
            ask(
                "I'm working from home and the VPN won't connect. It just says 'connecting' and "
                "then times out.",
                "VPN not connecting",
                "Can't connect to VPN from home",
            ),
            ask(
                "The FortiClient VPN keeps dropping every 10 minutes, I lose my connection to "
                "{lob}.",
                "VPN keeps disconnecting",
            ),
            ask(
                "Please set up VPN access for {user}, they will be working remotely on Fridays.",
                "Need VPN access for {user}",
            ),
            ask(
                "I can't remote into my work computer from home, it says the remote computer "
                "can't be found.",
                "Remote desktop not working",
                "RDP to my work PC not working",
            ),
            ask(
                "VPN connects but I can't see the {share}. Worked last week.",
                "Can't access files from home",
            ),
        ),
        notes=(
            "Reinstalled FortiClient, reimported config, tested.",
            "User's home router blocks IPsec, switched to SSL VPN.",
            "Added user to VPN group on firewall.",
            "Expired VPN cert, renewed and pushed new profile.",
        ),
        team=MID_TEAM,
    ),
    Category(
        key="network_outage",
        share=2.0,
        median_minutes=110,
        sigma=0.8,
        labels=(
            ("Network", 45),
            ("Internet Down", 20),
            ("Outage", 15),
            ("Internet", 15),
            ("Firewall", 5),
        ),
        requests=(
            ask(
                "Nobody in the office has internet since about {time}. Phones are down too. "
                "Please help ASAP.",
                "URGENT - whole office has no internet",
                "No internet / phones down",
            ),
            ask(
                "The whole {site} lost network connection. Lights on the firewall are orange.",
                "Network down",
                "Site down - {site}",
            ),
            ask(
                "Wifi is down for everyone at the {site}, wired computers work. We have customers "
                "waiting.",
                "Wifi not working for anyone",
            ),
            ask(
                "Internet keeps dropping every few minutes at the {site}, whole office affected. "
                "Can't use {lob}.",
                "Internet down at {site}",
                "Internet very slow in office",
            ),
            ask(
                "Power outage last night and now nothing on the network works. Switch in the "
                "closet has no lights.",
                "Network outage",
                "Network down after power outage",
            ),
        ),
        notes=(
            "ISP outage confirmed, opened ticket with ISP, failover to LTE.",
            "Onsite: replaced failed PoE switch in closet, restored connectivity.",
            "Firewall rebooted after power event, config ok, monitored.",
            "Worked with ISP tech onsite, modem replaced.",
            "DHCP scope exhausted, expanded scope, shortened lease.",
        ),
        split=LONG_SPLIT,
        team=SENIOR_TEAM,
        labour_types=HANDS_ON,
        priorities=P_OUTAGE,
    ),
    Category(
        key="software",
        share=7.0,
        median_minutes=25,
        sigma=0.7,
        labels=(
            ("Software", 55),
            ("software", 10),
            ("App Install", 15),
            ("Updates", 10),
            ("Application", 10),
        ),
        requests=(
            ask(
                "Can you please install {app} on my computer? I need it for a project.",
                "Install {app}",
                "Need {app} installed",
                "Software install request",
            ),
            ask(
                "{app} crashes every time I open it. I tried restarting.",
                "{app} crashing",
                "{app} not opening",
            ),
            ask(
                "Getting an error when I open {app}: '{error}'. Please help.",
                "{app} error on startup",
                "{app} not opening",
            ),
            ask(
                "Please update {app} on all computers at the {site}, the old version is no longer "
                "supported.",
                "Update {app}",
            ),
            ask(
                "{first} needs {app} installed on their new laptop.",
                "Install {app} for {first}",
                "Software install request",
            ),
            ask(
                "{app} says it needs an update but I don't have admin rights to install it.",
                "{app} update needs admin",
                "Update {app}",
            ),
            ask(
                "Adobe keeps asking me to sign in every time I open a PDF.",
                "Adobe keeps asking me to sign in",
            ),
        ),
        notes=(
            "Installed {app} via RMM, confirmed launch.",
            "Repaired install, cleared app cache.",
            "Pushed update to all machines at site.",
            "Re-entered vendor license key, app opens.",
        ),
        team=MID_TEAM,
    ),
    Category(
        key="hardware",
        share=6.0,
        median_minutes=35,
        sigma=0.7,
        labels=(
            ("Hardware", 55),
            ("Laptop", 15),
            ("PC", 10),
            ("Device", 10),
            ("Monitor", 5),
            ("hardware", 5),
        ),
        requests=(
            ask(
                "My laptop won't turn on at all, no lights. It was fine yesterday.",
                "Laptop won't turn on",
            ),
            ask(
                "My second monitor isn't detected when I plug into the docking station.",
                "Second monitor not detected",
                "Docking station not working",
                "Monitor not working",
            ),
            ask(
                "Computer is extremely slow, takes 15 minutes to boot and freezes in Excel.",
                "Computer very slow",
            ),
            ask(
                "Got a blue screen with {error} twice this morning.", "Blue screen", "BSOD {error}"
            ),
            ask(
                "The {device} at the front desk has a cracked screen, can we get a replacement "
                "quote?",
                "{device} broken",
            ),
            ask(
                "{first} spilled coffee on their keyboard. Keys are sticking. Need a replacement.",
                "Need new keyboard and mouse",
            ),
            ask(
                "Laptop fan is really loud and it gets very hot.",
                "PC making loud noise",
                "Laptop overheating",
            ),
            ask(
                "The laptop battery is bulging and the trackpad is lifting up.",
                "Laptop battery swelling",
            ),
        ),
        notes=(
            "Ran diagnostics, SSD failing. Ordered replacement under warranty.",
            "Swapped docking station, updated dock firmware.",
            "Replaced keyboard from stock.",
            "Reseated RAM, ran memtest, ok.",
            "Quote sent for replacement laptop.",
        ),
        team=MID_TEAM,
        labour_types=HANDS_ON,
    ),
    Category(
        key="backup_alert",
        share=5.0,
        median_minutes=15,
        sigma=0.7,
        labels=(("Backup", 55), ("Monitoring", 20), ("RMM Alert", 15), ("Alert", 10)),
        requests=(
            ask(
                "I accidentally deleted the {folder} folder on the {share}. Can you restore it "
                "from yesterday's backup?",
                "Need file restored from backup",
                "Restore deleted folder from backup",
            ),
            ask(
                "Can you confirm our server backups are actually working? Our auditor is asking.",
                "Is our backup running?",
            ),
        ),
        notes=(
            "Restarted backup agent, manual job succeeded.",
            "Target NAS was full, pruned old restore points, rerun ok.",
            "VSS writer failed, rebooted server after hours, backup ok.",
            "False alarm, job completed after retry. Closing.",
        ),
        team=CHEAP_TEAM,
        alert_share=0.85,
        alerts=(
            ask(
                "Backup job Nightly-{server} on {hostname} failed.\nStatus: Failed\nError: "
                "{backup_error}\nCustomer: {company}\nThis ticket was created automatically by "
                "RMM.",
                "[Backup] Job failed: {server}",
            ),
            ask(
                "Veeam Backup & Replication\nJob: {server}-Daily\nResult: Error\nDetails: "
                "{backup_error}",
                "Veeam: Job {server}-Daily finished with Error",
            ),
            ask(
                "Monitor 'Backup Status' triggered on {hostname}: last successful backup more "
                "than 48 hours ago.",
                "RMM Alert - Backup not run in 48 hours - {hostname}",
            ),
            ask(
                "Backup of {hostname} failed.\nReason: {backup_error}\nLast good backup: 2 days "
                "ago",
                "Datto: Backup failure on {hostname}",
            ),
            ask(
                "Backup of {server} completed with warnings: {backup_error}. Please review.",
                "Backup warning: {server}",
            ),
        ),
        night_alerts=True,
    ),
    Category(
        key="security_alert",
        share=4.0,
        median_minutes=30,
        sigma=0.75,
        labels=(("Security", 50), ("Phishing", 25), ("Spam", 10), ("Virus", 15)),
        requests=(
            ask(
                "Got this email saying my mailbox is full and to click here to verify. Looks like "
                "phishing? Attaching it.",
                "Suspicious email - is this phishing?",
                "Phishing?",
            ),
            ask(
                "I clicked on a link in an email that looked like a DocuSign and entered my "
                "password. Then I realized it was fake. What should I do?",
                "I clicked a link in an email",
            ),
            ask(
                "{other} received an email from me with a PDF link that I never sent. I think my "
                "email was hacked.",
                "Someone is sending emails as me",
            ),
            ask(
                "We got an invoice email from {external} asking to change their bank details. "
                "Seems like a scam, can you check?",
                "Fake invoice email from {external}",
            ),
            ask(
                "Got a weird email from {other} with just a link and 'please review'. They say "
                "they didn't send it.",
                "Weird email from {other}",
            ),
        ),
        notes=(
            "Reviewed headers, phishing confirmed, purged from all mailboxes.",
            "Reset pwd, revoked sessions, checked inbox rules, removed malicious forward rule.",
            "Blocked sender domain, user training reminder sent.",
            "EDR quarantine verified, full scan clean.",
        ),
        team=MID_TEAM,
        priorities=P_HIGH,
        alert_share=0.35,
        alerts=(
            ask(
                "Alert: Impossible travel\nUser: {email}\nSign-in from {country} shortly after a "
                "sign-in from the US.\nSeverity: Medium",
                "Security Alert: Impossible travel activity for {email}",
            ),
            ask(
                "Microsoft 365 Defender alert: Suspicious inbox rule. User {email} created a rule "
                "forwarding messages to an external address.",
                "Microsoft 365 alert: Suspicious inbox forwarding rule - {email}",
            ),
            ask(
                "EDR detected and quarantined a malicious file on {hostname}.\nFile: "
                "{malware}\nUser: {email}\nAction: Quarantined",
                "EDR Alert: Malicious file quarantined on {hostname}",
            ),
            ask(
                "Microsoft Defender detected a potentially unwanted app on {hostname}.\nFile: "
                "{malware}\nStatus: Blocked",
                "Defender: Potentially unwanted app detected on {hostname}",
            ),
        ),
    ),
    Category(
        key="file_share_permissions",
        share=4.0,
        median_minutes=20,
        sigma=0.6,
        labels=(
            ("File Share", 25),
            ("Permissions", 30),
            ("Network Drive", 15),
            ("Shared Drive", 15),
            ("SharePoint", 15),
        ),
        requests=(
            ask(
                "I get 'access denied' when I try to open the {folder} folder on the {share}. I "
                "had access before.",
                "Permission denied on shared drive",
                "Access to {folder} folder",
            ),
            ask(
                "Please give {user} read/write access to the {folder} folder on the {share}.",
                "Need access to {folder} folder for {user}",
            ),
            ask(
                "My S: drive disappeared from This PC after the restart.",
                "Mapped drive missing",
                "Can't open folder on S drive",
            ),
            ask(
                "The Excel file on the shared drive says it's locked for editing by {other} but "
                "they don't have it open.",
                "File locked by another user",
            ),
            ask(
                "Please remove {user}'s access to the HR folder, they moved departments.",
                "Remove {user} access to HR folder",
            ),
        ),
        notes=(
            "Added user to security group for folder, logoff/logon required.",
            "Re-mapped drive via GPO, gpupdate.",
            "Closed open file handle on FS01.",
            "Restored NTFS inheritance on folder.",
        ),
        team=MID_TEAM,
    ),
    Category(
        key="teams_sharepoint",
        share=3.0,
        median_minutes=20,
        sigma=0.65,
        labels=(("Teams", 45), ("SharePoint", 35), ("O365", 20)),
        requests=(
            ask(
                "Teams is stuck on the loading screen with the spinning circle.",
                "Teams not loading",
            ),
            ask(
                "Please add {user} to the {team} team in Teams and the SharePoint site.",
                "Add {user} to {team} team",
            ),
            ask(
                "When I join Teams meetings nobody can hear me. Mic works in other apps.",
                "Teams audio not working",
                "Can't join Teams meeting",
            ),
            ask(
                "The SharePoint library {team} is not syncing to my computer, shows a red X on "
                "files.",
                "SharePoint library not syncing",
            ),
            ask(
                "Can you create a new Teams channel and SharePoint site for the {dept} group?",
                "Create a Teams channel for {dept}",
            ),
            ask(
                "I get 'you need permission to access this site' on the {team} SharePoint site.",
                "SharePoint site access",
            ),
        ),
        notes=(
            "Cleared Teams cache, reinstalled new Teams client.",
            "Added to Team as member, SharePoint perms inherited.",
            "Reset OneDrive sync, relinked library.",
            "Created channel + site per request.",
        ),
        team=MID_TEAM,
    ),
    Category(
        key="billing_quote",
        share=2.5,
        median_minutes=15,
        sigma=0.6,
        labels=(("Billing", 60), ("Quote", 25), ("Invoice", 15)),
        requests=(
            ask(
                "We received invoice {invoice} and there are charges for onsite visits I don't "
                "recognise. Can you send me the breakdown?",
                "Question about invoice {invoice}",
                "Invoice {invoice} - hours?",
                "Why was I charged for onsite?",
            ),
            ask(
                "Please send a quote for {count} new laptops for the {dept} team, similar to what "
                "we bought last time.",
                "Quote for new laptops",
                "Need a quote for {count} new computers",
            ),
            ask(
                "Can you update our billing contact to {cfull} ({cemail})?",
                "Update billing contact",
            ),
            ask(
                "Our invoice went up this month. Can you explain the increase in Microsoft 365 "
                "charges?",
                "Billing question",
            ),
            ask(
                "Need a quote to replace the {printer} and the firewall. Budget meeting on {when}.",
                "Quote request",
            ),
        ),
        notes=(
            "Sent invoice breakdown to client.",
            "Prepared quote, sent for approval.",
            "Updated billing contact in PSA.",
            "Explained M365 price change, CSP renewal.",
        ),
        team=(10.0, 40.0, 50.0),
        labour_types=ADMIN,
        priorities=P_LOW,
    ),
    Category(
        key="vendor_escalation",
        share=2.0,
        median_minutes=80,
        sigma=0.8,
        labels=(
            ("Vendor", 40),
            ("Escalation", 20),
            ("3rd Party", 20),
            ("ISP", 10),
            ("Network", 10),
        ),
        requests=(
            ask(
                "Can you call {vendor} for us about the {issue}? They keep telling us to contact "
                "our IT provider.",
                "Call {vendor} about the {issue}",
                "Need you to deal with {vendor} for us",
                "Escalate to {vendor} - {issue}",
            ),
            ask(
                "{isp} says there's no problem on their end but our internet has been dropping "
                "for a week. Please open a case and escalate.",
                "ISP circuit issue - {isp}",
                "Open case with {isp}",
            ),
            ask(
                "The {lob} vendor needs someone from IT on a call to upgrade the database server. "
                "They proposed {when} at {time}.",
                "{lob} upgrade - vendor needs IT",
                "{lob} vendor call",
            ),
            ask(
                "Our phone provider is porting our numbers and needs our IT to update the "
                "firewall settings. Can you coordinate with them?",
                "Phone provider porting issue",
            ),
            ask(
                "Please work with Dell on the warranty claim for the {device}, case number {case}.",
                "Dell warranty claim - {device}",
                "Open case with Dell",
            ),
        ),
        notes=(
            "On hold with vendor 45 min, case opened.",
            "Joint session with vendor, upgraded DB server.",
            "Vendor escalated to tier 2, awaiting callback.",
            "Coordinated with ISP, circuit tested clean from their side, monitoring.",
            "Provided firewall config to VoIP provider.",
        ),
        split=LONG_SPLIT,
        team=SENIOR_TEAM,
        labour_types=PROJECT,
        priorities=P_HIGH,
    ),
    # The expensive theme hiding in "Other": a line-of-business EHR that keeps breaking.
    Category(
        key="other:lob_ehr_sync",
        share=1.0,
        median_minutes=180,
        sigma=0.6,
        labels=(("Software", 70), ("Application", 20), ("LOB App", 10)),
        requests=(
            ask(
                "OpalChart is showing 'Sync failed: {ehr_error}' on all front desk computers. "
                "Today's appointments are missing.",
                *EHR_SUBJECTS,
            ),
            ask(
                "OpalChart crashed again when saving a chart and now the server sync is stuck. "
                "This is the third time this month.",
                *EHR_SUBJECTS,
            ),
            ask(
                "The OpalChart imaging bridge stopped syncing with the server overnight. X-rays "
                "from this morning aren't showing in patient charts.",
                *EHR_SUBJECTS,
            ),
            ask(
                "Front desk can't check patients in, OpalChart freezes on 'Synchronizing...'. "
                "We're working on paper right now.",
                *EHR_SUBJECTS,
            ),
            ask(
                "OpalChart sync is really slow and the schedule doesn't update between "
                "workstations at the {site}.",
                *EHR_SUBJECTS,
            ),
        ),
        notes=(
            "OpalChart sync service hung, restarted service and rebuilt index.",
            "Worked with OpalChart support, database repair ran long.",
            "Re-registered imaging bridge, re-synced today's images.",
            "Cleared sync queue, 3 workstations reconnected.",
            "Applied OpalChart patch from vendor, monitoring.",
        ),
        split=LONG_SPLIT,
        team=SENIOR_TEAM,
        priorities=P_HIGH,
        vague_share=0.85,
        industries=HEALTHCARE,
    ),
)

ODD_NOTES = (
    "Looked into it, not a standard service, advised client.",
    "Onsite, checked device, see notes.",
    "Contacted the device vendor on client's behalf.",
)
ODD_LABELS: Weighted = (("Hardware", 30), ("Facilities", 20), ("Website", 15), ("Vendor", 35))
# (key, median minutes, requests, industries): one-offs that fit no helpdesk category.
ODD_THEMES: tuple[tuple[str, float, tuple[Request, ...], tuple[str, ...]], ...] = (
    ("projector", 30, (
        ask("The projector in the boardroom shows 'no signal' with every laptop. Meeting at "
            "{time}.", "Boardroom projector not working",
            "Projector won't connect in conference room"),
    ), ()),
    ("coffee_machine", 20, (
        ask("The new coffee machine in the kitchen has an app and wants the wifi password. Is "
            "that ok?", "Coffee machine wants to join wifi",
            "Can the new coffee machine go on the network?"),
    ), ()),
    ("website_ssl", 45, (
        ask("Customers say our website shows a certificate warning. Can you renew the SSL "
            "certificate with the web host?", "Website SSL certificate expired",
            "Our website shows 'not secure'"),
    ), ()),
    ("vendor_portal_edi", 25, (
        ask("The monthly EDI file upload to the SupplierLink portal was rejected again with "
            "'schema mismatch'. Same as last month.", "SupplierLink EDI upload rejected",
            "Monthly SupplierLink portal upload failing"),
    ), ("manufacturing",)),
    ("door_access", 20, (
        ask("The badge reader on the back door blinks red for everyone since this morning.",
            "Door badge reader not working"),
        ask("We have a new cleaning company starting. Can you add 2 door fobs for them?",
            "Add fobs for new cleaners"),
    ), ()),
    ("cctv", 40, (
        ask("The security camera recorder shows no video from camera 3 since last week.",
            "Camera system not recording", "NVR shows no video on camera 3"),
    ), ()),
    ("lobby_tv", 20, (
        ask("The TV in the waiting room is stuck on the input screen, the slideshow stick is "
            "not showing.", "Lobby TV not showing slideshow"),
    ), ()),
    ("domain_renewal", 15, (
        ask("Got a letter saying our domain name expires next month. Do you handle that or do "
            "we?", "Do we need to renew our domain?"),
    ), ()),
    ("personal_device", 25, (
        ask("Not a work thing - my son's laptop at home is really slow. Could someone take a "
            "look if I bring it in?", "Can you look at my home computer?",
            "Kid's laptop question"),
    ), ()),
    ("thermostat", 20, (
        ask("The smart thermostat in the office dropped off and the app can't find it. "
            "Facilities says it's an IT thing.", "Thermostat app can't find the unit"),
    ), ()),
)  # fmt: skip


def odd_categories() -> tuple[Category, ...]:
    """The one-off remainder themes as categories sharing 2.5% of tickets."""
    return tuple(
        Category(
            key=f"other:{key}",
            share=2.5 / len(ODD_THEMES),
            median_minutes=median,
            sigma=0.7,
            labels=ODD_LABELS,
            requests=requests,
            notes=ODD_NOTES,
            labour_types=HANDS_ON,
            priorities=P_LOW,
            vague_share=0.8,
            industries=industries,
        )
        for key, median, requests, industries in ODD_THEMES
    )


ALL_CATEGORIES = CATEGORIES + odd_categories()

VAGUE_LABELS: Weighted = (("Other", 82), ("General", 7), ("Misc", 5), ("", 6))
FOLLOW_UP_NOTES = (
    "Followed up with {cfirst}, confirmed working.",
    "Left voicemail for {cfirst}, emailed steps.",
    "Waiting on customer reply.",
    "Checked in with user, all good. Closing.",
    'User says "still broken", remote session scheduled for tomorrow.',
    "Documented fix in client notes.",
    "Called, no answer. Sent follow-up email, will close in 3 days if no reply.",
)
NEWLINE_NOTE_TAILS = (
    "Next time: check saved creds on the phone first.",
    "Steps documented in the client notes, see KB.",
)
