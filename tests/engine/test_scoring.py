"""Scoring features are point in time; the rule and the model predict as said."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from o2c_desktop.engine import scoring as sc

NO = sc.NO_DAY


def _book() -> sc.Book:
    # Customer 1: three invoices paid 10, 40 and 0 days late; one open.
    # Customer 2: one invoice paid 5 days early.
    return sc.Book(
        customer=np.array([1, 1, 1, 1, 2], dtype=np.int64),
        issue=np.array([100, 130, 160, 200, 100], dtype=np.int64),
        due=np.array([130, 160, 190, 230, 130], dtype=np.int64),
        amount=np.array([100.0, 200.0, 400.0, 800.0, 50.0]),
        paid=np.array([140, 200, 190, NO, 125], dtype=np.int64),
        event_customer=np.array([1, 1], dtype=np.int64),
        event_day=np.array([150, 195], dtype=np.int64),
        event_kind=np.array(["dispute", "broken"]),
    )


def _at(book: sc.Book, day: int) -> dict[str, float]:
    one = np.array([1], dtype=np.int64)
    x = sc.features(
        book, one, np.array([day]), np.array([day + 30]), np.array([300.0]),
        np.array([day]),
    )  # fmt: skip
    return dict(zip(sc.FEATURES, x[0].tolist(), strict=True))


def test_features_count_only_what_was_known_before_the_cutoff() -> None:
    f = _at(_book(), 195)
    # Paid before day 195: 140 (10 late) and 190 (0 late); 200 is not yet.
    assert f["paid_count"] == 2
    assert f["late_rate"] == 0.5
    assert f["late30_rate"] == 0
    assert f["mean_delay"] == 5
    assert f["median_delay_10"] == 5
    assert f["days_since_paid"] == 5
    assert f["customer_age"] == 95
    assert f["disputes"] == 1
    assert f["broken_promises"] == 0  # broken on 195 itself: not before it
    # Open then: the invoice of 130 (200.00), overdue since 160.
    assert f["open_count"] == 1
    assert f["open_amount_log"] == pytest.approx(np.log1p(200.0))
    assert f["overdue_share"] == 1.0
    assert f["terms"] == 30
    assert f["amount_vs_usual"] == pytest.approx(
        np.log(300.0) - np.mean(np.log([100.0, 200.0, 400.0]))
    )


def test_no_future_row_changes_a_past_feature() -> None:
    book = _book()
    cutoff = 195
    before = _at(book, cutoff)
    future = dataclasses.replace(
        book,
        # The invoice paid on 200 is paid much later; the open one is paid;
        # new invoices, payments and events come after the cutoff.
        customer=np.concatenate([book.customer, [1, 1]]),
        issue=np.concatenate([book.issue, [cutoff, 300]]),
        due=np.concatenate([book.due, [cutoff + 30, 330]]),
        amount=np.concatenate([book.amount, [9e6, 1.0]]),
        paid=np.concatenate([[140, 400, 190, 231, 125], [cutoff, 500]]),
        event_customer=np.concatenate([book.event_customer, [1, 1]]),
        event_day=np.concatenate([book.event_day, [cutoff, 250]]),
        event_kind=np.concatenate([book.event_kind, ["dispute", "broken"]]),
    )
    after = _at(future, cutoff)
    assert after == pytest.approx(before, nan_ok=True)
    # The same book cut at the cutoff gives the same features too.
    assert _at(future.known_before(cutoff), cutoff) == pytest.approx(
        before, nan_ok=True
    )


def test_a_customer_without_history_gets_the_rule_with_its_reason() -> None:
    pop = sc.population(np.array([-5.0, 0.0, 10.0, 40.0]))
    assert (pop.late_rate, pop.late30_rate, pop.median_delay) == (0.5, 0.25, 5.0)
    book = _book()
    x = sc.features(
        book, np.array([3, 1], dtype=np.int64), np.array([300, 300]),
        np.array([330, 330]), np.array([10.0, 10.0]), np.array([300, 300]),
    )  # fmt: skip
    p = sc.rule(x, pop, "small book")
    assert p.reason.tolist() == [sc.RULE_NEW_CUSTOMER, "small book"]
    assert p.delay.tolist() == [5.0, 10.0]  # population median; own median
    # Customer 1: 2 of 3 late, shrunk with 3 payments at the population's 0.5.
    assert p.p_late[1] == pytest.approx((2 + 3 * 0.5) / 6)
    assert p.p_late[0] == pytest.approx(0.5)


def test_too_little_history_is_refused_with_the_figures() -> None:
    x = np.zeros((12, len(sc.FEATURES)))
    with pytest.raises(sc.ScoringError, match="12 paid invoices in the history, 300"):
        sc.train(x, np.zeros(12), np.arange(12))


def test_score_and_class() -> None:
    score = sc.behaviour_score(
        np.array([0.0, 0.3, 0.9, 1.0]), np.array([0, 0.1, 0.5, 1])
    )
    assert score.tolist() == [10.0, 8.0, 3.0, 0.0]
    assert sc.behaviour_class(score) == ["A", "A", "D", "E"]
    assert sc.behaviour_class(np.array([7.9, 5.9, 4.0, 1.99])) == ["B", "C", "C", "E"]
