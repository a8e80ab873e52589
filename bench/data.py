# SPDX-License-Identifier: GPL-3.0-or-later
"""A repeatable, realistic partner directory: agencies, contacts, contact methods and queries."""
from __future__ import annotations

import random
import re
import unicodedata
import uuid
from dataclasses import dataclass, field

from fieldcoord.core.ids import agency_id

FIRST = (
    "James", "Mary", "Robert", "Patricia", "John", "Jennifer", "Michael", "Linda", "David",
    "Elizabeth", "William", "Barbara", "Richard", "Susan", "Joseph", "Jessica", "Thomas", "Sarah",
    "Charles", "Karen", "Christopher", "Lisa", "Daniel", "Nancy", "Matthew", "Betty", "Anthony",
    "Margaret", "Mark", "Sandra", "Donald", "Ashley", "Steven", "Kimberly", "Paul", "Emily",
    "Andrew", "Donna", "Joshua", "Michelle", "Kenneth", "Carol", "Kevin", "Amanda", "Brian",
    "Melissa", "George", "Deborah", "Timothy", "Stephanie", "Ronald", "Rebecca", "Jason", "Laura",
    "Edward", "Sharon", "Jeffrey", "Cynthia", "Ryan", "Kathleen", "Jacob", "Amy", "Gary", "Angela",
    "Nicholas", "Shirley", "Eric", "Anna", "Jonathan", "Brenda", "Stephen", "Pamela", "Larry",
    "Emma", "Justin", "Nicole", "Scott", "Helen", "Brandon", "Samantha", "Benjamin", "Katherine",
    "Samuel", "Christine", "Raymond", "Debra", "Gregory", "Rachel", "Frank", "Carolyn", "Tyrone",
    "Keisha", "DeShawn", "Latoya", "Hiroshi", "Mei", "Wei", "Priya", "Arjun", "Aaliyah", "Omar",
    "Fatima", "Tuan", "Linh", "Dmitri", "Olga", "Kwame", "Ngozi", "Sione", "Leilani", "Kai",
    # accented first names
    "José", "María", "Jesús", "Raúl", "Sofía", "Andrés", "Héctor", "Inés", "Ramón", "Lucía",
    "Joaquín", "Verónica", "Zoë", "Chloé", "Renée", "André", "Noémie", "Hélène", "François",
    "Jürgen", "Björn", "Günther", "Zoé", "Agustín", "Dolores", "Ángel", "Mónica", "Germán",
    "Thảo", "Nguyệt", "Sørina", "Çağla",
)
LAST = (
    "Smith", "Johnson", "Williams", "Brown", "Jones", "Miller", "Davis", "Wilson", "Anderson",
    "Taylor", "Thomas", "Moore", "Jackson", "Martin", "Lee", "Thompson", "White", "Harris",
    "Clark", "Lewis", "Robinson", "Walker", "Young", "Allen", "King", "Wright", "Scott", "Hill",
    "Green", "Adams", "Baker", "Nelson", "Carter", "Mitchell", "Roberts", "Turner", "Phillips",
    "Campbell", "Parker", "Evans", "Edwards", "Collins", "Stewart", "Morris", "Murphy", "Cook",
    "Rogers", "Morgan", "Peterson", "Cooper", "Reed", "Bailey", "Bell", "Kelly", "Howard", "Ward",
    "Cox", "Richardson", "Wood", "Watson", "Brooks", "Bennett", "Gray", "James", "Hughes", "Price",
    "Sanders", "Myers", "Long", "Ross", "Foster", "Powell", "Jenkins", "Perry", "Russell",
    "Sullivan", "Fisher", "Henderson", "Coleman", "Simmons", "Patterson", "Jordan", "Reynolds",
    "Hamilton", "Graham", "Kim", "Nguyen", "Tran", "Chen", "Wang", "Patel", "Singh", "Khan",
    "Okafor", "Mensah", "Kowalski", "Novak", "Ivanov", "O'Brien", "McCarthy", "Fitzgerald",
    "Yazzie", "Begay", "Kahananui", "Tanaka", "Yamamoto", "Haddad", "Rossi", "Schmidt",
    "Lopez", "Gonzales", "Rivera", "Torres", "Ramirez", "Flores", "Cruz", "Reyes", "Morales",
    # accented last names
    "García", "Martínez", "Hernández", "Pérez", "Sánchez", "Gómez", "Díaz", "Rodríguez",
    "González", "Fernández", "Jiménez", "Álvarez", "Núñez", "Peña", "Ibáñez", "Muñoz", "Castañeda",
    "Ortíz", "Vásquez", "Méndez", "Suárez", "Domínguez", "Müller", "Schröder", "Östberg",
    "Lefèvre", "Béranger", "Dubois-Crémieux", "Brontë", "Çelik", "Šimek", "Dvořák", "Nguyễn",
    "Lê", "Phạm", "Søndergaard", "Håkansson", "Løvland",
)
TITLES = (
    "Fire Chief", "Deputy Chief", "Battalion Chief", "Captain", "Lieutenant", "Engineer",
    "Firefighter/Paramedic", "Sergeant", "Patrol Deputy", "Undersheriff", "Detective",
    "Emergency Manager", "Deputy Emergency Manager", "Planning Section Chief",
    "Logistics Section Chief", "Operations Section Chief", "Public Information Officer",
    "Liaison Officer", "Safety Officer", "Communications Unit Leader", "Dispatch Supervisor",
    "Telecommunicator", "EMS Coordinator", "Medical Director", "Paramedic", "EMT",
    "Hospital Emergency Coordinator", "Public Health Preparedness Coordinator",
    "Epidemiologist", "Public Works Superintendent", "Road Supervisor", "Water Operations Manager",
    "Shelter Manager", "Volunteer Coordinator", "ARES Emergency Coordinator", "GIS Analyst",
    "Duty Officer", "Watch Commander", "Training Officer", "Fire Marshal",
)
PLACES = (
    "Adams", "Alameda", "Albany", "Allegheny", "Amarillo", "Anchorage", "Apache", "Arapahoe",
    "Ashland", "Austin", "Bakersfield", "Baldwin", "Bannock", "Barnstable", "Baton Rouge",
    "Bay", "Beaufort", "Bellingham", "Benton", "Bergen", "Bernalillo", "Billings", "Boise",
    "Boone", "Boulder", "Bozeman", "Brazos", "Brevard", "Bristol", "Broward", "Brown", "Bucks",
    "Buncombe", "Burleigh", "Butte", "Cache", "Caddo", "Calhoun", "Cameron", "Canyon", "Carbon",
    "Carson City", "Cascade", "Cass", "Cedar", "Centre", "Champaign", "Charleston", "Chatham",
    "Chelan", "Cherokee", "Cheyenne", "Chittenden", "Clackamas", "Clark", "Clay", "Clinton",
    "Cochise", "Coconino", "Collier", "Columbia", "Contra Costa", "Coos", "Cowlitz", "Crook",
    "Cumberland", "Dakota", "Dane", "Dauphin", "Davidson", "Davis", "Deschutes", "Douglas",
    "DuPage", "Durham", "Eagle", "El Paso", "Elko", "Erie", "Essex", "Eureka", "Fairfax",
    "Fargo", "Fayette", "Flagstaff", "Franklin", "Fresno", "Fulton", "Gallatin", "Garfield",
    "Genesee", "Gila", "Grand Forks", "Grant", "Greene", "Greenville", "Gunnison", "Hamilton",
    "Harris", "Harrison", "Hidalgo", "Hillsborough", "Honolulu", "Humboldt", "Idaho Falls",
    "Imperial", "Jackson", "Jefferson", "Johnson", "Juneau", "Kanawha", "Kane", "Kauai", "Kent",
    "Kern", "King", "Kitsap", "Klamath", "Knox", "Kootenai", "La Plata", "Lafayette", "Lake",
    "Lancaster", "Lane", "Laramie", "Larimer", "Las Animas", "Lewis", "Lincoln", "Linn",
    "Livingston", "Logan", "Lubbock", "Lucas", "Madison", "Maricopa", "Marin", "Marion",
    "Mendocino", "Merced", "Mesa", "Miami-Dade", "Missoula", "Mohave", "Monroe", "Monterey",
    "Montgomery", "Multnomah", "Napa", "Nassau", "Navajo", "Nevada", "New Castle", "Nez Perce",
    "Norfolk", "Nueces", "Oakland", "Ocean", "Okanogan", "Onondaga", "Orange", "Osceola",
    "Otero", "Ouray", "Pacific", "Palm Beach", "Pend Oreille", "Penobscot", "Pierce", "Pima",
    "Pinal", "Placer", "Plumas", "Polk", "Pueblo", "Putnam", "Racine", "Ramsey", "Randall",
    "Rapid City", "Richland", "Riverside", "Routt", "Sacramento", "Saline", "Salt Lake",
    "San Juan", "San Mateo", "Santa Cruz", "Sarasota", "Sarpy", "Scott", "Sedgwick", "Shasta",
    "Shelby", "Skagit", "Snohomish", "Sonoma", "Spokane", "Stanislaus", "Story", "Suffolk",
    "Summit", "Tarrant", "Teton", "Thurston", "Tooele", "Travis", "Tulare", "Tuolumne", "Uintah",
    "Union", "Utah", "Ventura", "Volusia", "Wake", "Walla Walla", "Warren", "Washoe",
    "Washtenaw", "Wayne", "Weber", "Weld", "Whatcom", "Whitman", "Will", "Yakima", "Yavapai",
    "Yellowstone", "Yolo", "Yuma",
    # accented place names
    "San José", "Cañon City", "Española", "Doña Ana", "Peñasco", "Coeur d'Alène", "Año Nuevo",
    "Bosque Fariña", "Río Arriba", "Mesa Verde Peñitas", "Lac Qui Parle", "Château Ridge",
)
STATES = ("AK", "AZ", "CA", "CO", "FL", "HI", "ID", "IL", "KS", "LA", "ME", "MI", "MN", "MT",
          "NC", "ND", "NE", "NM", "NV", "NY", "OH", "OK", "OR", "PA", "SD", "TX", "UT", "VA",
          "WA", "WI", "WY")
