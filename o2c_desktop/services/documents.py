"""Documents of actions and customers: letters, statements, emails.

`DocumentService` reads one customer's account in a session, hands it to the
engine (`letters.build_context`, `templates.render`, `pdf`), stores the PDFs as
`Document` rows of the action (they appear in the timeline) and sends emails
through `sync.mail`. Sending happens outside any database transaction; its
outcome is written afterwards: done with the send log, or still pending with
the reason. It is also the outbox's performer of emails and letters
(`services/outbox.py`), so automatic steps send their reminders.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from sqlalchemy import delete, or_, select

from o2c_desktop.engine import letters, pdf
from o2c_desktop.engine import templates as tpl
from o2c_desktop.engine.interest import agreed_rate, law_for
from o2c_desktop.engine.types import (
    ActionStatus,
    ActionType,
    CaseKind,
    Channel,
    DocumentKind,
    ItemStatus,
)
from o2c_desktop.i18n import _
from o2c_desktop.models import (
    Action,
    ActionItem,
    Case,
    CaseItem,
    Contact,
    Customer,
    Document,
    Entity,
    ImportBatch,
    ImportChange,
    Item,
    Step,
    Template,
    User,
)
from o2c_desktop.models.base import utcnow
from o2c_desktop.models.repo import as_uuid, get_one
from o2c_desktop.services.context import Changes
from o2c_desktop.services.outbox import Outcome
from o2c_desktop.sync import mail as mailer

if TYPE_CHECKING:
    import datetime as dt
    import uuid
    from collections.abc import Callable, Iterator, Mapping, Sequence
    from pathlib import Path

    from sqlalchemy.orm import Session

    from o2c_desktop.services.context import AppContext
    from o2c_desktop.services.outbox import Entry

log = logging.getLogger(__name__)

_GENERATED = (
    DocumentKind.LETTER,
    DocumentKind.STATEMENT,
    DocumentKind.INTEREST_STATEMENT,
)
# The template an action uses when its step names none.
_DEFAULT_CODES = {
    ActionType.REGISTERED_LETTER: "FORMAL_NOTICE",
    ActionType.LETTER: "REMINDER_1",
    ActionType.EMAIL: "REMINDER_1",
}
_CASE_CODES = {
    CaseKind.PROMISE: "PROMISE_CONFIRMATION",
    CaseKind.PAYMENT_PLAN: "PLAN_CONFIRMATION",
}


class DocumentError(Exception):
    """A document can't be produced; the message says why."""


@dataclass(frozen=True)
class GeneratedDocument:
    """A file produced for an action or a customer."""

    kind: DocumentKind
    filename: str
    content: bytes = field(repr=False)
    mime_type: str = "application/pdf"
    document_id: uuid.UUID | None = None


@dataclass(frozen=True)
class RenderResult:
    """What rendering an action produced.

    Attributes:
        action_id: the action.
        customer_reference: whose documents.
        language: the language used (the template's).
        template_code: the template used.
        documents: the PDFs, in the order they are attached.
        email: subject and bodies, for an email action.
        recipients: where the email goes.
        note: set when the customer's language had no template (fallback).
        stored: the documents were saved with the action.
        changes: what views should refresh.
    """

    action_id: uuid.UUID
    customer_reference: str
    language: str
    template_code: str
    documents: tuple[GeneratedDocument, ...]
    email: letters.EmailContent | None = None
    recipients: tuple[str, ...] = ()
    reply_to: str = ""
    sender_name: str = ""
    note: str | None = None
    stored: bool = True
    changes: Changes = field(default_factory=Changes)

    def outgoing(self) -> mailer.OutgoingMail:
        """The email with its PDFs attached.

        Raises:
            DocumentError: the action is not an email.
        """
        if self.email is None:
            raise DocumentError(_("This action is not an email."))
        return mailer.OutgoingMail(
            to=self.recipients,
            subject=self.email.subject,
            text=self.email.text,
            html=self.email.html,
            sender_name=self.sender_name,
            reply_to=self.reply_to,
            attachments=tuple(
                mailer.Attachment(d.filename, d.content, d.mime_type)
                for d in self.documents
            ),
        )


