"""What the words of a header say, for headers no synonym list holds (#17).

A header is folded by `fields.normalize()` (camelCase and snake_case split,
accents gone), cut into words, abbreviations expanded (cust, doc, amt, dt,
curr...), and each word read as a concept (customer, identifier, date, due,
amount, open...). `header_scores()` then says how strongly the header means
each field: "net_due_dt", "clientId" or "Amount outstanding (EUR)" count even
though no list holds them. SAP table field names (KUNNR, BELNR...) are words
of their own.
"""

from __future__ import annotations

from o2c_desktop.sync.importing.fields import Field, normalize

F = Field

ABBREVIATIONS = {
    "cust": "customer",
    "cus": "customer",
    "cst": "customer",
    "clt": "client",
    "doc": "document",
    "docs": "document",
    "amt": "amount",
    "amnt": "amount",
    "dt": "date",
    "dte": "date",
    "curr": "currency",
    "cur": "currency",
    "ccy": "currency",
    "crncy": "currency",
    "no": "number",
    "nr": "number",
    "nbr": "number",
    "num": "number",
    "nb": "number",
    "inv": "invoice",
    "ref": "reference",
    "acct": "account",
    "acc": "account",
    "bal": "balance",
    "orig": "original",
    "outst": "outstanding",
    "rem": "remaining",
    "desc": "description",
    "descr": "description",
    "qty": "quantity",
    "fact": "facture",
    "ech": "echeance",
    "mt": "montant",
    "mnt": "montant",
    "lib": "libelle",
    "pce": "piece",
    "stlmt": "settlement",
}

_TAXES = frozenset({"tax", "taxes", "vat", "tva", "gst"})
# SAP table field names: the words of an SE16/ALV export with technical names.
SAP_FIELDS: dict[str, Field] = {
    "kunnr": F.CUSTOMER_REF,
    "name1": F.CUSTOMER_NAME,
    "belnr": F.NUMBER,
    "vbeln": F.NUMBER,
    "xblnr": F.REFERENCE,
    "zuonr": F.REFERENCE,
    "buzei": F.INSTALMENT,
    "bldat": F.ISSUE_DATE,
    "fkdat": F.ISSUE_DATE,
    "faedt": F.DUE_DATE,
    "netdt": F.DUE_DATE,
    "wrbtr": F.REMAINING,
    "dmbtr": F.REMAINING,
    "waers": F.CURRENCY,
    "shkzg": F.DEBIT_CREDIT,
    "blart": F.KIND,
    "augdt": F.SETTLED_DATE,
}
# Recognised, never imported: posting date, baseline date, company code...
SAP_IGNORED = frozenset(
    {"budat", "zfbdt", "augbl", "bukrs", "gjahr", "monat", "bschl", "hkont", "sgtxt"}
)


def words_set(text: str) -> frozenset[str]:
    """A set of words written as one string."""
    return frozenset(text.split())


_words_set = words_set
_CONCEPTS: dict[str, frozenset[str]] = {
    "cust": _words_set(
        "customer customers client clients debtor debitor kunde kunden tiers "
        "partner partenaire cliente contact buyer auxiliaire payer soldto"
    ),
    "name": _words_set(
        "name nom raison sociale intitule nombre denomination bezeichnung "
        "kundenname firma"
    ),
    "id": _words_set(
        "number numero nummer id code key reference account compte konto codigo cle"
    ),
    "num": _words_set("number numero nummer"),
    "doc": _words_set(
        "invoice facture document piece beleg rechnung factura documento bill "
        "voucher transaction ecriture move entry rechnungs"
    ),
    "invoice": _words_set("invoice facture rechnung factura bill"),
    "date": _words_set("date datum fecha day data"),
    "due": _words_set(
        "due echeance falligkeit fallig faelligkeit vencimiento maturity "
        "deadline expiry nettofalligkeit"
    ),
    "issue": _words_set(
        "invoice document issue piece beleg rechnung factura emission bill "
        "transaction creation created facture documento belegdatum"
    ),
    "post": _words_set("posting buchung buchungs comptable booking accounting"),
    "base": _words_set("baseline base"),
    "amount": _words_set(
        "amount montant betrag importe value valeur total sum somme gross ttc "
        "wert monto"
    ),
    "open": _words_set(
        "open remaining outstanding residual balance reste restant solde offen "
        "offener rest pendiente saldo unpaid left encours residuel du owed "
        "ouvert"
    ),
    "original": _words_set("original initial invoice gross total ttc facture"),
    "paid": _words_set(
        "paid payment payments settled regle reglement cleared paye bezahlt "
        "pagado received collected encaisse"
    ),
    "settle": _words_set(
        "clearing settlement settled cleared paid payment reglement lettrage "
        "ausgleich ausgleichs compensation lettering pago encaissement regle "
        "paye"
    ),
    "currency": _words_set(
        "currency devise monnaie wahrung waehrung moneda divisa iso"
    ),
    "type": _words_set("type kind nature art tipo category typ"),
    "instalment": _words_set("instalment installment teilzahlung plazo position buzei"),
    "ref": _words_set(
        "reference assignment zuordnung po order commande referenz referencia "
        "affectation"
    ),
    "label": _words_set(
        "description memo libelle label text texte comment designation"
    ),
    "dispute": _words_set(
        "disputed dispute litige litigation contested strittig reclamation contestation"
    ),
    # Words of columns that are never imported: ageing, days, contacts...
    "aging": _words_set(
        "days jours tage age aging ageing late retard arrears past bucket "
        "period periode exercice year fiscal tax vat tva steuer phone email "
        "mobile terms class group company profit center status seen sent rate "
        "exchange unnamed index row line uberfallig overdue"
    ),
}


