"""The overview of each example export, imported through its map and mappings alone, names its known problem
in what the user reads: the marketplace's late deliveries, the social export's customer service first."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from tests.data_access.test_example_truths import import_example
from tests.paths import APP


@pytest.fixture
def examples_app(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The app on a database holding the marketplace and social examples, nothing else."""
    import streamlit as st

    from dashboard.settings import get_settings
    from data_access.db import make_engine, upgrade_schema

    url = f"sqlite:///{tmp_path / 'examples.db'}"
    engine = make_engine(url)
    upgrade_schema(engine)
    import_example(engine, "marketplace")
    import_example(engine, "social")
    engine.dispose()
    monkeypatch.setenv("ATLAS_DATABASE_URL", url)
    get_settings.cache_clear()
    st.cache_data.clear()
    st.cache_resource.clear()
    yield
    get_settings.cache_clear()


def _overview(journey: str) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60)
    app.query_params["journey"] = journey
    app.run()
    assert not app.exception
    return app


def _findings(app: AppTest) -> list[str]:
    """The sentences under "Where the answers hurt most", in order."""
    return [str(m.value) for m in app.markdown if "** (" in str(m.value)]


@pytest.mark.usefixtures("examples_app")
def test_the_marketplace_overview_names_the_late_deliveries() -> None:
    app = _overview("marketplace")
    assert app.query_params.get("period") == "all"
    said = _findings(app)
    late = [s for s in said if s.startswith("**Delivered after the promised date** (")]
    assert late, said
    assert "misses target (1.99 against target 4.00)" in late[0]
    assert not any(s.startswith("**Delivered on time**") for s in said)
    captions = [str(c.value) for c in app.caption]
    assert any("only 19 answers for Delivered after the promised date" in c for c in captions)


@pytest.mark.usefixtures("examples_app")
def test_the_social_overview_names_customer_service_first() -> None:
    app = _overview("social")
    subheaders = [s.value for s in app.subheader]
    assert "Where the answers hurt most" in subheaders
    said = _findings(app)
    # the example's truth: customer service is the most common complaint, named as the posts name it
    assert said[0].startswith("**Customer service** (touchpoint in Support): ")
    assert "Most unfavourable answers; unfavourable share stands out" in said[0]
    assert [s.split("** (")[0] for s in said[:3]] == ["**Customer service", "**Delivery", "**Buying"]