# (name pattern, code suffix, level, discipline); {p} is the place, {n} a district number.
AGENCY_TEMPLATES = (
    ("{p} Fire Department", "FD", "local", "fire"),
    ("{p} County Fire Protection District {n}", "FPD", "local", "fire"),
    ("{p} Police Department", "PD", "local", "law_enforcement"),
    ("{p} County Sheriff's Office", "SO", "local", "law_enforcement"),
    ("{p} County Emergency Medical Services", "EMS", "local", "ems"),
    ("{p} Ambulance District {n}", "AD", "local", "ems"),
    ("{p} County Office of Emergency Management", "OEM", "local", "emergency_management"),
    ("{p} County Public Health", "PH", "local", "public_health"),
    ("{p} Public Works", "PW", "local", "public_works"),
    ("{p} Water and Sewer District {n}", "WSD", "local", "utilities"),
    ("{p} Regional Medical Center", "RMC", "private", "hospital"),
    ("{p} County ARES", "ARES", "community", "volunteer"),
    ("American Red Cross {p} Chapter", "ARC", "ngo", "volunteer"),
    ("{p} Search and Rescue", "SAR", "community", "volunteer"),
    ("{p} Tribal Police", "TP", "tribal", "law_enforcement"),
)
# Real US area codes; the 555-0100..0199 block is reserved for fiction in every one of them.
AREA_CODES = tuple(int(a) for a in """
201 202 203 205 206 207 208 209 210 212 213 214 215 216 217 218 219 224 225 228 229 231 234 239
240 248 251 252 253 254 256 260 262 267 269 270 276 281 301 302 303 304 305 307 308 309 310 312
313 314 315 316 317 318 319 320 321 323 325 330 334 336 337 339 347 351 352 360 361 385 386 401
402 404 405 406 407 408 409 410 412 413 414 415 417 419 423 424 425 430 432 434 435 440 443 458
469 470 475 478 479 480 484 501 502 503 504 505 507 508 509 510 512 513 515 516 517 518 520 530
540 541 551 559 561 562 563 567 570 571 573 574 575 580 585 586 601 602 603 605 606 607 608 609
610 612 614 615 616 617 618 619 620 623 626 630 631 636 641 646 650 651 660 661 662 678 682 701
702 703 704 706 707 708 712 713 714 715 716 717 718 719 720 724 727 731 732 734 740 754 757 760
763 765 770 772 773 774 775 781 785 786 801 802 803 804 805 806 808 810 812 813 814 815 816 817
818 828 830 831 832 843 845 847 848 850 856 857 858 859 860 862 863 864 865 870 901 903 904 906
907 908 909 910 912 913 914 915 916 917 918 919 920 925 928 931 936 937 940 941 949 951 952 954
956 970 971 972 973 978 979 980 985 989""".split())
PHONE_FORMATS = ("({a}) 555-{l}", "{a}-555-{l}", "{a}.555.{l}", "{a}555{l}", "+1 {a} 555 {l}",
                 "+1{a}555{l}", "{a} 555 {l}", "1-{a}-555-{l}", "({a}) 555-{l} x{x}")
