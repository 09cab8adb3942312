"""Where an address is, by the Philippine Standard Geographic Code (PSGC).

The PSA's list (the Q1 2026 release, as the ``psgc`` package ships it offline) names every
region, province, city, municipality, Manila's sub-municipalities and all 42,010 barangays,
each with a 10-digit code whose first two digits are its region's. ``locate`` takes the
barangay, city or municipality and province as people type them and answers the official
places with their codes, or the problems, one per field, each with the nearest official
names to offer ("did you mean Malanday?").

How people type names is forgiven; a wrong name is not:
- case, spacing, punctuation and accents do not matter ("STO. NIÑO" is "Santo Niño"); the
  words "Barangay"/"Brgy."/"Bgy.", "City of", "City", "Municipality of", "Province" are not
  needed ("Marikina" is "City of Marikina", "Quezon Province" is "Quezon"); "Sto."/"Sta."/
  "Gen." are "Santo"/"Santa"/"General"; numbers may be digits, Roman or Spanish words
  ("Concepcion 1" is "Concepcion Uno"); a parenthesised part of an official name may be left
  out ("San Isidro" for "San Isidro (Jaro)", when only one San Isidro is in that city);
  former names the list records ("Compostela Valley") and a few names everyone uses ("QC",
  "CDO", "GenSan") are known.
- a misspelled name ("Malandy") is refused with the nearest names as suggestions, never
  silently corrected: a parcel sent to the wrong barangay costs more than a second look.
- the barangay must be in that city or municipality, and the city in that province.

No province (decided here): Metro Manila (NCR) has no province in the PSGC, and neither has
an independent city (Baguio, Cebu City, Davao City, …: the list groups each under a pseudo
"province" of its own). For them the province may be left empty or name the region ("Metro
Manila", "NCR") or, for an independent city, the province it lies in as people write it
("Baguio City, Benguet"); the stored province code is then null, and the region code says
where it is. The province shown is "Metro Manila" for NCR, else what was typed, officially
spelled.

Postal codes: PHLPost's list in the package is incomplete and loosely spelled ("Markina
City"); a postal code that the list ties to exactly one city or municipality must be that
one's, any other four digits pass (the data cannot tell).

Delivery zones read the codes (``Codes``; ``region_of``, ``province_or_city_of``): a zone
is a set of regions, provinces (or independent cities) and cities, compared by code.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from rapidfuzz import fuzz, process

#: The edition of the list this module reads (``psgc`` package, pinned in pyproject.toml).
EDITION = "PSGC Q1 2026"
NCR = "1300000000"
#: How many names a problem offers; how close a name must be to be offered (0-100).
SUGGESTIONS = 3
_CUTOFF = 60.0
#: How close a postal code list's spelling of a city must be to count as that city.
_ZIP_CITY_SCORE = 88.0

_WORDS = {
    "sto": "santo",
    "sta": "santa",
    "sn": "san",
    "gen": "general",
    "pres": "presidente",
    "pob": "poblacion",
    "ext": "extension",
    "st": "saint",
    "nstra": "nuestra",
    "sr": "senor",
    "n": "north",
    "s": "south",
    "e": "east",
    "w": "west",
}
_NUMBERS = {
    "uno": "1",
    "una": "1",
    "one": "1",
    "i": "1",
    "dos": "2",
    "two": "2",
    "ii": "2",
    "tres": "3",
    "three": "3",
    "iii": "3",
    "cuatro": "4",
    "kuwatro": "4",
    "four": "4",
    "iv": "4",
    "cinco": "5",
    "singko": "5",
    "five": "5",
    "v": "5",
    "seis": "6",
    "six": "6",
    "vi": "6",
    "siete": "7",
    "seven": "7",
    "vii": "7",
    "ocho": "8",
    "eight": "8",
    "viii": "8",
    "nueve": "9",
    "nine": "9",
    "ix": "9",
    "diez": "10",
    "ten": "10",
    "x": "10",
}
_LEVEL_WORDS = {
    "barangay": {"barangay", "brgy", "bgy", "brg", "bgry", "baranggay"},
    "city": {"city", "of", "municipality", "mun", "town"},
    "province": {"province", "prov", "of", "lalawigan", "ng"},
}
#: Names everyone uses that the list does not hold (normalised key → official code).
_CITY_NICKNAMES = {
    "qc": "1381300000",  # Quezon City
    "cdo": "1030500000",  # City of Cagayan De Oro
    "gensan": "1230800000",  # City of General Santos
    "lapulapu": "0731100000",  # City of Lapu-Lapu, typed as one word
}
_REGION_WORDS = {
    NCR: {"metromanila", "ncr", "nationalcapitalregion", "kalakhangmaynila", "mm", "manila"},
}


@dataclass(frozen=True, slots=True)
class Codes:
    """The PSGC codes of an address (``province`` None: NCR or an independent city)."""

    barangay: str
    city: str
    province: str | None
    region: str

    def as_dict(self) -> dict[str, str | None]:
        return {
            "barangay_code": self.barangay,
            "city_code": self.city,
            "province_code": self.province,
            "region_code": self.region,
        }


@dataclass(frozen=True, slots=True)
class Place:
    """The official names of a located address, and their codes."""

    barangay: str
    city: str
    province: str  # "Metro Manila" in NCR; "" for an independent city typed without one
    codes: Codes


@dataclass(frozen=True, slots=True)
class Miss:
    """A place field that names no official place (``suggestions``: the nearest names)."""

    field: str  # barangay, city, province or postal_code
    code: str  # a refusal code: barangay_unknown, city_unknown, …
    message: str
    suggestions: tuple[str, ...] = ()


def region_of(code: str) -> str:
    """The region's code of any PSGC code (barangay, city, province or region)."""
    if not re.fullmatch(r"[0-9]{10}", code):
        raise ValueError(f"a PSGC code is ten digits, not {code!r}")
    return code[:2] + "00000000"


