"""The rails monitor in Chromium at a phone's width (360 px): the operator reads the
transfers, the PESONet batch and a reconciliation break without the page running off the
screen, in English and then Filipino (one journey; the page's contents are checked on both
databases through HTTP in ``test_rails_monitor``)."""

from __future__ import annotations

from tests.web.conftest import Site
from tests.web.test_browser import (  # noqa: F401 (fixtures)
    FITS,
    db_url,
    go,
    live,
    open_page,
    shots,
    sign_in,
)
from tests.web.test_rails_monitor import seed_rails


def test_the_operator_reads_the_rails_monitor_at_360_px(site: Site, clock, open_page):  # noqa: F811
    seed_rails(site, clock)
    page = open_page()
    sign_in(page, site.operator)
    go(page, "/op/rails")
    assert page.get_by_role("heading", name="Bank rails", level=1).is_visible()
    assert page.get_by_role("heading", name="PESONet batches").is_visible()
    assert page.get_by_text("Amount mismatch").first.is_visible()
    for section in ("#flight-h", "#recon-h", ".stats"):
        assert page.evaluate(FITS, section), section
    widest = page.evaluate("() => document.documentElement.scrollWidth")
    assert widest <= 360, f"the page is {widest} px wide"  # wide tables scroll in their box
    shots(page, "op-rails")
    page.get_by_role("button", name="Filipino").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Mga batch ng PESONet").is_visible()
    assert page.get_by_text("Hindi tugma ang halaga").first.is_visible()
