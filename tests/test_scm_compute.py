"""The Standard Cost Model's arithmetic, from the worked example in ``review_app/scm/compute.py``
(and the README): a reporting duty of 3 h (2–5) at 2,500 ₸/h, 4 times a year, by 100 % (80–100)
of 12,000 businesses costs 360,000,000 ₸ a year (192,000,000 – 600,000,000)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from review_app.scm.compute import (
    Action,
    Estimate,
    InputError,
    MissingTariff,
    compute,
    dump,
    format_cell,
    format_estimate,
    load,
    parse_cell,
    parse_estimate,
    stored_cost,
)

RATES = {"ACCOUNTANT": Decimal(2500)}

REPORT = Action(name="Quarterly report", hours=parse_estimate("3 (2–5)"), tariff="ACCOUNTANT",
                per_year=parse_estimate("4"), share=parse_estimate("100 (80–100)", percent=True))


def test_the_worked_example_costs_360_million_tenge_a_year_between_192_and_600_million():
    cost = compute([REPORT], 12_000, RATES)
    part = cost.actions[0]
    assert part.per_occurrence.central == 7_500
    assert part.per_business.central == 30_000
    assert (cost.central, cost.low, cost.high) == (360_000_000, 192_000_000, 600_000_000)


def test_outside_costs_are_added_per_occurrence_and_actions_add_up():
    audit = Action(name="Audit", hours=Estimate.of(8), hourly=Estimate.of(3000),
                   outside=Estimate.of(50_000), per_year=Estimate.of(1),
                   share=Estimate.of("0.25"))
    cost = compute([REPORT, audit], 12_000, RATES)
    # (8 × 3 000 + 50 000) × 1 × 25 % × 12 000 = 222 000 000
    assert cost.actions[1].total.central == 222_000_000
    assert cost.central == 360_000_000 + 222_000_000


def test_a_missing_tariff_or_hourly_rate_is_refused_naming_the_action():
    with pytest.raises(MissingTariff) as caught:
        compute([REPORT], 10, {})
    assert caught.value.action == 0
    with pytest.raises(InputError):
        compute([Action(name="x", hours=Estimate.of(1))], 10, RATES)


@pytest.mark.parametrize(("text", "expected"), [
    ("3", ("3", "3", "3")), ("3 (2–5)", ("3", "2", "5")), ("2,5 (2-3,5)", ("2.5", "2", "3.5")),
    ("12 000", ("12000", "12000", "12000")),
    ("1\u00a0500 (1 000 — 2 000)", ("1500", "1000", "2000")),
])
def test_inputs_are_read_with_comma_decimals_grouped_digits_and_ranges(text, expected):
    value = parse_estimate(text)
    assert (value.central, value.low, value.high) == tuple(Decimal(x) for x in expected)


@pytest.mark.parametrize("text", ["", "abc", "3 (4–5)", "3 (1–2)", "-1", "1e9", "3 (2-)", "150"])
def test_junk_and_ranges_that_do_not_hold_the_value_are_refused(text):
    with pytest.raises(InputError):
        parse_estimate(text, percent=True)


def test_shares_are_written_in_percent():
    assert parse_estimate("80 (60–100)", percent=True) == Estimate.of("0.8", "0.6", "1")
    assert format_estimate(Estimate.of("0.8", "0.6", "1"), percent=True) == "80 (60–100)"


def test_inputs_survive_storage_and_their_text_form():
    assert load(dump([REPORT])) == [REPORT]
    assert parse_estimate(format_estimate(REPORT.hours)) == REPORT.hours


amounts = st.decimals(min_value=0, max_value=10_000, places=2, allow_nan=False,
                      allow_infinity=False)


@st.composite
def estimates(draw, top=amounts):
    values = sorted(draw(st.lists(top, min_size=3, max_size=3)))
    return Estimate.of(values[1], values[0], values[2])


@st.composite
def actions(draw):
    own = draw(st.booleans())
    return Action(name="a", hours=draw(estimates()), tariff=None if own else "ACCOUNTANT",
                  hourly=draw(estimates()) if own else None, outside=draw(estimates()),
                  per_year=draw(estimates()),
                  share=draw(estimates(st.decimals(min_value=0, max_value=1, places=3))))


@given(st.lists(actions(), min_size=1, max_size=5), st.integers(0, 1_000_000))
def test_the_range_always_holds_the_central_value(items, businesses):
    cost = compute(items, businesses, RATES)
    assert 0 <= cost.low <= cost.central <= cost.high


@given(st.lists(actions(), min_size=1, max_size=5), st.integers(0, 100_000))
def test_twice_the_businesses_cost_twice_as_much_within_rounding(items, businesses):
    one = compute(items, businesses, RATES)
    two = compute(items, 2 * businesses, RATES)
    assert abs(two.central - 2 * one.central) <= 1


@given(st.lists(actions(), min_size=2, max_size=5), st.integers(0, 100_000))
def test_a_requirement_costs_the_sum_of_its_actions_within_rounding(items, businesses):
    whole = compute(items, businesses, RATES).central
    parts = sum(compute([a], businesses, RATES).central for a in items)
    assert abs(whole - parts) <= len(items)


def test_a_file_cell_holds_one_action_per_line_and_reads_back_what_the_export_writes():
    cell = ("Ежеквартальный отчёт; 3 (2–5); ACCOUNTANT; 0; 4; 100 (80–100)\n"
            "Аудит; 8; 3 000; 50 000; 1; 25")
    actions = parse_cell(cell)
    assert actions[0] == Action(name="Ежеквартальный отчёт", hours=REPORT.hours,
                                tariff="ACCOUNTANT", per_year=REPORT.per_year, share=REPORT.share)
    assert actions[1].hourly == Estimate.of(3000) and actions[1].share == Estimate.of("0.25")
    assert parse_cell(format_cell(actions)) == actions
    assert parse_cell("Отчёт; 1; ACCOUNTANT")[0].per_year == Estimate.of(1)


@pytest.mark.parametrize(("cell", "line", "field"), [
    ("Отчёт; 3", 0, None), ("a; 1; X\nb; x; X", 1, "hours"), ("a; 1; 2500; 0; 4; 120", 0, "share"),
])
def test_a_bad_cell_names_the_line_and_the_part(cell, line, field):
    with pytest.raises(InputError) as caught:
        parse_cell(cell)
    assert (caught.value.action, caught.value.field) == (line, field)


@given(st.lists(actions(), min_size=1, max_size=5), st.integers(0, 1_000_000))
def test_the_bulk_path_computes_exactly_what_compute_does(items, businesses):
    cost = compute(items, businesses, RATES)
    assert stored_cost(dump(items), businesses, RATES) == (cost.central, cost.low, cost.high)