def province_or_city_of(codes: Codes) -> str:
    """The province's code, or the city's where there is none (NCR, independent cities):
    the unit a delivery zone below the region is usually drawn with."""
    return codes.province or codes.city


def region_name(code: str) -> str:
    return _data().regions[region_of(code)]


def key(text: str, level: str = "") -> str:
    """A name as compared here: no accents, case, punctuation or spaces, level words out."""
    return "".join(_tokens(text, level))


def _tokens(text: str, level: str = "") -> list[str]:
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in plain if not unicodedata.combining(ch)).lower()
    words = re.findall(r"[a-z0-9]+", plain)
    drop = _LEVEL_WORDS.get(level, set())
    out = []
    for word in words:
        if word in drop:
            continue
        word = _WORDS.get(word, word)
        out.append(_NUMBERS.get(word, word))
    # "Barangay 12" keeps its number; a name that was only level words keeps them
    return out or [_NUMBERS.get(w, w) for w in words]


def _short(name: str) -> str:
    """The name without a parenthesised part: "San Isidro (Jaro)" → "San Isidro"."""
    return re.sub(r"\s*\([^)]*\)", "", name).strip()


@dataclass(frozen=True, slots=True)
class _Area:
    code: str
    name: str
    parent: str  # a city's province (pseudo for NCR/independent), a barangay's city
    level: str = ""