UNIT_WORDS = ("Engine", "Medic", "Truck", "Battalion", "Rescue", "Squad", "Brush", "Tender",
              "Car", "Adam", "Unit", "Command", "Air")


def fold(text: str) -> str:
    """Lowercase ASCII-ish spelling without accents (what people type on a laptop keyboard)."""
    nfkd = unicodedata.normalize("NFKD", text)
    return "".join(c for c in nfkd if not unicodedata.combining(c)).lower()


def _initials(place: str) -> str:
    words = re.findall(r"[A-Za-z]+", fold(place).replace("'", ""))
    if len(words) == 1:
        return words[0][:3].upper()
    return "".join(w[0] for w in words[:3]).upper()


@dataclass
class Agency:
    id: str
    name: str
    code: str
    level: str
    discipline: str
    jurisdiction: str
    domain: str
    phone: str
    phone_id: str


@dataclass
class Contact:
    id: str
    name: str
    agency: Agency
    title: str
    methods: list = field(default_factory=list)   # (id, kind, value)

    def store_values(self) -> dict:
        """The values for store.add("contact", ...): methods as shortcut keys."""
        out = {"name": self.name, "agency": self.agency.code, "title": self.title}
        for _, kind, value in self.methods:
            if kind in ("phone", "mobile"):
                out.setdefault(kind, []).append(value)
            else:
                out[kind] = value
        return out


