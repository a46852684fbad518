"""The personas page through Streamlit's AppTest: a persona's profile and numbers, the comparison, bad parameters."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from streamlit.testing.v1 import AppTest

from tests.paths import APP

JOURNEY = "northwind-current"


@pytest.fixture
def run_personas(app_env: str) -> Callable[..., AppTest]:
    def run(**params: str) -> AppTest:
        app = AppTest.from_file(APP, default_timeout=120)
        app.run()
        app.switch_page("../pages/personas.py")
        app.query_params.clear()
        for name, value in params.items():
            app.query_params[name] = value
        return app.run()

    return run


def _param(app: AppTest, name: str) -> str | None:
    value = app.query_params.get(name)
    return value[0] if isinstance(value, list) else value


def _texts(app: AppTest) -> str:
    parts = [m.value for m in app.markdown] + [c.value for c in app.caption] + [t.value for t in app.title]
    parts += [h.value for h in app.header] + [s.value for s in app.subheader]
    parts += [w.value for w in app.warning] + [i.value for i in app.info]
    return "\n".join(str(p) for p in parts)


def test_a_persona_shows_profile_empathy_map_and_numbers(run_personas: Callable[..., AppTest]) -> None:
    """Profile, the four empathy quadrants, share of customers, headlines against everyone, the comparison."""
    app = run_personas(journey=JOURNEY, persona="remote-worker", metric="csat")
    assert not app.exception
    text = _texts(app)
    assert "Remote worker" in [h.value for h in app.header]
    for title in ("Who they are", "Goals", "Frustrations", "Empathy map", "Thinks", "Feels", "Says", "Does"):
        assert f"**{title}**" in text
    assert "If the line goes down I lose a day" in text
    assert "of the journey's stage entries in the period" in text
    assert "Headline metrics against the whole customer base" in text
    assert len(app.metric) >= 3
    assert "Personas side by side" in text
    assert app.selectbox(key="personas_metric").value == "csat"
    assert _param(app, "persona") == "remote-worker" and _param(app, "metric") == "csat"
    assert _param(app, "journey") == JOURNEY and ((_param(app, "from") and _param(app, "to")) or _param(app, "period"))


def test_without_a_persona_every_persona_has_a_card(run_personas: Callable[..., AppTest]) -> None:
    """No persona in the link: one card per persona, and the comparison coloured by measured emotion."""
    app = run_personas(journey=JOURNEY)
    assert not app.exception
    text = _texts(app)
    for name in ("Budget\\-conscious family", "Digital native", "Remote worker", "Small business owner"):
        assert f"**{name}**" in text
    assert _param(app, "metric") == "emotion"
    assert not app.warning


def test_choosing_a_metric_writes_it_into_the_url(run_personas: Callable[..., AppTest]) -> None:
    """The comparison's metric is held in the URL."""
    app = run_personas(journey=JOURNEY, persona="digital-native")
    app.selectbox(key="personas_metric").select("nps").run()
    assert not app.exception
    assert _param(app, "metric") == "nps" and _param(app, "persona") == "digital-native"


@pytest.mark.parametrize(
    ("params", "notice"),
    [
        ({"persona": "nobody"}, "Parameter `persona`: 'nobody' is unknown"),
        ({"metric": "health"}, "Parameter `metric`: 'health' is unknown"),
        ({"journey": "atlantis"}, "Parameter `journey`: 'atlantis' is unknown"),
        ({"from": "yesterday"}, "Parameter `from`: 'yesterday' is not a date"),
    ],
)
def test_bad_parameters_give_a_notice_and_a_default(
    run_personas: Callable[..., AppTest], params: dict[str, str], notice: str
) -> None:
    """An unknown persona, metric or journey, or a bad date, is named in a notice; the page still draws."""
    app = run_personas(**params)
    assert not app.exception
    assert any(notice in w.value for w in app.warning), [w.value for w in app.warning]
    assert "Personas side by side" in _texts(app)


def test_presentation_mode_has_no_sidebar_widgets(run_personas: Callable[..., AppTest]) -> None:
    """With present=1 the page draws without the filters and keeps the parameter."""
    app = run_personas(journey=JOURNEY, persona="small-business", present="1")
    assert not app.exception
    assert not app.sidebar.selectbox
    assert _param(app, "present") == "1"
    assert "Small business owner" in [h.value for h in app.header]
