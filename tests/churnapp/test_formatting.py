"""Figures read the same on every page: one set of template filters formats them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.template import Context, Template

from churnapp.templatetags import formatting as f


def test_money_has_its_sign_and_a_real_minus():
    assert f.money(-5750.25, 2) == "−$5,750.25"
    assert f.money(Decimal("1234.6")) == "$1,235"
    assert f.money(-8) == "−$8"
    assert f.money(None) == "—"
    assert f.money(0) == "$0"


def test_percent_delta_and_signed():
    assert f.percent(0.231) == "23.1 %"
    assert f.percent(0.004, 0) == "<1 %"
    assert f.percent(0, 0) == "0 %"
    assert f.percent(-0.05, 0) == "−5 %"
    assert f.delta(-10) == "▼ 10"
    assert f.delta(3) == "▲ 3"
    assert f.delta(0) == "± 0"
    assert f.signed(-3) == "−3" and f.signed(12) == "+12"


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2026-11-22T15:45:44+00:00", "Nov 22, 2026 15:45"),
        ("2026-11-22", "Nov 22, 2026"),
        (dt.date(2026, 1, 5), "Jan 5, 2026"),
        (None, "—"),
        (1234, "1,234"),
        (2.5, "2.5"),
        ("smb", "smb"),
    ],
)
def test_human_value_never_shows_iso_timestamps(value, expected, settings):
    settings.TIME_ZONE = "UTC"
    assert f.human_value(value) == expected


def test_human_label_and_bullets():
    assert f.human_label("ACQUISITION_CHANNEL") == "Acquisition channel"
    html = Template("{{ body|bullets }}").render(Context({"body": "Created by rule “x”.\n- Health: 30\n- <b>x</b>: 1"}))
    assert html == "<p>Created by rule “x”.</p><ul><li>Health: 30</li><li>&lt;b&gt;x&lt;/b&gt;: 1</li></ul>"
    assert "- " not in html


def test_filters_are_builtins_everywhere():
    out = Template("{{ a|money:2 }} {{ b|delta }} {{ c|percent:0 }}").render(Context({"a": -5750.25, "b": -10,
                                                                                     "c": 0.5}))  # fmt: skip
    assert out == "−$5,750.25 ▼ 10 50 %"