@dataclass(frozen=True)
class SendResult:
    """The outcome of sending an action's email."""

    action_id: uuid.UUID
    sent: bool
    reason: str | None = None
    log: mailer.SendLog | None = None
    changes: Changes = field(default_factory=Changes)


def seed_default_templates(session: Session) -> int:
    """Insert the shipped template set where the table lacks it.

    Existing templates (edited by a credit manager) are never overwritten.

    Returns:
        The number of templates inserted.
    """
    rows = session.execute(
        select(Template.code, Template.channel, Template.language).where(
            Template.entity_id.is_(None)
        )
    )
    existing = {(code, channel, language) for code, channel, language in rows}
    added = 0
    for t in tpl.default_templates():
        if (t.code, t.channel, t.language) in existing:
            continue
        session.add(
            Template(
                code=t.code,
                channel=t.channel,
                language=t.language,
                name=t.name,
                subject=t.subject,
                body=t.body,
            )
        )
        added += 1
    session.flush()
    log.info("Inserted %d default templates", added)
    return added


def _text(value: str | None) -> str:
    return value or ""


def party_of(c: Customer) -> letters.Party:
    """The customer as the letters engine sees it."""
    return letters.Party(
        reference=c.reference,
        name=c.name,
        address1=_text(c.address1),
        address2=_text(c.address2),
        postal_code=_text(c.postal_code),
        city=_text(c.city),
        country=_text(c.country),
        legal_id=_text(c.legal_id),
        vat_number=_text(c.vat_number),
        email=_text(c.email),
        phone=_text(c.phone),
        language=_text(c.language),
        insolvency=_text(c.insolvency),
    )


def letterhead_of(e: Entity) -> letters.Letterhead:
    """The entity's letterhead as the letters engine sees it."""
    return letters.Letterhead(
        name=e.name,
        legal_form=_text(e.legal_form),
        address1=_text(e.address1),
        address2=_text(e.address2),
        postal_code=_text(e.postal_code),
        city=_text(e.city),
        country=e.country,
        phone=_text(e.phone),
        email=_text(e.email),
        legal_id=_text(e.legal_id),
        vat_number=_text(e.vat_number),
        share_capital=_text(e.share_capital),
        trade_registry=_text(e.trade_registry),
        iban=_text(e.iban),
        bic=_text(e.bic),
        note=_text(e.letterhead_note),
        logo_path=_text(e.logo_path),
        language=e.language,
        currency=e.currency,
    )


def _person(u: User | Contact | None) -> letters.Person:
    if u is None:
        return letters.Person()
    if isinstance(u, User):
        return letters.Person(
            name=u.full_name,
            phone=_text(u.phone),
            email=_text(u.email),
            signature=_text(u.signature),
        )
    return letters.Person(
        name=u.name,
        function=_text(u.function),
        phone=_text(u.phone or u.mobile),
        email=_text(u.email),
    )


def account_item_of(
    i: Item, payments: tuple[tuple[dt.date, Decimal], ...] = ()
) -> letters.AccountItem:
    """An item as a line of a letter or statement, with its payments seen."""
    return letters.AccountItem(
        number=i.number if not i.instalment else f"{i.number}/{i.instalment}",
        kind=i.kind,
        issue_date=i.issue_date,
        due_date=i.due_date,
        amount=i.amount,
        remaining=i.remaining,
        currency=i.currency,
        reference=_text(i.reference),
        disputed=i.disputed,
        in_litigation=i.in_litigation,
        disputed_amount=i.disputed_amount or letters.ZERO,
        payments=payments,
    )


