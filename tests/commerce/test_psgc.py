"""Places matched against the PSGC list (``commerce.psgc``): how people type them is forgiven,
a misspelling is refused with the nearest official names, the hierarchy is checked, the
postal code must be the city's where PHLPost's list says, and the codes say where it is."""

from __future__ import annotations

import pytest

from tindahan.commerce import psgc
from tindahan.commerce.psgc import Miss, Place

MALANDAY = psgc.Codes("1380700005", "1380700000", None, "1300000000")


def located(barangay: str, city: str, province: str, postal_code: str = "") -> Place:
    found = psgc.locate(barangay, city, province, postal_code)
    assert isinstance(found, Place), found
    return found


def misses(barangay: str, city: str, province: str, postal_code: str = "") -> dict[str, Miss]:
    found = psgc.locate(barangay, city, province, postal_code)
    assert isinstance(found, list), found
    return {miss.field: miss for miss in found}


@pytest.mark.parametrize(
    ("barangay", "city", "province"),
    [
        ("Malanday", "City of Marikina", "Metro Manila"),
        ("malanday", "Marikina", "NCR"),
        ("Brgy. Malanday", "MARIKINA CITY", ""),
        ("Bgy  Malanday", "  marikina ", "National Capital Region"),
        ("Barangay Malanday", "Marikina", "Metro Manila"),
    ],
)
def test_how_people_type_a_place_is_forgiven(barangay, city, province):
    place = located(barangay, city, province, "1805")
    assert (place.barangay, place.city, place.province) == (
        "Malanday",
        "City of Marikina",
        "Metro Manila",
    )
    assert place.codes == MALANDAY


def test_accents_numbers_abbreviations_and_nicknames():
    assert located("Tanong", "Marikina", "").barangay == "Tañong"
    assert located("Sto. Nino", "Marikina", "").barangay == "Santo Niño"
    assert located("Concepcion 1", "Marikina", "").barangay == "Concepcion Uno"
    qc = located("Bagumbayan", "QC", "Metro Manila")
    assert (qc.city, qc.codes.city) == ("Quezon City", "1381300000")
    # Manila's barangays sit under its districts; the city is Manila
    assert located("Brgy. 123", "Manila", "").codes.city == "1380600000"
    # a former name the list records
    assert located("Poblacion", "Nabunturan", "Compostela Valley").province == "Davao de Oro"


def test_a_misspelled_barangay_is_refused_with_the_nearest_names():
    found = misses("Malandy", "Marikina", "Metro Manila")
    assert set(found) == {"barangay"}
    assert found["barangay"].code == "barangay_unknown"
    assert found["barangay"].suggestions[0] == "Malanday"
    assert "did you mean Malanday" in found["barangay"].message


def test_the_barangay_must_be_in_that_city_and_the_city_in_that_province():
    # Lahug is in Cebu City, not Marikina
    assert misses("Lahug", "Marikina", "Metro Manila")["barangay"].code == "barangay_unknown"
    wrong = misses("Malanday", "Marikina", "Batangas")["city"]
    assert wrong.code == "city_unknown" and "City of Marikina" in wrong.message
    typo = misses("Malanday", "Marikina", "Metro Manla")["province"]
    assert typo.code == "province_unknown" and typo.suggestions == ("Metro Manila",)
    unknown = misses("Poblacion", "Marikna", "Metro Manila")["city"]
    assert unknown.suggestions[0] == "City of Marikina"


def test_same_named_towns_need_the_province():
    # San Jose is a municipality in ten provinces; a "Sabang" is in two of them
    found = misses("Sabang", "San Jose", "")
    assert found["province"].code == "province_needed"
    assert all("San Jose" in where for where in found["province"].suggestions)
    place = located("Sabang", "San Jose", "Batangas")
    assert place.codes.province == "0401000000" and place.province == "Batangas"


def test_ncr_and_independent_cities_have_no_province_code():
    assert located("Malanday", "Marikina", "").codes.province is None
    baguio = located("Session Road Area", "Baguio City", "Benguet", "2600")
    assert baguio.codes.province is None and baguio.codes.region == "1400000000"
    assert baguio.province == "Benguet"  # where it lies, as the buyer wrote it
    assert located("Lahug", "Cebu City", "").province == ""
    assert psgc.province_optional("Marikina") and psgc.province_optional("Baguio")
    assert not psgc.province_optional("Angono") and not psgc.province_optional("Nowhere")
    # an independent city is not in a province of another region
    assert misses("Lahug", "Cebu City", "Benguet")["city"].code == "city_unknown"


def test_the_postal_code_must_be_the_citys_where_the_list_says():
    wrong = misses("Malanday", "Marikina", "Metro Manila", "1100")["postal_code"]
    assert wrong.code == "postal_code_mismatch" and "Quezon City" in wrong.message
    assert "1800" in wrong.suggestions
    assert located("Malanday", "Marikina", "Metro Manila", "1805").codes == MALANDAY
    # a code the list does not hold passes: the data cannot tell
    assert located("Malanday", "Marikina", "Metro Manila", "9999").codes == MALANDAY


def test_codes_for_delivery_zones():
    assert psgc.region_of("1380700005") == "1300000000"
    assert psgc.region_name("0405801009") == "Region IV-A (CALABARZON)"
    angono = located("San Isidro", "Angono", "Rizal").codes
    assert psgc.province_or_city_of(angono) == "0405800000"
    assert psgc.province_or_city_of(MALANDAY) == "1380700000"
    assert psgc.place_of("1380700005").codes == MALANDAY
    with pytest.raises(ValueError):
        psgc.region_of("13807")
