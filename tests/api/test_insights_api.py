"""The operator's aggregates over HTTP: JSON and CSV for an operator key, refused for a
merchant's, a bad period refused with the error object (issue 26, item 6).

The world holds one merchant (Metro Manila, 5411): fewer than ten, so the only cell, its
province, its category and the grand total are all withheld — in JSON as ``null`` with the
blocks named, in the CSV as ``x``. Twelve more merchants in Laguna (5411) through the API make
the grand total shown (13) while Laguna's cell stays withheld: showing it would give Metro
Manila's one merchant away by subtraction from the 5411 total.
"""

from __future__ import annotations

import csv
import io
import uuid
from typing import Any

from PIL import Image

from tests.api.conftest import World, make_party


def test_the_aggregates_for_the_operator_only(world: World) -> None:
    api = world.api
    report = api.ok(api.get("/v1/insights/merchant_aggregates", world.operator))
    assert report["object"] == "merchant_aggregates" and report["k"] == 10
    assert report["period"]["days"] == 30
    assert report["total"]["merchants"] is None
    assert report["total"]["withheld"] == ["merchants", "sales", "loans", "lessons"]
    for _ in range(12):
        body = {
            "kind": "merchant",
            "name": "Laguna store",
            "mcc": "5411",
            "city": "Calamba",
            "province": "Laguna",
        }
        api.ok(api.post("/v1/parties", world.operator, body))
    report = api.ok(api.get("/v1/insights/merchant_aggregates", world.operator, days=7))
    assert report["period"]["days"] == 7
    assert report["total"]["merchants"] == 13 and report["total"]["active_merchants"] == 0
    cells = {(c["province"], c["category"]): c for c in report["cells"]}
    assert cells[("Laguna", "5411")]["merchants"] is None  # complementary
    assert cells[("Metro Manila", "5411")]["merchants"] is None  # primary
    text = api.get("/v1/insights/merchant_aggregates.csv", world.operator)
    assert text.status_code == 200 and text.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(text.text)))
    assert rows[-1]["province"] == rows[-1]["category"] == "all"
    assert rows[-1]["merchants"] == "13" and rows[0]["merchants"] == "x"
    refused = api.get("/v1/insights/merchant_aggregates", world.merchant.key)
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "operator_only"
    refused = api.get("/v1/insights/merchant_aggregates.csv", world.merchant.key)
    assert refused.status_code == 403


def test_a_bad_period_is_refused(world: World) -> None:
    api = world.api
    for days in ("0", "367", "week"):
        refused = api.get("/v1/insights/merchant_aggregates", world.operator, days=days)
        assert refused.status_code == 400, days
        assert refused.json()["error"]["param"] == "days"


def test_a_merchant_made_here_counts(world: World) -> None:
    other = make_party(
        world.api,
        world.operator,
        {
            "kind": "merchant",
            "name": "Bohol shop",
            "mcc": "5812",
            "city": "Tagbilaran",
            "province": "Bohol",
        },
    )
    report = world.api.ok(world.api.get("/v1/insights/merchant_aggregates", world.operator))
    assert ("Bohol", "5812") in {(c["province"], c["category"]) for c in report["cells"]}
    assert other.id not in str(report)  # no id of anyone, ever


def test_a_merchants_sales_mix_over_http(world: World) -> None:
    api = world.api
    body = {"kind": "merchant", "name": "Bohol shop", "mcc": "5812"}
    other = make_party(api, world.operator, body | {"city": "Tagbilaran", "province": "Bohol"})
    mine = api.ok(api.get("/v1/insights/sales_mix", world.merchant.key, days=7))
    assert mine["object"] == "sales_mix" and mine["merchant_id"] == world.merchant.id
    assert mine["days"] == 7 and len(mine["by_hour"]) == 24
    assert set(mine["channels"]) == {"online", "qr", "request"}
    named = api.get("/v1/insights/sales_mix", world.operator, merchant_id=world.merchant.id)
    assert api.ok(named)["merchant_id"] == world.merchant.id
    refused = api.get("/v1/insights/sales_mix", world.operator)
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "merchant_id"
    refused = api.get("/v1/insights/sales_mix", other.key, merchant_id=world.merchant.id)
    assert refused.status_code == 404
    refused = api.get("/v1/insights/sales_mix", world.merchant.key, days=0)
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "days"