def item_payments(
    s: Session, items: Sequence[Item]
) -> dict[int, tuple[tuple[dt.date, Decimal], ...]]:
    """The payments each debit item received, as the imports saw them.

    Each import keeps an item's values from before it (`ImportChange`): a
    remainder that went down was paid on that import's date (issue 16).
    """
    remaining = {i.id: i.remaining for i in items if i.remaining > 0}
    if not remaining:
        return {}
    before: dict[int, list[tuple[dt.date, Decimal]]] = {}
    for chunk in _chunks(list(remaining)):
        rows = s.execute(
            select(ImportChange.item_id, ImportBatch.as_of, ImportChange.remaining)
            .join(ImportBatch, ImportBatch.id == ImportChange.import_id)
            .where(ImportChange.item_id.in_(chunk), ImportBatch.undone_at.is_(None))
            .order_by(ImportBatch.taken_at, ImportBatch.id)
        )
        for item_id, day, value in rows:
            before.setdefault(item_id, []).append((day, value))
    out: dict[int, tuple[tuple[dt.date, Decimal], ...]] = {}
    for item_id, history in before.items():
        afters = [value for _day, value in history[1:]] + [remaining[item_id]]
        paid = tuple(
            (day, value - after)
            for (day, value), after in zip(history, afters, strict=True)
            if value > after
        )
        if paid:
            out[item_id] = paid
    return out


def _chunks(values: list[int], size: int = 500) -> Iterator[list[int]]:
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _case_values(
    case: Case | None, reminded: frozenset[uuid.UUID] = frozenset()
) -> tuple[letters.Promise | None, letters.Plan | None]:
    """The promise or plan a document refers to; `reminded`: instalments it chases."""
    if case is None:
        return None, None
    if case.kind is CaseKind.PROMISE and case.promised_date and case.amount is not None:
        return letters.Promise(case.number, case.promised_date, case.amount), None
    if case.kind is CaseKind.PAYMENT_PLAN and case.instalments:
        version = max(x.plan_version for x in case.instalments)
        rows = tuple(
            letters.Instalment(x.seq, x.due_date, x.amount, x.paid, x.id in reminded)
            for x in case.instalments
            if x.plan_version == version
        )
        return None, letters.Plan(case.number, rows)
    return None, None


@dataclass(frozen=True)
class LoadedAction:
    """One action's inputs, read in a session as plain values."""

    action_id: uuid.UUID
    action_type: ActionType
    status: ActionStatus
    customer_id: int
    entity_id: int
    collector_id: int | None
    ctx: letters.LetterContext
    language: str
    fallback_language: str
    code: str
    attach_statement: bool
    attach_interest: bool
    recipients: tuple[str, ...]
    templates: tuple[tpl.TemplateText, ...]


