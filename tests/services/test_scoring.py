"""Payment scoring on a demo book: measured against baselines, stored, applied."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np
import pytest
from sqlalchemy import func, select

from o2c_desktop.engine import scoring as sc
from o2c_desktop.engine import scoring_eval as ev
from o2c_desktop.models import Customer, CustomerScore, Item, ItemPrediction, ScoreModel
from o2c_desktop.services.context import AppContext
from o2c_desktop.services.demo import build_demo
from o2c_desktop.services.forecast import ForecastService
from o2c_desktop.services.scoring import ScoringService

if TYPE_CHECKING:
    from o2c_desktop.models.db import Database

TODAY = dt.date(2026, 3, 2)


@pytest.fixture
def book(db: Database) -> AppContext:
    build_demo(db, customers=300, items=9000, seed=5, today=TODAY)
    return AppContext(db=db, user_login="night-job")


def test_the_model_beats_every_baseline_on_the_demo_book(book: AppContext) -> None:
    e = ScoringService(book).evaluate(dt.date(2025, 9, 1))
    model, customer = e.by_name(ev.MODEL), e.by_name(ev.B_CUSTOMER)
    population = e.by_name(ev.B_POPULATION)
    assert e.model_ships, e.reason
    assert model.auc is not None
    assert customer.auc is not None
    assert model.auc > customer.auc
    assert population.auc == 0.5
    assert model.brier is not None
    assert customer.brier is not None
    assert model.brier < customer.brier
    assert model.mae_days is not None
    assert model.mae_days < (e.by_name(ev.B_MEAN).mae_days or 0)
    assert model.mae_days < (e.by_name(ev.B_DUE).mae_days or 0)
    assert model.coverage is not None
    assert 0.7 < model.coverage < 0.9
    assert e.trained_on + e.predicted + e.still_open <= 9000


def test_a_split_date_outside_the_book_is_refused(book: AppContext) -> None:
    service = ScoringService(book)
    with pytest.raises(sc.ScoringError, match="split date 2030-01-01 is outside"):
        service.evaluate(dt.date(2030, 1, 1))
    with pytest.raises(sc.ScoringError, match="split date 2000-01-01 is outside"):
        service.evaluate(dt.date(2000, 1, 1))
    with pytest.raises(sc.ScoringError, match="choose an earlier split date"):
        service.evaluate(TODAY)


def test_cancelling_training_stores_nothing(book: AppContext) -> None:
    with pytest.raises(sc.TrainingCancelled):
        ScoringService(book).train(TODAY, cancelled=lambda: True)
    with book.db.session() as s:
        assert s.scalar(select(func.count()).select_from(ScoreModel)) == 0


def test_train_then_apply_scores_customers_and_open_invoices(book: AppContext) -> None:
    service = ScoringService(book)
    shares: list[float] = []
    trained = service.train(TODAY, report=shares.append)
    assert trained.basis == "model"
    assert shares[-1] == 1.0
    result = service.apply(TODAY)
    assert result.basis == "model"
    with book.db.session() as s:
        stored = s.scalars(select(ScoreModel)).one()
        assert stored.model_text is not None
        assert sc.Model.from_text(stored.model_text).features == sc.FEATURES
        assert stored.evaluation["model_ships"] is True
        open_invoices = s.scalar(
            select(func.count())
            .select_from(Item)
            .where(Item.kind == "invoice", Item.status == "open", Item.remaining > 0)
        )
        assert s.scalar(select(func.count()).select_from(ItemPrediction)) == (
            open_invoices
        )
        assert result.items == open_invoices
        scores = s.execute(
            select(CustomerScore.customer_id, CustomerScore.score,
                   CustomerScore.risk_class)
        ).all()  # fmt: skip
        assert len(scores) == result.customers
        customers = dict(s.execute(select(Customer.id, Customer.risk_class)).all())
        assert all(customers[c] == k for c, _, k in scores)
        bad = s.execute(
            select(ItemPrediction.pay_date, ItemPrediction.pay_low,
                   ItemPrediction.pay_high)
        ).all()  # fmt: skip
        assert all(lo <= mid <= hi for mid, lo, hi in bad)
        # Nothing overdue is expected before the day it is scored on.
        assert min(mid for mid, _, _ in bad) >= TODAY
    assert sum(result.classes.values()) == result.customers
    # A second apply the same day replaces, never duplicates.
    service.apply(TODAY)
    with book.db.session() as s:
        assert s.scalar(select(func.count()).select_from(CustomerScore)) == (
            result.customers
        )


def test_a_small_book_falls_back_to_the_rule_with_the_reason(db: Database) -> None:
    build_demo(db, customers=25, items=400, seed=3, today=TODAY)
    ctx = AppContext(db=db, user_login="night-job")
    trained = ScoringService(ctx).train(TODAY)
    assert trained.basis == "rule"
    assert "needed" in trained.reason
    result = ScoringService(ctx).apply(TODAY)
    assert result.basis == "rule"
    with db.session() as s:
        reasons = set(s.scalars(select(ItemPrediction.reason)))
        assert all(r for r in reasons)


def test_the_backtest_beats_the_due_date_projection(book: AppContext) -> None:
    b = ForecastService(book).backtest(dt.date(2025, 10, 1), weeks=13)
    assert b.basis == "model"
    assert len(b.weeks) == 13
    assert b.cumulative_wape_model < b.cumulative_wape_due_dates
    assert b.wape_model < b.wape_due_dates
    actual = sum(w.actual for w in b.weeks)
    assert actual > 0
    with pytest.raises(sc.ScoringError, match="outside the book"):
        ForecastService(book).backtest(dt.date(2026, 2, 1), weeks=13)


def test_the_forecast_has_bands_around_the_expected_receipts(book: AppContext) -> None:
    ScoringService(book).train(TODAY)
    f = ForecastService(book).forecast(TODAY)
    assert len(f.weeks) == 13
    assert all(w.low <= w.expected <= w.high for w in f.weeks)
    assert f.landing_low <= f.landing <= f.landing_high
    assert f.landing_day == dt.date(2026, 3, 31)
    total = np.sum([float(w.expected) for w in f.weeks])
    assert total > 0


def test_the_cash_dashboard_shows_the_model_line_once_scored(book: AppContext) -> None:
    from o2c_desktop.engine.analytics import DashboardFilter
    from o2c_desktop.services.dashboards import MODEL_SERIES, DashboardService

    dashboards = DashboardService(book)
    before = dashboards.cash(DashboardFilter(), TODAY)
    assert MODEL_SERIES not in [s.name for s in before.series]
    ScoringService(book).train(TODAY)
    ScoringService(book).apply(TODAY)
    after = dashboards.cash(DashboardFilter(), TODAY)
    line = next(s for s in after.series if s.name == MODEL_SERIES)
    assert after.columns[-1] == MODEL_SERIES
    assert [r[-1] for r in after.rows] == list(line.values)
    assert all(v is None for v in line.values[:9])  # past weeks and this one
    assert sum(v for v in line.values if v is not None) > 0
    with book.db.session() as s:
        # Each week's figure is the open remaining predicted to be paid that week.
        busiest = max(range(9, 16), key=lambda i: line.values[i] or 0)
        week1 = after.drill[busiest]
        expected = s.scalar(
            select(func.sum(Item.remaining))
            .join(ItemPrediction, ItemPrediction.item_id == Item.id)
            .where(
                Item.currency == after.currency,
                ItemPrediction.pay_date >= week1,
                ItemPrediction.pay_date < week1 + dt.timedelta(days=7),
            )
        )
    assert line.values[busiest] == expected


def test_the_client_card_shows_each_open_invoice_s_expected_pay_date(
    book: AppContext,
) -> None:
    from o2c_desktop.engine.workbench import ItemQuery
    from o2c_desktop.services.workbench import WorkbenchService

    with book.db.session() as s:
        customer = s.scalar(
            select(Item.customer_id)
            .where(Item.status == "open", Item.kind == "invoice", Item.remaining > 0)
            .limit(1)
        )
    assert customer is not None
    cards = WorkbenchService(book)
    query = ItemQuery(open_only=True, limit=200)
    before = cards.items(customer, query, TODAY)
    assert all(r.expected_pay_date is None for r in before.rows)
    ScoringService(book).apply(TODAY)  # no model yet: the rule, with its reason
    after = cards.items(customer, query, TODAY)
    with book.db.session() as s:
        stored = dict(
            s.execute(select(ItemPrediction.item_id, ItemPrediction.pay_date)).all()
        )
    shown = {r.id: r.expected_pay_date for r in after.rows if r.remaining > 0}
    assert shown
    assert shown == {i: stored.get(i) for i in shown}
    assert all(d is not None for d in shown.values())