def test_costs_and_best_sellers_over_http(world: World) -> None:
    api = world.api
    listed = api.ok(api.get("/v1/insights/best_sellers", world.merchant.key))
    assert listed == {"object": "list", "data": [], "has_more": False}  # no shop yet
    missing = api.post(
        "/v1/insights/product_costs", world.merchant.key, {"product_id": "prd_x", "cost_minor": 5}
    )
    assert missing.status_code == 404
    bad = api.post(
        "/v1/insights/product_costs", world.merchant.key, {"product_id": "prd_x", "cost_minor": -5}
    )
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "cost_minor"
    refused = api.get("/v1/insights/best_sellers", world.operator)
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "merchant_id"
    missing = api.post(
        "/v1/insights/product_lead_times", world.merchant.key,
        {"product_id": "prd_x", "lead_time_days": 5},
    )  # fmt: skip
    assert missing.status_code == 404
    bad_days: tuple[object, ...] = (-1, 61, "5")
    for wrong in bad_days:
        answer = api.post(
            "/v1/insights/product_lead_times", world.merchant.key,
            {"product_id": "prd_x", "lead_time_days": wrong},
        )  # fmt: skip
        assert answer.status_code == 400, wrong
        assert answer.json()["error"]["param"] == "lead_time_days"


def test_lessons_over_http(world: World) -> None:
    """A merchant reads a lesson, records a screen, fails and passes the quiz and gets the
    certificate; bad answers, another's progress and a merchant writing a lesson are refused;
    the operator's broken text is refused with the field and nothing saved (issue 26, item 5)."""
    api, me = world.api, world.merchant.key
    listed = api.ok(api.get("/v1/lessons", me, lang="ceb"))
    assert listed["object"] == "lessons" and len(listed["data"]) == 8
    assert listed["data"][0]["title"] == "Pagkuha og litrato sa produkto"
    assert listed["next"] == {"slug": "credit-history", "from_your_data": True}  # no loan yet
    whole = api.ok(api.get("/v1/lessons/eir", me, lang="fil"))
    assert whole["screens"] == len(whole["screens_html"]) == 3
    assert "answer" not in str(whole["questions"])  # the right answers are not given away
    seen = api.ok(api.post("/v1/lessons/eir/progress", me, {"screen": 2, "lang": "fil"}))
    assert seen["screen"] == 2 and seen["progress"]["screen"] == 2 and "<p>" in seen["html"]
    wrong = api.ok(api.post("/v1/lessons/eir/answers", me, {"answers": [0, 0]}))
    assert wrong["passed"] is False and wrong["right"] == [False, True]
    early = api.get("/v1/lessons/eir/certificate", me)
    assert early.status_code == 409 and early.json()["error"]["code"] == "lesson_not_completed"
    right = api.ok(api.post("/v1/lessons/eir/answers", me, {"answers": [1, 0]}))
    assert right["passed"] is True
    paper = api.ok(api.get("/v1/lessons/eir/certificate", me, lang="ceb"))
    assert paper["title"] == "Unsa ang gipasabot sa EIR sa utang"
    for bad in ({"answers": [1]}, {"answers": [1, 7]}, {"answers": ["1", 0]}):
        refused = api.post("/v1/lessons/eir/answers", me, bad)
        assert refused.status_code == 400, bad
    assert api.get("/v1/lessons/nothing", me).status_code == 404
    assert api.get("/v1/lessons", me, lang="es").status_code == 400
    stranger = api.get("/v1/lessons", world.operator, merchant_id=world.buyer.id)
    assert stranger.status_code == 404
    text = {"lang": "en", "title": "EIR", "body": "![x](/lessons/pictures/gone.svg)",
            "quiz": "? Q\n+ a\n- b"}  # fmt: skip
    refused = api.post("/v1/lessons/eir/text", me, text)
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "operator_only"
    refused = api.post("/v1/lessons/eir/text", world.operator, text)
    assert refused.status_code == 400
    assert refused.json()["error"] | {"message": ""} == {
        "type": "invalid_request_error", "code": "lesson_invalid", "param": "body", "message": "",
    }  # fmt: skip
    assert "gone.svg" in refused.json()["error"]["message"]
    saved = api.post("/v1/lessons/eir/text", world.operator, text | {"body": "Fees count."})
    assert api.ok(saved)["screens"] == 1
    assert api.ok(api.get("/v1/lessons/eir", me))["title"] == "EIR"