class DocumentService:
    """Renders, stores and sends the documents of actions and customers."""

    def __init__(
        self,
        ctx: AppContext,
        mail: mailer.MailConfig | None = None,
        *,
        clock: Callable[[], dt.datetime] = utcnow,
    ) -> None:
        self._ctx = ctx
        self._mail = mail
        self._clock = clock

    # -- public -----------------------------------------------------------

    def render_action(
        self,
        action_id: uuid.UUID | str,
        *,
        today: dt.date | None = None,
        template_code: str | None = None,
        store: bool = True,
        attach_letter: bool = False,
    ) -> RenderResult:
        """Render an action's documents and keep them with the action.

        A pending action's earlier generated PDFs are replaced; a done
        action's documents are evidence and are never replaced.

        Args:
            action_id: the action.
            today: the document date (default: today).
            template_code: use this template instead of the step's.
            store: save the PDFs as documents of the action.
            attach_letter: for an email action, also render the template's
                letter as a PDF, first among the attachments (a confirmation
                the customer can print and file).

        Returns:
            The documents, the email texts for an email action, and a note
            when the template fell back to the entity's language.

        Raises:
            LookupError: no such action.
            DocumentError: the action has no document to render.
            o2c_desktop.engine.templates.TemplateError: a stored template is invalid.
        """
        now = self._now()
        day = today or now.astimezone().date()
        with self._ctx.db.session(self._ctx.user_login) as s:
            loaded = self.load_action(s, _uuid(action_id), day, template_code)
            result = self._render(loaded, now, attach_letter=attach_letter)
            keep = store and loaded.status is not ActionStatus.DONE
            if keep:
                result = self._store(s, loaded, result)
        return result

    def statement(
        self,
        customer_reference: str,
        *,
        language: str | None = None,
        today: dt.date | None = None,
        entity_code: str | None = None,
        interest: bool = False,
    ) -> GeneratedDocument:
        """A customer's statement of account (or interest statement), not stored.

        Args:
            customer_reference: the customer's reference.
            language: force a language; default the customer's.
            today: the statement date.
            entity_code: the entity, when the reference exists in several.
            interest: the interest and penalty statement instead.

        Raises:
            LookupError: no such customer, or the reference is ambiguous.
        """
        now = self._now()
        day = today or now.astimezone().date()
        with self._ctx.db.session(self._ctx.user_login) as s:
            customer = _find_customer(s, customer_reference, entity_code)
            ctx = _context(s, customer, day, contact=_dunning_contact(customer, None))
            lang = language or customer.language or customer.entity.language
        if interest:
            data = pdf.report_pdf(letters.printed_interest_statement(ctx, lang))
            kind = DocumentKind.INTEREST_STATEMENT
        else:
            data = pdf.report_pdf(letters.printed_statement(ctx, lang))
            kind = DocumentKind.STATEMENT
        name = letters.document_filename(
            kind.value, customer_reference, now.astimezone(), language=lang
        )
        return GeneratedDocument(kind, name, data)

    def send_action_email(
        self,
        action_id: uuid.UUID | str,
        *,
        today: dt.date | None = None,
        attach_letter: bool = False,
    ) -> SendResult:
        """Render and send an email action, then record the outcome on it.

        Sent: the action is done, with the send log and the message stored as
        an .eml document. Not sent: the action stays pending with the reason.

        Args:
            action_id: the email action.
            today: the document date (default: today).
            attach_letter: attach the template's letter as a PDF too.

        Returns:
            Whether it was sent, and the reason or the send log.
        """
        action_uuid = _uuid(action_id)
        now = self._now()
        try:
            rendered = self.render_action(
                action_uuid, today=today, attach_letter=attach_letter
            )
            outgoing = rendered.outgoing()
            sent = mailer.send(outgoing, self._mail_config(), now)
        except (mailer.MailError, DocumentError, tpl.TemplateError) as exc:
            reason = _("Email not sent: {reason}").format(reason=exc)
            self._record(action_uuid, None, reason, now, today=today)
            return SendResult(action_uuid, False, reason, changes=Changes(actions=True))
        eml = mailer.eml_bytes(outgoing, self._mail_config(), now)
        self._record(
            action_uuid,
            sent,
            None,
            now,
            today=today,
            eml=GeneratedDocument(
                DocumentKind.EMAIL,
                letters.document_filename(
                    "email",
                    rendered.customer_reference,
                    now.astimezone(),
                    "eml",
                    language=rendered.language,
                ),
                eml,
                "message/rfc822",
            ),
        )
        return SendResult(action_uuid, True, None, sent, Changes(actions=True))

    def save_action_eml(
        self, action_id: uuid.UUID | str, folder: Path, *, today: dt.date | None = None
    ) -> Path:
        """Write an email action as an .eml draft for Outlook, PDFs attached."""
        now = self._now()
        rendered = self.render_action(action_id, today=today)
        name = letters.document_filename(
            "email",
            rendered.customer_reference,
            now.astimezone(),
            "eml",
            language=rendered.language,
        )
        folder.mkdir(parents=True, exist_ok=True)
        config = self._mail or mailer.MailConfig()
        return mailer.save_eml(rendered.outgoing(), config, folder / name, now)

    def perform(self, entry: Entry) -> Outcome:
        """Perform an automatic action's outbox entry (email and letter channels).

        A letter is done once its PDFs are stored; an email once the server
        took it, and its .eml is kept with the outcome. A server that could
        not be reached is a failure for now: the outbox tries again later.
        """
        action_id = entry.action_id
        if action_id is None:
            return Outcome(False, "nothing to send: the entry names no action")
        now = self._now()
        try:
            rendered = self.render_action(
                action_id, today=self._business_day(action_id)
            )
            if rendered.email is None:
                return Outcome(True, ", ".join(d.filename for d in rendered.documents))
            outgoing = rendered.outgoing()
            sent = mailer.send(outgoing, self._mail_config(), now)
        except (mailer.MailError, DocumentError, tpl.TemplateError) as exc:
            reason = _("Email not sent: {reason}").format(reason=exc)
            return Outcome(False, reason, retry=getattr(exc, "transient", False))
        except LookupError as exc:
            return Outcome(False, str(exc))
        eml = GeneratedDocument(
            DocumentKind.EMAIL,
            letters.document_filename(
                "email",
                rendered.customer_reference,
                now.astimezone(),
                "eml",
                language=rendered.language,
            ),
            mailer.eml_bytes(outgoing, self._mail_config(), now),
            "message/rfc822",
        )

        def keep(s: Session) -> None:
            _add_document(s, get_one(s, Action, action_id), eml)

        return Outcome(True, sent.to_json(), keep=keep)

    @staticmethod
    def validate_template(subject: str | None, body: str) -> list[tpl.TemplateProblem]:
        """Problems of a template being saved (unknown fields, syntax), with lines."""
        return tpl.validate(subject, body)

    # -- internals --------------------------------------------------------

    def _business_day(self, action_id: uuid.UUID) -> dt.date:
        """The day a queued action is sent on: a click's, else its run's.

        A run dated with --date decides on that business day: its letters
        are dated so, with the days late the engine counted (issue 16).
        """
        with self._ctx.db.session() as s:
            action = get_one(s, Action, action_id)
            return action.performed_on or action.planned_date

    def _now(self) -> dt.datetime:
        return self._clock()

    def _mail_config(self) -> mailer.MailConfig:
        if self._mail is None:
            raise mailer.MailError(_("mail is not configured"))
        return self._mail

    def load_action(
        self, s: Session, action_id: uuid.UUID, day: dt.date, code: str | None
    ) -> LoadedAction:
        """Read what rendering an action needs, as plain values, in session `s`.

        The workbench's message editor reuses it to show the text before the PDF.
        """
        action = get_one(s, Action, action_id)
        customer = action.customer
        entity = customer.entity
        step = s.get(Step, action.step_id) if action.step_id else None
        case = s.get(Case, action.case_id) if action.case_id else None
        # A reminder of plan instalments speaks of the plan, not of invoices.
        reminded = frozenset(x.instalment_id for x in action.instalments)
        if code is None and reminded:
            code = "INSTALMENT_REMINDER"
        if code is None:
            code = step.template_code if step and step.template_code else None
        if code is None and case is not None:
            code = _CASE_CODES.get(case.kind)
        if code is None:
            code = _DEFAULT_CODES.get(action.action_type)
        if code is None:
            raise DocumentError(
                _("A {kind} action has no document to produce.").format(
                    kind=action.action_type.value
                )
            )
        if case is None and code in ("PROMISE_CONFIRMATION", "BROKEN_PROMISE"):
            case = _latest_case(s, customer.id, CaseKind.PROMISE)
        if case is None and code == "PLAN_CONFIRMATION":
            case = _latest_case(s, customer.id, CaseKind.PAYMENT_PLAN)
        numbers = _concerned(s, action, case)
        contact = action.contact or _dunning_contact(
            customer, step.contact_role if step else None
        )
        collector = None
        if action.assigned_to_id is not None:
            collector = s.get(User, action.assigned_to_id)
        collector = collector or customer.collector
        ctx = _context(
            s,
            customer,
            day,
            contact=contact,
            collector=collector,
            case=case,
            concerned=numbers,
            reference=f"A-{action.id.hex[:8].upper()}",
            reminded=reminded,
        )
        language = (
            (contact.language if contact and contact.language else None)
            or customer.language
            or entity.language
        )
        recipients = tuple(
            x for x in ((contact.email if contact else None) or customer.email,) if x
        )
        rows = s.scalars(select(Template).where(Template.code == code)).all()
        stored = tuple(
            tpl.TemplateText(
                code=r.code,
                channel=r.channel,
                language=r.language,
                name=r.name,
                subject=r.subject,
                body=r.body,
                entity_id=r.entity_id,
            )
            for r in rows
        )
        return LoadedAction(
            action_id=action.id,
            action_type=action.action_type,
            status=action.status,
            customer_id=customer.id,
            entity_id=entity.id,
            collector_id=collector.id if collector else None,
            ctx=ctx,
            language=language,
            fallback_language=entity.language,
            code=code,
            attach_statement=bool(step and step.attach_statement)
            or code == "STATEMENT",
            # Late interest is owed on invoices, not on plan instalments.
            attach_interest=not reminded
            and (
                bool(step and step.attach_interest)
                or code in ("FORMAL_NOTICE", "PAYMENT_ORDER_NOTICE")
            ),
            recipients=recipients,
            templates=stored + tpl.default_templates(),
        )

    def _render(
        self, loaded: LoadedAction, now: dt.datetime, *, attach_letter: bool = False
    ) -> RenderResult:
        is_email = loaded.action_type is ActionType.EMAIL
        channel = Channel.EMAIL if is_email else Channel.LETTER
        choice = tpl.choose_template(
            loaded.templates,
            loaded.code,
            channel,
            loaded.language,
            loaded.fallback_language,
            loaded.entity_id,
        )
        if choice is None:
            raise DocumentError(
                _("No template {code} for {channel} in {language}.").format(
                    code=loaded.code, channel=channel.value, language=loaded.language
                )
            )
        lang = choice.template.language
        ctx = loaded.ctx
        rendered = tpl.render(choice.template, letters.merge_fields(ctx, lang))
        ref = ctx.customer.reference
        stamp = now.astimezone()
        docs: list[GeneratedDocument] = []
        email = None
        if is_email:
            email = letters.compose_email(ctx, rendered, lang)
            if attach_letter:
                docs.append(self._email_letter(loaded, stamp))
        else:
            registered = loaded.action_type is ActionType.REGISTERED_LETTER
            data = pdf.letter_pdf(
                letters.printed_letter(ctx, rendered, lang, registered=registered)
            )
            docs.append(
                GeneratedDocument(
                    DocumentKind.LETTER,
                    letters.document_filename("letter", ref, stamp, language=lang),
                    data,
                )
            )
        if loaded.attach_statement:
            data = pdf.report_pdf(letters.printed_statement(ctx, lang))
            docs.append(
                GeneratedDocument(
                    DocumentKind.STATEMENT,
                    letters.document_filename("statement", ref, stamp, language=lang),
                    data,
                )
            )
        if loaded.attach_interest and (ctx.claim.debts or ctx.claim.excluded_reason):
            data = pdf.report_pdf(letters.printed_interest_statement(ctx, lang))
            docs.append(
                GeneratedDocument(
                    DocumentKind.INTEREST_STATEMENT,
                    letters.document_filename(
                        "interest_statement", ref, stamp, language=lang
                    ),
                    data,
                )
            )
        return RenderResult(
            action_id=loaded.action_id,
            customer_reference=ref,
            language=lang,
            template_code=loaded.code,
            documents=tuple(docs),
            email=email,
            recipients=loaded.recipients,
            reply_to=ctx.collector.email,
            sender_name=ctx.collector.name or ctx.entity.name,
            note=choice.note,
            stored=False,
        )

    @staticmethod
    def _email_letter(loaded: LoadedAction, stamp: dt.datetime) -> GeneratedDocument:
        """The letter version of an email's template, as the PDF it carries.

        Raises:
            DocumentError: the template has no letter version in any language.
        """
        choice = tpl.choose_template(
            loaded.templates,
            loaded.code,
            Channel.LETTER,
            loaded.language,
            loaded.fallback_language,
            loaded.entity_id,
        )
        if choice is None:
            raise DocumentError(
                _("No template {code} for {channel} in {language}.").format(
                    code=loaded.code,
                    channel=Channel.LETTER.value,
                    language=loaded.language,
                )
            )
        lang = choice.template.language
        ctx = loaded.ctx
        rendered = tpl.render(choice.template, letters.merge_fields(ctx, lang))
        data = pdf.letter_pdf(letters.printed_letter(ctx, rendered, lang))
        return GeneratedDocument(
            DocumentKind.LETTER,
            letters.document_filename(
                "letter", ctx.customer.reference, stamp, language=lang
            ),
            data,
        )

    def _store(
        self, s: Session, loaded: LoadedAction, result: RenderResult
    ) -> RenderResult:
        action = get_one(s, Action, loaded.action_id)
        s.execute(
            delete(Document).where(
                Document.action_id == action.id, Document.kind.in_(_GENERATED)
            )
        )
        stored = [_add_document(s, action, d) for d in result.documents]
        if result.note and result.note not in (action.comment or ""):
            # The collector sees the fallback on the action (issue 5).
            action.comment = "\n".join(x for x in (action.comment, result.note) if x)
        return _replace(
            result, documents=tuple(stored), stored=True, changes=Changes(actions=True)
        )

    def _record(
        self,
        action_id: uuid.UUID,
        sent: mailer.SendLog | None,
        reason: str | None,
        now: dt.datetime,
        eml: GeneratedDocument | None = None,
        today: dt.date | None = None,
    ) -> None:
        with self._ctx.db.session(self._ctx.user_login) as s:
            action = get_one(s, Action, action_id)
            if sent is None:
                # Never done on a failure: back to a human with the reason.
                if action.status is not ActionStatus.DONE:
                    action.status = ActionStatus.PENDING
                action.reason = (reason or "")[:300]
                return
            action.status = ActionStatus.DONE
            action.reason = None
            action.send_log = sent.to_json()
            action.performed_at = now
            action.performed_on = today or now.astimezone().date()
            user = s.scalar(select(User).where(User.login == self._ctx.user_login))
            if user is not None:
                action.performed_by_id = user.id
            if eml is not None:
                _add_document(s, action, eml)


