"""Seed a Tryton database for the ERP sync tests (run by the Tryton venv's python).

Not imported by the app or by pytest: `tests/erp/tryton_server.py` runs it as
``.tryton/venv/bin/python tools/tryton_seed.py CONFIG DATABASE`` on a database
whose modules are already activated. It builds, through Tryton's own API
(proteus, in process): a company (EUR), one fiscal year around today, a chart
of accounts, a dunning procedure, 20 customers with SIREN/VAT, addresses and
contacts, 200 invoices (some in two instalments), 10 credit notes, full and
partial payments, on-account payments and a dunning run.
"""

# ruff: noqa: N806 - Tryton's models are classes, named as in its own scenarios

from __future__ import annotations

import datetime as dt
import random
import sys
from decimal import Decimal

from dateutil.relativedelta import relativedelta
from proteus import Model, Wizard, config
from trytond.modules.account.tests.tools import (
    create_chart,
    create_fiscalyear,
    get_accounts,
)
from trytond.modules.account_invoice.tests.tools import (
    set_fiscalyear_invoice_sequences,
)
from trytond.modules.company.tests.tools import create_company, get_company

PARTIES = 20
INVOICES = 200
CREDIT_NOTES = 10
FULL_PAYMENTS = 40
PARTIAL_PAYMENTS = 15


def siren(n: int) -> str:
    """A Luhn-valid 9-digit SIREN built from `n`."""
    body = f"{100000000 + n * 7919:09d}"[:8]
    for check in range(10):
        digits = [int(c) for c in body + str(check)]
        total = 0
        for i, d in enumerate(reversed(digits)):
            if i % 2:
                d *= 2
                d = d - 9 if d > 9 else d
            total += d
        if total % 10 == 0:
            return body + str(check)
    raise AssertionError(body)


def vat(code: str) -> str:
    """The French VAT number of a SIREN."""
    return f"FR{(12 + 3 * (int(code) % 97)) % 97:02d}{code}"


def main(config_file: str, database: str) -> None:
    """Seed `database`."""
    config.set_trytond(database=database, config_file=config_file)
    rng = random.Random(18)
    today = dt.date.today()  # noqa: DTZ011 - Tryton dates moves on the local day

    create_company(currency="EUR")
    company = get_company()
    # Back-dated invoices raise "payment date in the past" warnings: accepted.
    config.get_config().skip_warning = True
    fiscalyear = set_fiscalyear_invoice_sequences(
        create_fiscalyear(
            company,
            (
                today - relativedelta(years=1, month=1, day=1),
                today + relativedelta(years=1, month=12, day=31),
            ),
        )
    )
    fiscalyear.click("create_period")
    create_chart(company)
    accounts = get_accounts(company)

    Journal = Model.get("account.journal")
    (journal_cash,) = Journal.find([("type", "=", "cash")])
    PaymentMethod = Model.get("account.invoice.payment.method")
    method = PaymentMethod(
        name="Bank",
        journal=journal_cash,
        credit_account=accounts["cash"],
        debit_account=accounts["cash"],
    )
    method.save()

    Procedure = Model.get("account.dunning.procedure")
    procedure = Procedure(name="Standard")
    for sequence, days in enumerate((15, 30, 60), start=1):
        level = procedure.levels.new()
        level.sequence = sequence
        level.overdue = dt.timedelta(days)
    procedure.save()

    Term = Model.get("account.invoice.payment_term")
    net30 = Term(name="Net 30")
    line = net30.lines.new(type="remainder")
    line.relativedeltas[0].days = 30
    net30.save()
    split = Term(name="Half at 30, half at 60")
    line = split.lines.new(type="percent", ratio=Decimal("0.5"))
    line.relativedeltas[0].days = 30
    line = split.lines.new(type="remainder")
    line.relativedeltas[0].days = 60
    split.save()

    Lang = Model.get("ir.lang")
    langs = {lang.code: lang for lang in Lang.find([("code", "in", ["en", "fr"])])}
    Party = Model.get("party.party")
    parties = []
    for n in range(1, PARTIES + 1):
        party = Party(name=f"Client {n:04d}")
        party.lang = langs["fr" if n % 3 else "en"]
        party.dunning_procedure = procedure
        code = siren(n)
        party.identifiers.new(type="fr_siren", code=code)
        party.identifiers.new(type="eu_vat", code=vat(code))
        address = party.addresses[0]
        address.street = f"{n} rue de l'Exemple"
        address.postal_code = f"75{n:03d}"
        address.city = "Paris"
        party.contact_mechanisms.new(type="email", value=f"ap{n}@client{n}.example")
        party.contact_mechanisms.new(type="phone", value=f"+33 1 00 00 {n:02d} 00")
        party.save()
        parties.append(party)

    Invoice = Model.get("account.invoice")
    invoices = []
    for n in range(INVOICES + CREDIT_NOTES):
        credit = n >= INVOICES
        invoice = Invoice(type="out")
        invoice.party = parties[n % PARTIES]
        invoice.payment_term = split if n % 7 == 0 else net30
        invoice.invoice_date = today - dt.timedelta(days=rng.randint(0, 180))
        invoice.reference = f"PO-{n:05d}"
        line = invoice.lines.new()
        line.account = accounts["revenue"]
        line.description = "Services"
        line.quantity = -1 if credit else rng.randint(1, 5)
        line.unit_price = Decimal(rng.randint(50, 4000)).quantize(Decimal("0.01"))
        invoices.append(invoice)
    Invoice.save(invoices)
    Invoice.click(invoices, "post")

    def pay(invoice, amount=None):
        wizard = invoice.click("pay")
        if amount is not None:
            wizard.form.amount = amount
        wizard.form.payment_method = method
        wizard.form.date = invoice.invoice_date + dt.timedelta(days=10)
        wizard.execute("choice")
        if amount is not None:
            wizard.form.type = "partial"
            wizard.execute("pay")

    out = invoices[:INVOICES]
    for invoice in out[:FULL_PAYMENTS]:
        pay(invoice)
    for invoice in out[FULL_PAYMENTS : FULL_PAYMENTS + PARTIAL_PAYMENTS]:
        invoice.reload()
        pay(invoice, (invoice.total_amount / 3).quantize(Decimal("0.01")))

    # Payments received without an invoice (on account): open credit lines.
    Move = Model.get("account.move")
    Period = Model.get("account.period")
    period = Period.find([("start_date", "<=", today), ("end_date", ">=", today)])[0]
    for n in range(3):
        move = Move(journal=journal_cash, date=today, period=period)
        move.description = f"Transfer on account {n}"
        line = move.lines.new(account=accounts["cash"], debit=Decimal("150.00"))
        line = move.lines.new(
            account=accounts["receivable"],
            credit=Decimal("150.00"),
            party=parties[n],
        )
        move.save()
        move.click("post")

    create = Wizard("account.dunning.create")
    create.form.date = today
    create.execute("create_")
    Dunning = Model.get("account.dunning")
    dunnings = Dunning.find([("state", "=", "draft")], order=[("id", "ASC")])
    if dunnings:
        Wizard("account.dunning.process", dunnings[: len(dunnings) // 2])
    for dunning in dunnings[-2:]:
        dunning.blocked = True
        dunning.save()
    print(
        f"seeded {len(parties)} parties, {len(invoices)} invoices, "
        f"{len(dunnings)} dunnings"
    )


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