def words(header: object) -> list[str]:
    """The header's words, abbreviations expanded: "cust_no" -> customer number."""
    out = [ABBREVIATIONS.get(w, w) for w in normalize(header).split()]
    # "amount with tax", "incl. VAT": the gross amount, not a tax column.
    for i in range(len(out) - 1):
        if out[i] in {"with", "incl", "including"} and out[i + 1] in _TAXES:
            out[i : i + 2] = ["ttc", ""]
    return [w for w in out if w]


def concepts(header: object) -> set[str]:
    """The concepts the header's words stand for."""
    found = set()
    for word in words(header):
        found |= {name for name, members in _CONCEPTS.items() if word in members}
    return found


def header_scores(header: object) -> dict[Field, float]:
    """How strongly the header's words mean each field (0 to 0.9).

    Returns:
        Field -> score; `Field.IGNORE` scores a header whose words say it is
        never imported (days late, ageing buckets, contacts, index).
    """
    ws = words(header)
    out: dict[Field, float] = {}
    if not ws:
        return out
    for w in ws:
        if w in SAP_FIELDS:
            out[SAP_FIELDS[w]] = 0.95
        elif w in SAP_IGNORED:
            out[F.IGNORE] = 0.9
    if out:
        return out
    c = concepts(header)

    def put(target: Field, score: float) -> None:
        out[target] = max(out.get(target, 0.0), score)

    if "aging" in c:
        put(F.IGNORE, 0.85)
        if "due" in c and "date" in c and "past" not in ws and "days" not in ws:
            put(F.DUE_DATE, 0.6)  # "Net due date (arrears)" still a date
        return out
    has_date = "date" in c
    if has_date or ("due" in c and not c & {"amount", "open"}):
        if "settle" in c and has_date:
            put(F.SETTLED_DATE, 0.9)
        elif "due" in c:
            put(F.DUE_DATE, 0.9)
        elif "post" in c:
            put(F.ISSUE_DATE, 0.8)
        elif "base" in c:
            put(F.ISSUE_DATE, 0.45)
            put(F.DUE_DATE, 0.4)
        elif "issue" in c or c == {"date"}:
            put(F.ISSUE_DATE, 0.9 if "issue" in c else 0.8)
        elif has_date:
            put(F.ISSUE_DATE, 0.5)
        return out
    if c & {"amount", "open", "paid"}:
        if "paid" in c and "open" not in c:
            put(F.PAID_AMOUNT, 0.9 if "amount" in c else 0.6)
        elif "open" in c:
            put(F.REMAINING, 0.95 if "amount" in c else 0.85)
        elif "amount" in c:
            put(F.AMOUNT, 0.9 if "original" in c else 0.8)
        if "amount" in c:
            return out
    if "currency" in c:
        put(F.CURRENCY, 0.9)
        return out
    if "dispute" in c:
        put(F.DISPUTED, 0.9)
    if "type" in c:
        put(F.KIND, 0.85)
    if "instalment" in c:
        put(F.INSTALMENT, 0.9)
    if "cust" in c:
        if "name" in c or "label" in c:
            put(F.CUSTOMER_NAME, 0.9)
        elif "id" in c:
            put(F.CUSTOMER_REF, 0.9)
        else:
            put(F.CUSTOMER_NAME, 0.65)
            put(F.CUSTOMER_REF, 0.6)
        return out
    if "doc" in c and "type" not in c:
        if "id" in c or "invoice" in c:
            put(F.NUMBER, 0.9 if "id" in c else 0.8)
        else:
            put(F.NUMBER, 0.65)
    elif c & {"num"} and len(ws) == 1:
        put(F.NUMBER, 0.6)
    if "name" in c and len(ws) == 1:
        put(F.CUSTOMER_NAME, 0.8)
    if "ref" in c:
        put(F.REFERENCE, 0.85)
    elif "label" in c:
        put(F.REFERENCE, 0.8)
    if c == {"id"} and ws[0] in {"account", "compte", "konto"}:
        put(F.CUSTOMER_REF, 0.7)
    return out
