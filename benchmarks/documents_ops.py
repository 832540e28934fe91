"""Document benchmarks (issue 5): run `python -m benchmarks.documents_ops`.

Budgets: 1,000 one-page letters <= 15 s (context, template and PDF each);
a 500-item statement of account <= 1 s. Pure engine work, no database: the
service adds one small query per customer.
"""

from __future__ import annotations

import datetime as dt
import sys
import time
from decimal import Decimal
from typing import Any

from o2c_desktop.engine import letters, pdf
from o2c_desktop.engine import templates as tpl
from o2c_desktop.engine.interest import FRANCE
from o2c_desktop.engine.types import Channel, ItemKind

TODAY = dt.date(2024, 9, 30)
ENTITY = letters.Letterhead(
    name="Acme France",
    legal_form="SAS",
    address1="12 rue de la République",
    postal_code="69002",
    city="Lyon",
    legal_id="RCS Lyon 123 456 789",
    vat_number="FR12123456789",
    iban="FR76 3000 4000 0500 0012 3456 789",
    bic="BNPAFRPPXXX",
)


def _items(customer: int, count: int) -> list[letters.AccountItem]:
    out = []
    for n in range(count):
        due = TODAY - dt.timedelta(days=5 + (customer * 7 + n * 13) % 200)
        amount = Decimal(1000 + (customer * 37 + n * 101) % 9000) + Decimal("0.45")
        out.append(
            letters.AccountItem(
                f"FA-{customer:05d}-{n:03d}",
                ItemKind.INVOICE,
                due - dt.timedelta(days=30),
                due,
                amount,
                amount,
                "EUR",
                disputed=n % 40 == 39,
            )
        )
    return out


def letters_1000(count: int = 1000) -> dict[str, Any]:
    """Render `count` one-page reminder letters (3 items each), one PDF each."""
    template = tpl.choose_template(
        tpl.default_templates(), "REMINDER_1", Channel.LETTER, "fr", "fr"
    )
    assert template is not None
    pdf.fonts()
    start = time.perf_counter()
    cpu = time.process_time()
    size = 0
    for n in range(count):
        customer = letters.Party(
            f"C{n:05d}", f"Client {n} SARL", "1 rue du Port", "", "13002", "Marseille"
        )
        ctx = letters.build_context(
            customer,
            ENTITY,
            _items(n, 3),
            TODAY,
            FRANCE,
            collector=letters.Person("Alex Rossi", phone="04 72 00 00 10"),
        )
        rendered = tpl.render(template.template, letters.merge_fields(ctx, "fr"))
        size += len(pdf.letter_pdf(letters.printed_letter(ctx, rendered, "fr")))
    seconds = time.perf_counter() - start
    # CPU time too: a loaded machine (parallel test runs) inflates wall time.
    return {
        "letters": count,
        "seconds": round(seconds, 2),
        "cpu_seconds": round(time.process_time() - cpu, 2),
        "bytes": size,
        "budget": 15,
    }


def statement_500(items: int = 500) -> dict[str, Any]:
    """Render one statement of account of `items` open items."""
    customer = letters.Party("C00001", "Grand Compte SA", "1 quai", "", "69002", "Lyon")
    ctx = letters.build_context(customer, ENTITY, _items(1, items), TODAY, FRANCE)
    pdf.fonts()
    start = time.perf_counter()
    data = pdf.report_pdf(letters.printed_statement(ctx, "fr"))
    seconds = time.perf_counter() - start
    start = time.perf_counter()
    interest = pdf.report_pdf(letters.printed_interest_statement(ctx, "fr"))
    interest_seconds = time.perf_counter() - start
    return {
        "items": items,
        "seconds": round(seconds, 3),
        "pages": pdf.page_count(data),
        "interest_seconds": round(interest_seconds, 3),
        "interest_pages": pdf.page_count(interest),
        "budget": 1,
    }


def main() -> int:
    """Run both benchmarks and print their figures."""
    print("1,000 letters:", letters_1000())
    print("500-item statement:", statement_500())
    return 0


if __name__ == "__main__":
    sys.exit(main())
