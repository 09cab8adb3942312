"""The nearest agents by place (``payments.agents``): town, then province, then the rest."""

from __future__ import annotations

from tindahan.payments.agents import Agent, Place, nearest, place_key, ring


def test_place_names_compare_as_people_type_them() -> None:
    assert place_key("Marikina City") == place_key("marikina") == "marikina"
    assert place_key("City of San Fernando") == place_key("San  Fernando") == "san fernando"
    assert place_key("Parañaque") == place_key("PARANAQUE")
    assert place_key(None) == place_key("") == ""


def test_rings() -> None:
    home = Place("Marikina", "Metro Manila")
    assert ring(home, Place("Marikina City", "NCR")) == "city"
    assert ring(home, Place("Quezon City", "metro manila")) == "province"
    assert ring(home, Place("Cebu City", "Cebu")) == "elsewhere"
    assert ring(Place(None, None), Place(None, None)) == "elsewhere"  # no place: no match


def test_nearest_first_then_by_name_and_bounded() -> None:
    home = Place("Marikina", "Metro Manila")
    agents = [
        Agent("a1", "Zeny's", Place("Cebu City", "Cebu")),
        Agent("a2", "Ben's", Place("Quezon City", "Metro Manila")),
        Agent("a3", "Tess's", Place("Marikina", "Metro Manila")),
        Agent("a4", "Ana's", Place("Marikina", "Metro Manila")),
    ]
    ranked = nearest(home, agents, 3)
    assert [(a.party_id, r) for a, r in ranked] == [
        ("a4", "city"),
        ("a3", "city"),
        ("a2", "province"),
    ]
