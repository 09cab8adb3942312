"""The delivery zone between two places, from their PSGC codes alone.

Philippine couriers price a parcel by where it goes relative to where it starts: within a
city, within Metro Manila, within the rest of Luzon, within the Visayas or Mindanao, across
the sea, or to a place served a few times a week. This module draws those zones from the
codes the addresses already carry (``commerce.psgc.Codes``), with no lookup in the list:
a region's code is a code's first two digits, and the unit a zone is drawn with below the
region is the province, or the city where there is none (``psgc.province_or_city_of``).

Source: the PSA's Philippine Standard Geographic Code (Q1 2026 edition, the ``psgc``
package) for the region, province and city codes below; the three island groups are the
PSA's own grouping of the regions (Luzon: NCR, CAR, I-V, MIMAROPA; Visayas: VI-VIII and
the Negros Island Region; Mindanao: IX-XIII and BARMM). Sulu is coded in Region IX since
the Supreme Court's 2024 ruling took it out of BARMM: the rules here read province codes,
so that move changes nothing.

The zones (decided here, the way J&T, LBC and Flash price their published cards):
1. ``within_city``: both ends in the same city or municipality (Manila's districts are
   one city).
2. ``remote``: either end in a province couriers reach only by sea or air a few times a
   week (Batanes, Sulu, Tawi-Tawi) or in Kalayaan (the Spratlys). Checked before anything
   else but the same city: a parcel within Jolo is a within-city parcel.
3. ``metro_manila``: both ends in NCR.
4. ``island_crossing``: the ends are in different island groups (Luzon to Mindanao), or
   either end is on an island off its group's mainland (Mindoro, Marinduque, Romblon,
   Palawan, Catanduanes and Masbate off Luzon; Camiguin, Dinagat, Basilan off Mindanao)
   and the two are not in the same province. The Visayas are all islands joined by daily
   roll-on/roll-off ferries, and couriers price them as one zone: within the Visayas there
   is no island crossing.
5. ``luzon``, ``visayas``, ``mindanao``: both ends in that island group otherwise (NCR to
   Bulacan is ``luzon``: the rest of Luzon).
"""

from __future__ import annotations

import enum
import re
from collections.abc import Mapping

from tindahan.commerce.psgc import NCR, Codes, province_or_city_of, region_of
from tindahan.kernel.refusals import invalid


class Zone(enum.StrEnum):
    WITHIN_CITY = "within_city"
    METRO_MANILA = "metro_manila"
    LUZON = "luzon"
    VISAYAS = "visayas"
    MINDANAO = "mindanao"
    ISLAND_CROSSING = "island_crossing"
    REMOTE = "remote"


class IslandGroup(enum.StrEnum):
    LUZON = "luzon"
    VISAYAS = "visayas"
    MINDANAO = "mindanao"


#: Region code's first two digits → island group (PSA).
_GROUP_OF_REGION = {
    "01": IslandGroup.LUZON,  # Ilocos
    "02": IslandGroup.LUZON,  # Cagayan Valley
    "03": IslandGroup.LUZON,  # Central Luzon
    "04": IslandGroup.LUZON,  # CALABARZON
    "05": IslandGroup.LUZON,  # Bicol
    "13": IslandGroup.LUZON,  # NCR
    "14": IslandGroup.LUZON,  # CAR
    "17": IslandGroup.LUZON,  # MIMAROPA
    "06": IslandGroup.VISAYAS,  # Western Visayas
    "07": IslandGroup.VISAYAS,  # Central Visayas
    "08": IslandGroup.VISAYAS,  # Eastern Visayas
    "18": IslandGroup.VISAYAS,  # Negros Island Region
    "09": IslandGroup.MINDANAO,  # Zamboanga Peninsula (Sulu since 2024)
    "10": IslandGroup.MINDANAO,  # Northern Mindanao
    "11": IslandGroup.MINDANAO,  # Davao
    "12": IslandGroup.MINDANAO,  # SOCCSKSARGEN
    "16": IslandGroup.MINDANAO,  # Caraga
    "19": IslandGroup.MINDANAO,  # BARMM
}

#: Provinces (and independent cities, which have none) off their group's mainland.
OFFSHORE = {
    "1704000000": "Marinduque",
    "1705100000": "Occidental Mindoro",
    "1705200000": "Oriental Mindoro",
    "1705300000": "Palawan",
    "1731500000": "City of Puerto Princesa",
    "1705900000": "Romblon",
    "0502000000": "Catanduanes",
    "0504100000": "Masbate",
    "1001800000": "Camiguin",
    "1608500000": "Dinagat Islands",
    "1900700000": "Basilan",
    "0990101000": "City of Isabela (Basilan)",
}

#: Provinces and municipalities served by sea or air a few times a week.
REMOTE_PROVINCES = {
    "0200900000": "Batanes",
    "0906600000": "Sulu",
    "1907000000": "Tawi-Tawi",
}
REMOTE_CITIES = {"1705321000": "Kalayaan (Palawan)"}

_CODE = re.compile(r"[0-9]{10}")


def island_group(codes: Codes) -> IslandGroup:
    group = _GROUP_OF_REGION.get(codes.region[:2])
    if group is None:
        raise invalid("psgc_unknown", f"no island group for region {codes.region}", "region_code")
    return group


def _check(codes: Codes, param: str) -> None:
    for name in ("barangay", "city", "region"):
        value = getattr(codes, name)
        if not isinstance(value, str) or not _CODE.fullmatch(value):
            raise invalid("psgc_invalid", f"{param}: a PSGC code is ten digits", f"{param}.{name}")
    if codes.province is not None and not _CODE.fullmatch(codes.province):
        raise invalid("psgc_invalid", f"{param}: a PSGC code is ten digits", f"{param}.province")
    if region_of(codes.city) != codes.region or codes.region[:2] not in _GROUP_OF_REGION:
        raise invalid("psgc_unknown", f"{param}: no such region {codes.region}", param)


def is_remote(codes: Codes) -> bool:
    return province_or_city_of(codes) in REMOTE_PROVINCES or codes.city in REMOTE_CITIES


def is_offshore(codes: Codes) -> bool:
    return province_or_city_of(codes) in OFFSHORE


def zone_between(origin: Codes, destination: Codes) -> Zone:
    """The zone of a parcel from ``origin`` to ``destination`` (order does not matter)."""
    _check(origin, "origin")
    _check(destination, "destination")
    if origin.city == destination.city:
        return Zone.WITHIN_CITY
    if is_remote(origin) or is_remote(destination):
        return Zone.REMOTE
    if origin.region == NCR and destination.region == NCR:
        return Zone.METRO_MANILA
    group = island_group(origin)
    if group != island_group(destination):
        return Zone.ISLAND_CROSSING
    same_province = province_or_city_of(origin) == province_or_city_of(destination)
    crosses = is_offshore(origin) or is_offshore(destination)
    if group != IslandGroup.VISAYAS and not same_province and crosses:
        return Zone.ISLAND_CROSSING
    return Zone(group.value)


def codes_from(values: Mapping[str, object], param: str) -> Codes:
    """``Codes`` from a mapping of ``barangay_code``/``city_code``/``province_code``/
    ``region_code`` (a CSV row, a request), refused field by field."""
    try:
        province = values.get("province_code")
        codes = Codes(
            barangay=str(values["barangay_code"]),
            city=str(values["city_code"]),
            province=None if province in (None, "") else str(province),
            region=str(values["region_code"]),
        )
    except KeyError as missing:
        raise invalid("psgc_invalid", f"{param}: {missing.args[0]} is required", param) from None
    _check(codes, param)
    return codes