def _upload_picture(world: World, key: str, data: bytes, name: str = "p.jpg") -> Any:
    headers = {"Idempotency-Key": str(uuid.uuid4()), "Authorization": f"Bearer {key}"}
    files = {"file": (name, data, "image/jpeg")}
    return world.api.http.post("/v1/lesson_images", headers=headers, files=files)


def test_a_picture_for_lessons_over_http(world: World) -> None:
    """The operator uploads a picture (re-encoded WebP, named for /media/), a lesson shows it;
    a merchant's key, a file that is no image and a lesson naming an unknown picture are
    refused with the error object (issue 26, item 5)."""
    api, op, me = world.api, world.operator, world.merchant.key
    out = io.BytesIO()
    Image.new("RGB", (640, 480), (200, 150, 40)).save(out, "PNG")
    made = api.ok(_upload_picture(world, op, out.getvalue(), "shelf.png"))
    assert made["object"] == "lesson_image" and (made["width"], made["height"]) == (640, 480)
    assert made["url"] == "/media/" + made["name"]  # served by the pages (tests/web)
    assert api.ok(api.get("/v1/lesson_images", op))["data"] == [made]
    refused = _upload_picture(world, me, out.getvalue())
    assert refused.status_code == 403 and refused.json()["error"]["code"] == "operator_only"
    assert api.get("/v1/lesson_images", me).status_code == 403
    refused = _upload_picture(world, op, b"GIF89a not really", "x.jpg")
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "file"

    quiz = "? Q\n+ a\n- b"
    unknown = {"lang": "en", "title": "Shelves", "quiz": quiz,
               "body": "![a shelf](/media/" + "f" * 64 + ".webp)"}  # fmt: skip
    refused = api.post("/v1/lessons/shelves/text", op, unknown)
    assert refused.status_code == 400 and refused.json()["error"]["code"] == "lesson_invalid"
    assert api.get("/v1/lessons/shelves", me).status_code == 404  # nothing saved
    shown = unknown | {"body": f"Keep it tidy.\n\n![a tidy shelf]({made['url']})"}
    assert api.ok(api.post("/v1/lessons/shelves/text", op, shown))["screens"] == 1
    lesson = api.ok(api.get("/v1/lessons/shelves", me))
    assert f'<img src="{made["url"]}" alt="a tidy shelf">' in lesson["screens_html"][0]


def test_the_cash_flow_outlook_over_http(world: World) -> None:
    api = world.api
    mine = api.ok(api.get("/v1/insights/cash_flow", world.merchant.key, days=14))
    assert mine["object"] == "cash_flow" and mine["days"] == 14 and len(mine["by_day"]) == 14
    assert mine["net_minor"] == (
        mine["sales_minor"] - mine["installments_minor"] - mine["cash_outs_minor"]
    )
    named = api.get("/v1/insights/cash_flow", world.operator, merchant_id=world.merchant.id)
    assert api.ok(named)["merchant_id"] == world.merchant.id
    refused = api.get("/v1/insights/cash_flow", world.operator)
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "merchant_id"
    refused = api.get("/v1/insights/cash_flow", world.merchant.key, days=93)
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "days"
    refused = api.get("/v1/insights/cash_flow", world.buyer.key, merchant_id=world.merchant.id)
    assert refused.status_code == 404


def test_the_sales_calendar_over_http(world: World) -> None:
    api = world.api
    mine = api.ok(api.get("/v1/insights/sales_calendar", world.merchant.key, weeks=4))
    assert mine["object"] == "sales_calendar" and mine["weeks"] == 4
    assert mine["weekdays"][0]["weekday"] == "monday" and len(mine["weekdays"]) == 7
    assert set(mine["effects"]) == {"payday", "holiday", "christmas"}
    refused = api.get("/v1/insights/sales_calendar", world.merchant.key, weeks=53)
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "weeks"
    refused = api.get("/v1/insights/sales_calendar", world.operator)
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "merchant_id"
    refused = api.get("/v1/insights/sales_calendar", world.buyer.key, merchant_id=world.merchant.id)
    assert refused.status_code == 404
