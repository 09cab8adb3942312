"""Which cash agents are nearest a buyer (issue 21, item 6: "Cash in"), as a rule on plain
data: no coordinates exist for agents (a party's profile has a city or municipality and a
province, as typed at onboarding), so "nearest" is by place, in three rings — the buyer's
own city or municipality first, then the rest of the province, then everyone else — and by
name within a ring. Places are compared as people type them: case, spacing, accents and a
leading "City of" / trailing "City" are ignored ("Marikina City" is "marikina"), so one
town written two ways is one town.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

CITY, PROVINCE, ELSEWHERE = "city", "province", "elsewhere"
_RINGS = {CITY: 0, PROVINCE: 1, ELSEWHERE: 2}


@dataclass(frozen=True, slots=True)
class Place:
    city: str | None
    province: str | None


@dataclass(frozen=True, slots=True)
class Agent:
    party_id: str
    name: str
    place: Place


def place_key(text: str | None) -> str:
    """A place name as compared: no accents, case, spacing or "City" decoration."""
    if not text:
        return ""
    plain = unicodedata.normalize("NFKD", text)
    plain = "".join(c for c in plain if not unicodedata.combining(c)).casefold()
    words = plain.replace(",", " ").replace(".", " ").split()
    if words[:2] == ["city", "of"]:
        words = words[2:]
    if words[-1:] == ["city"]:
        words = words[:-1]
    return " ".join(words)


def ring(buyer: Place, agent: Place) -> str:
    city = place_key(buyer.city)
    if city and city == place_key(agent.city):
        return CITY
    province = place_key(buyer.province)
    if province and province == place_key(agent.province):
        return PROVINCE
    return ELSEWHERE


def nearest(buyer: Place, agents: list[Agent], count: int) -> list[tuple[Agent, str]]:
    """The ``count`` nearest agents with their ring, nearest first, then by name and id."""
    ranked = sorted(
        ((a, ring(buyer, a.place)) for a in agents),
        key=lambda pair: (_RINGS[pair[1]], pair[0].name.casefold(), pair[0].party_id),
    )
    return ranked[:count]