class _Data:
    """The list, indexed by normalised names (loaded once per process, on first use: 3-5 s
    on a busy 2-core machine, about 100 MB resident)."""

    def __init__(self, raw: dict[str, Any]) -> None:
        self.regions: dict[str, str] = {r["psgc_code"]: r["name"] for r in raw["regions"]}
        self.provinces: dict[str, _Area] = {}
        self.pseudo: set[str] = set()
        self.province_keys: dict[str, set[str]] = defaultdict(set)
        for p in raw["provinces"]:
            area = _Area(p["psgc_code"], p["name"], p["region_code"])
            self.provinces[area.code] = area
            if p.get("is_pseudo"):
                self.pseudo.add(area.code)
                continue
            for name in (p["name"], p.get("old_names") or ""):
                if name:
                    self.province_keys[key(name, "province")].add(area.code)
        self.cities: dict[str, _Area] = {}
        self.city_keys: dict[str, set[str]] = defaultdict(set)
        self.sub_of: dict[str, str] = {}  # a sub-municipality → its city (Manila's districts)
        for c in raw["cities"]:
            area = _Area(c["psgc_code"], c["name"], c["province_code"], c["geographic_level"])
            self.cities[area.code] = area
        for area in self.cities.values():
            target = area.code
            if area.level == "SubMun":
                target = area.code[:5] + "00000"
                self.sub_of[area.code] = target
            for name in (area.name, _short(area.name)):
                self.city_keys[key(name, "city")].add(target)
        for c in raw["cities"]:
            for old in (c.get("old_names") or "").split(";"):
                if old.strip():
                    self.city_keys[key(old, "city")].add(c["psgc_code"])
        for nickname, code in _CITY_NICKNAMES.items():
            self.city_keys[nickname].add(code)
        self.barangays: dict[str, _Area] = {}
        self.in_city: dict[str, list[str]] = defaultdict(list)
        self.barangay_keys: dict[str, tuple[str, str]] = {}  # (full name, short name)
        for b in raw["barangays"]:
            city = self.sub_of.get(b["city_code"], b["city_code"])
            area = _Area(b["psgc_code"], b["name"], city)
            self.barangays[area.code] = area
            self.in_city[city].append(area.code)
            self.barangay_keys[area.code] = (
                key(area.name, "barangay"),
                key(_short(area.name), "barangay"),
            )
        # centroids (latitude, longitude) of barangays and cities, and the barangays the PSA
        # counts as urban: what a delivery-time model reads as distance and urban ends
        self.centroids: dict[str, tuple[float, float]] = {}
        self.urban: set[str] = set()
        for area_raw in (*raw["cities"], *raw["barangays"]):
            point = area_raw.get("coordinate") or {}
            if point.get("latitude") is not None and point.get("longitude") is not None:
                self.centroids[area_raw["psgc_code"]] = (
                    float(point["latitude"]),
                    float(point["longitude"]),
                )
            if area_raw.get("urban_rural") == "U":
                self.urban.add(area_raw["psgc_code"])
        self.zips: dict[str, str] = {}
        for zip_code, entry in raw["zip_codes"].items():
            city = self._zip_city(entry)
            if city is not None:
                self.zips[zip_code] = city

    def city_region(self, city: str) -> str:
        return region_of(city)

    def real_province(self, city: str) -> str | None:
        parent = self.cities[city].parent
        return None if parent in self.pseudo else parent

    def _zip_city(self, entry: dict[str, Any]) -> str | None:
        """The one city or municipality a postal code's entry names, if it names one."""
        text = entry.get("city") or entry.get("area") or ""
        if not text or "/" in text:
            return None
        province = entry.get("province") or ""
        if key(province) == "ncr":
            region_cities = [c for c in self.cities.values() if c.code.startswith("13")]
        else:
            provinces = self.province_keys.get(key(province, "province"), set())
            region_cities = [c for c in self.cities.values() if c.parent in provinces]
            if provinces:
                regions = {self.provinces[p].parent for p in provinces}
                # an independent city is under a pseudo province of the same region
                region_cities += [
                    c
                    for c in self.cities.values()
                    if c.parent in self.pseudo and region_of(c.code) in regions
                ]
        choices = {c.code: key(c.name, "city") for c in region_cities if c.level != "SubMun"}
        if not choices:
            return None
        wanted = key(text, "city")
        exact = [code for code, k in choices.items() if k == wanted]
        if len(exact) == 1:
            return exact[0]
        if exact:
            return None
        found = process.extract(
            wanted, choices, scorer=fuzz.ratio, limit=2, score_cutoff=_ZIP_CITY_SCORE
        )
        if len(found) == 1 or (len(found) == 2 and found[0][1] - found[1][1] >= 5):
            return str(found[0][2])
        return None


def _read(name: str) -> Any:
    with resources.files("psgc").joinpath("data", "core", f"{name}.json").open("rb") as f:
        return json.load(f)


@cache
def _data() -> _Data:
    names = ("regions", "provinces", "cities", "barangays", "zip_codes")
    return _Data({name: _read(name) for name in names})


def load() -> None:
    """Read the list now (else the first address checked in a process waits 3-5 s for it)."""
    _data()


def _suggest(text: str, level: str, names: Iterable[str]) -> tuple[str, ...]:
    choices = {name: " ".join(_tokens(name, level)) for name in set(names)}
    wanted = " ".join(_tokens(text, level))
    found = process.extract(
        wanted, choices, scorer=fuzz.WRatio, limit=SUGGESTIONS, score_cutoff=_CUTOFF
    )
    return tuple(str(f[2]) for f in found)  # best first


def _did_you_mean(suggestions: tuple[str, ...]) -> str:
    return f"; did you mean {' or '.join(suggestions)}?" if suggestions else ""