def _replace(result: RenderResult, **changes: object) -> RenderResult:
    import dataclasses

    return dataclasses.replace(result, **changes)  # type: ignore[arg-type]  # typed fields


def _add_document(
    s: Session, action: Action, doc: GeneratedDocument
) -> GeneratedDocument:
    row = Document(
        customer_id=action.customer_id,
        action_id=action.id,
        kind=doc.kind,
        filename=doc.filename,
        mime_type=doc.mime_type,
        content=doc.content,
    )
    s.add(row)
    s.flush()
    return GeneratedDocument(doc.kind, doc.filename, doc.content, doc.mime_type, row.id)


def _uuid(value: str | uuid.UUID) -> uuid.UUID:
    return as_uuid(value, "Action")


def _find_customer(s: Session, reference: str, entity_code: str | None) -> Customer:
    query = select(Customer).where(Customer.reference == reference)
    if entity_code:
        query = query.join(Entity, Customer.entity_id == Entity.id).where(
            Entity.code == entity_code
        )
    found = s.scalars(query).all()
    if not found:
        raise LookupError(f"Customer {reference} not found")
    if len(found) > 1:
        raise LookupError(
            f"Customer reference {reference} exists in several entities: "
            "give the entity"
        )
    return found[0]


def _dunning_contact(customer: Customer, role: str | None) -> Contact | None:
    """The step's role if it has an address, else the dunning contact, else any."""
    contacts = list(customer.contacts)
    by_role = [c for c in contacts if role and c.role == role and c.email]
    flagged = [c for c in contacts if c.is_dunning_contact]
    reachable = [c for c in contacts if c.email]
    for group in (by_role, flagged, reachable):
        if group:
            return group[0]
    return None