@dataclass
class Directory:
    agencies: list
    contacts: list

    @property
    def methods(self) -> int:
        return len(self.agencies) + sum(len(c.methods) for c in self.contacts)


def _uid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def phone(rng: random.Random) -> str:
    fmt = rng.choices(PHONE_FORMATS, weights=(24, 20, 8, 8, 10, 6, 10, 6, 8))[0]
    return fmt.format(a=rng.choice(AREA_CODES), l=f"01{rng.randrange(100):02d}",
                      x=rng.randrange(100, 9999))


def call_sign(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.55:
        return f"{rng.choice(UNIT_WORDS)} {rng.randrange(1, 120)}"
    if r < 0.8:
        letters = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
        suffix = "".join(rng.choice(letters) for _ in range(rng.choice((2, 3))))
        return f"{rng.choice('KNW')}{rng.choice(letters)}{rng.randrange(10)}{suffix}"
    return f"{rng.randrange(1, 9)}{rng.choice('ABCDEFGHKLMNPRS')}{rng.randrange(1, 99)}"


def agencies(rng: random.Random, n: int) -> list[Agency]:
    out, names, codes = [], set(), set()
    while len(out) < n:
        place = rng.choice(PLACES)
        pattern, suffix, level, discipline = rng.choice(AGENCY_TEMPLATES)
        number = rng.randrange(1, 40)
        name = pattern.format(p=place, n=number)
        if name in names:
            continue
        base = _initials(place) + suffix + (str(number) if "{n}" in pattern else "")
        code, k = base[:12], 2
        while code in codes:
            code = f"{base[:9]}-{k}"
            k += 1
        names.add(name)
        codes.add(code)
        domain = code.lower().replace("-", "") + rng.choice((".gov", ".gov", ".org", ".us"))
        out.append(Agency(agency_id(code), name, code, level, discipline,
                          f"{place}, {rng.choice(STATES)}", domain, phone(rng), _uid(rng)))
    return out


def contact(rng: random.Random, agency_pool: list[Agency]) -> Contact:
    first, last = rng.choice(FIRST), rng.choice(LAST)
    middle = f" {rng.choice('ABCDEFGHJKLMNPRSTW')}." if rng.random() < 0.25 else ""
    c = Contact(_uid(rng), f"{first}{middle} {last}", rng.choice(agency_pool), rng.choice(TITLES))
    c.methods.append((_uid(rng), "phone", phone(rng)))
    extra = rng.sample(("mobile", "email", "email", "call_sign"), rng.choice((1, 1, 2)))
    for kind in dict.fromkeys(extra):
        if kind == "mobile":
            value = phone(rng)
        elif kind == "email":
            local = fold(f"{first}.{last}").replace("'", "").replace(" ", "")
            if rng.random() < 0.3:
                local = fold(first[0] + last).replace("'", "").replace(" ", "")
            value = f"{local}@{c.agency.domain}"
        else:
            value = call_sign(rng)
        c.methods.append((_uid(rng), kind, value))
    return c


def directory(n_contacts: int, n_agencies: int, seed: int) -> Directory:
    rng = random.Random(seed)
    ags = agencies(rng, n_agencies)
    return Directory(ags, [contact(rng, ags) for _ in range(n_contacts)])


def new_contacts(d: Directory, n: int, seed: int) -> list[Contact]:
    """More contacts for agencies of the directory (for single-record write tests)."""
    rng = random.Random(seed)
    return [contact(rng, d.agencies) for _ in range(n)]


def _digits_query(rng: random.Random, value: str) -> str:
    d = re.sub(r"\D", "", value.split("x")[0])[-10:]
    a, x, line = d[:3], d[3:6], d[6:]
    return rng.choice((f"{x} {line}", f"{x}-{line}", f"{x} {line}", f"({a}) {x}-{line}",
                       f"{a}-{x}-{line}", f"{a}{x}{line}", f"{a} {x} {line}", f"{x}{line}",
                       f"{line}"))


def queries(d: Directory, n: int, seed: int) -> list[tuple[str, str]]:
    """n (category, text) pairs a liaison would type, drawn from the directory."""
    rng = random.Random(seed)
    accented = [c for c in d.contacts if fold(c.name) != c.name.lower()]
    mix = (("name prefix", 30), ("accent-less", 15), ("agency", 15), ("phone", 20),
           ("email", 10), ("call sign", 10))
    cats = rng.choices([m[0] for m in mix], weights=[m[1] for m in mix], k=n)
    having = {kind: [c for c in d.contacts if any(k == kind for _, k, _ in c.methods)]
              for kind in ("email", "call_sign")}
    out = []
    for cat in cats:
        pool = having.get(cat.replace(" ", "_")) or d.contacts
        c = rng.choice(pool)
        words = c.name.replace(".", "").split()
        first, last = words[0], words[-1]
        if cat == "name prefix":
            r = rng.random()
            if r < 0.4:
                q = f"{first} {last[:rng.randrange(1, len(last) + 1)]}"
            else:
                word = last if r < 0.7 else first
                q = word[:rng.randrange(min(3, len(word)), len(word) + 1)]
        elif cat == "accent-less":
            c = rng.choice(accented) if accented else c
            words = c.name.replace(".", "").split()
            first, last = words[0], words[-1]
            word = next((w for w in words if fold(w) != w.lower()), last)
            partial = f"{first} {last[:4]}" if word == first else f"{first[:3]} {last}"
            q = fold(rng.choice((f"{first} {last}", word, word[:max(4, len(word) - 2)], partial)))
        elif cat == "agency":
            a = c.agency
            r = rng.random()
            if r < 0.3:
                q = a.code.lower() if rng.random() < 0.5 else a.code
            else:
                ws = re.findall(r"[\w']+", a.name)
                k = rng.randrange(1, min(4, len(ws)) + 1)
                start = rng.randrange(0, len(ws) - k + 1)
                q = " ".join(ws[start:start + k])
                if rng.random() < 0.5:
                    q = fold(q)
        elif cat == "phone":
            phones = [v for _, k, v in c.methods if k in ("phone", "mobile")]
            q = _digits_query(rng, rng.choice(phones))
        elif cat == "email":
            e = next(v for _, k, v in c.methods if k == "email")
            q = rng.choice((e, e.split("@")[0], e[:rng.randrange(4, len(e))]))
        else:
            s = next(v for _, k, v in c.methods if k == "call_sign")
            q = s.lower() if rng.random() < 0.5 else s
        out.append((cat, q))
    return out