def _provinces(data: _Data, text: str) -> tuple[set[str], bool]:
    """The provinces ``text`` names, and whether it names NCR (empty text: neither)."""
    wanted = key(text, "province")
    if not wanted:
        return set(), False
    ncr = wanted in _REGION_WORDS[NCR]
    return set(data.province_keys.get(wanted, set())), ncr


def _city_fits(data: _Data, city: str, provinces: set[str], ncr: bool, typed: bool) -> bool:
    """Whether the typed province fits ``city`` (None typed: any city fits)."""
    if not typed:
        return True
    real = data.real_province(city)
    if real is not None:
        return real in provinces
    region = region_of(city)
    if region == NCR:
        return ncr
    # an independent city: the province it lies in, or its own group's name
    return any(data.provinces[p].parent == region for p in provinces)


def _province_name(data: _Data, city: str, provinces: set[str]) -> str:
    real = data.real_province(city)
    if real is not None:
        return data.provinces[real].name
    if region_of(city) == NCR:
        return "Metro Manila"
    region = region_of(city)
    named = sorted(data.provinces[p].name for p in provinces if data.provinces[p].parent == region)
    return named[0] if named else ""


def _barangay_matches(data: _Data, city: str, text: str) -> list[str]:
    wanted = key(text, "barangay")
    codes = data.in_city.get(city, [])
    full = [c for c in codes if data.barangay_keys[c][0] == wanted]
    if full:
        return full
    return [c for c in codes if data.barangay_keys[c][1] == wanted]


def locate(barangay: str, city: str, province: str, postal_code: str = "") -> Place | list[Miss]:
    """The official place of a typed barangay, city and province (and postal code, checked
    against the city where PHLPost's list allows), or what is wrong, field by field."""
    data = _data()
    provinces, ncr = _provinces(data, province)
    typed_province = bool(key(province, "province"))
    misses: list[Miss] = []
    if typed_province and not provinces and not ncr:
        names = [data.provinces[p].name for p in data.provinces if p not in data.pseudo]
        suggestions = _suggest(province, "province", [*names, "Metro Manila"])
        message = f"no province named {province!r}" + _did_you_mean(suggestions)
        misses.append(Miss("province", "province_unknown", message, suggestions))
        typed_province = False  # find the city anywhere, to say which province it is in
    named = data.city_keys.get(key(city, "city"), set())
    if not named and key(city, "city").endswith("city"):
        named = data.city_keys.get(key(city, "city").removesuffix("city"), set())
    cities = {c for c in named if _city_fits(data, c, provinces, ncr, typed_province)}
    if len(cities) > 1 and "city" in _tokens(city):
        cities = {c for c in cities if data.cities[c].level == "City"} or cities
    if len(cities) > 1:
        # the barangay tells same-named towns apart ("San Jose" without a province)
        holding = {c for c in cities if _barangay_matches(data, c, barangay)}
        cities = holding or cities
    if not cities:
        in_scope = [
            a.name
            for a in data.cities.values()
            if a.level != "SubMun" and _city_fits(data, a.code, provinces, ncr, typed_province)
        ]
        suggestions = _suggest(city, "city", in_scope)
        if named and typed_province:
            places = sorted({_where(data, c) for c in named})
            message = f"{city!r} is not in {province!r}: it is in {', '.join(places[:3])}"
        elif typed_province:
            message = f"no city or municipality named {city!r} in {province!r}"
        else:
            message = f"no city or municipality named {city!r}"
        misses.append(
            Miss("city", "city_unknown", message + _did_you_mean(suggestions), suggestions)
        )
        return misses
    if len(cities) > 1:
        towns = tuple(sorted(_where(data, c) for c in cities))[:SUGGESTIONS]
        message = f"there are {len(cities)} places named {city!r}: name the province"
        misses.append(Miss("province", "province_needed", message, towns))
        return misses
    (found_city,) = cities
    if misses:
        # the province was unknown but the city is not: say which province it is in
        right = _province_name(data, found_city, set())
        suggestions = (right,) if right else ()
        message = f"no province named {province!r}" + _did_you_mean(suggestions)
        misses[0] = Miss("province", "province_unknown", message, suggestions)
    matches = _barangay_matches(data, found_city, barangay)
    city_name = data.cities[found_city].name
    if len(matches) != 1:
        names = [data.barangays[c].name for c in data.in_city.get(found_city, [])]
        if matches:
            suggestions = tuple(sorted(data.barangays[c].name for c in matches))[:SUGGESTIONS]
            message = f"{city_name} has {len(matches)} barangays named {barangay!r}"
        else:
            suggestions = _suggest(barangay, "barangay", names)
            message = f"no barangay named {barangay!r} in {city_name}"
        code = "barangay_ambiguous" if matches else "barangay_unknown"
        misses.append(Miss("barangay", code, message + _did_you_mean(suggestions), suggestions))
    zip_city = data.zips.get(postal_code.strip())
    if zip_city is not None and zip_city != found_city:
        own = tuple(sorted(z for z, c in data.zips.items() if c == found_city))[:SUGGESTIONS]
        message = (
            f"{postal_code} is the postal code of {data.cities[zip_city].name}, "
            f"not {city_name}" + (f"; {city_name}'s include {', '.join(own)}" if own else "")
        )
        misses.append(Miss("postal_code", "postal_code_mismatch", message, own))
    if misses:
        return misses
    (found_barangay,) = matches
    codes = Codes(
        barangay=found_barangay,
        city=found_city,
        province=data.real_province(found_city),
        region=region_of(found_city),
    )
    return Place(
        barangay=data.barangays[found_barangay].name,
        city=city_name,
        province=_province_name(data, found_city, provinces),
        codes=codes,
    )