def _latest_case(s: Session, customer_id: int, kind: CaseKind) -> Case | None:
    return s.scalars(
        select(Case)
        .where(Case.customer_id == customer_id, Case.kind == kind)
        .order_by(Case.opened_on.desc())
        .limit(1)
    ).first()


def _concerned(s: Session, action: Action, case: Case | None) -> list[str] | None:
    ids = [x.item_id for x in action.items]
    if not ids and case is not None:
        ids = list(
            s.scalars(select(CaseItem.item_id).where(CaseItem.case_id == case.id))
        )
    if not ids:
        return None
    rows = s.execute(select(Item.number, Item.instalment).where(Item.id.in_(ids))).all()
    return [n if not k else f"{n}/{k}" for n, k in rows]


def _context(
    s: Session,
    customer: Customer,
    day: dt.date,
    *,
    contact: Contact | None = None,
    collector: User | None = None,
    case: Case | None = None,
    concerned: list[str] | None = None,
    reference: str = "",
    reminded: frozenset[uuid.UUID] = frozenset(),
) -> letters.LetterContext:
    items = s.scalars(
        select(Item).where(
            Item.customer_id == customer.id, Item.status == ItemStatus.OPEN
        )
    ).all()
    promise, plan = _case_values(case, reminded)
    paid = item_payments(s, items)
    entity = customer.entity
    lines = {i.id: account_item_of(i, paid.get(i.id, ())) for i in items}
    return letters.build_context(
        party_of(customer),
        letterhead_of(entity),
        list(lines.values()),
        day,
        law_for(entity.country),
        contractual_rate=agreed_rate(
            customer.late_interest_rate, entity.late_interest_rate
        ),
        concerned=concerned,
        collector=_person(collector or customer.collector),
        contact=_person(contact),
        promise=promise,
        plan=plan,
        action_reference=reference,
        fees=_fees(s, customer.id, {i.id: (lines[i.id], i.amount) for i in items}),
        waive_indemnity=customer.waive_indemnity,
    )


def _fees(
    s: Session,
    customer_id: int,
    items: Mapping[int, tuple[letters.AccountItem, Decimal]],
) -> list[letters.Fee]:
    """The fees the steps reached charged on the customer's open items.

    Once per item and step: a step's line is unique per item, and one
    cancelled unsent charged nothing (issue 16).
    """
    rows = s.execute(
        select(ActionItem.item_id, Step.name, Step.fee_amount, Step.fee_percent)
        .join(Action, Action.id == ActionItem.action_id)
        .join(Step, Step.id == ActionItem.step_id)
        .where(
            Action.customer_id == customer_id,
            Action.status != ActionStatus.CANCELLED,
            or_(Step.fee_amount.is_not(None), Step.fee_percent.is_not(None)),
        )
        .order_by(Step.offset_days)
    ).all()
    out = []
    for item_id, step, fixed, percent in rows:
        if item_id not in items:
            continue
        line, amount = items[item_id]
        fee = fixed if fixed is not None else amount * (percent or 0) / 100
        out.append(
            letters.Fee(line.number, step, fee.quantize(letters.CENT, ROUND_HALF_UP))
        )
    return out