def _where(data: _Data, city: str) -> str:
    real = data.real_province(city)
    above = data.provinces[real].name if real else data.regions[region_of(city)]
    return f"{data.cities[city].name}, {above}"


def place_of(barangay_code: str) -> Place:
    """The official names and codes of a barangay's code (KeyError: not in this edition)."""
    data = _data()
    area = data.barangays[barangay_code]
    city = area.parent
    codes = Codes(area.code, city, data.real_province(city), region_of(city))
    return Place(area.name, data.cities[city].name, _province_name(data, city, set()), codes)


def codes_of(code: str) -> Codes:
    """The codes of a barangay's or a city's or municipality's code (a city's: at city level,
    ``barangay`` holding the city's own code, as ``city_codes``). KeyError: no such place in
    this edition (a province's or a region's code included)."""
    data = _data()
    if code in data.barangays:
        return place_of(code).codes
    city = data.sub_of.get(code, code)
    if city not in data.cities or data.cities[city].level == "SubMun":
        raise KeyError(code)
    return Codes(code, city, data.real_province(city), region_of(city))


def barangays_of(city: str) -> list[str]:
    """The codes of a city's or municipality's barangays, in the list's order."""
    data = _data()
    return list(data.in_city.get(data.sub_of.get(city, city), []))


def centroid(code: str) -> tuple[float, float] | None:
    """A barangay's or city's centroid (latitude, longitude) as the package ships it (HDX
    2023 points for barangays, population-weighted for cities), None if it has none."""
    data = _data()
    return data.centroids.get(code)


def is_urban(code: str) -> bool:
    """Whether the PSA counts a barangay as urban (a city's code: whether it is a city)."""
    data = _data()
    if code in data.barangays:
        return code in data.urban
    area = data.cities.get(code)
    return area is not None and area.level == "City"


def province_optional(city: str, province: str = "") -> bool:
    """Whether an address in ``city`` (as typed) may leave the province empty: Metro Manila's
    and independent cities' (a name that is such a city anywhere)."""
    data = _data()
    named = data.city_keys.get(key(city, "city"), set())
    return bool(named) and all(data.real_province(c) is None for c in named)


def city_codes(city: str, province: str = "") -> Codes | None:
    """The codes of a city or municipality as typed with its province (a merchant's "ships
    from"), at city level: ``barangay`` holds the city's own code, since no barangay is
    known. None when the name is not one place (unknown, or the same name in two provinces
    and no province to tell them apart): a caller prices no delivery from a guess."""
    data = _data()
    provinces, ncr = _provinces(data, province)
    typed = bool(key(province, "province"))
    named = data.city_keys.get(key(city, "city"), set())
    fits = {c for c in named if _city_fits(data, c, provinces, ncr, typed)}
    if len(fits) != 1:
        return None
    found = fits.pop()
    return Codes(found, found, data.real_province(found), region_of(found))
