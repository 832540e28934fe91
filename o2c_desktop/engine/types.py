"""Vocabulary of the domain, shared by every layer (see docs/design.md).

Enumerations are stored by value in the database, so values never change.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    """What a user may do."""

    COLLECTOR = "collector"
    CREDIT_MANAGER = "credit_manager"
    ADMIN = "admin"


class ItemKind(StrEnum):
    """Kinds of open items in a customer's account."""

    INVOICE = "invoice"
    CREDIT_NOTE = "credit_note"
    PAYMENT = "payment"
    UNAPPLIED_CASH = "unapplied_cash"
    ADJUSTMENT = "adjustment"


class ItemStatus(StrEnum):
    """Whether an item still has something to pay or to apply."""

    OPEN = "open"
    CLOSED = "closed"


class ActionType(StrEnum):
    """What an action does; dunning steps and manual actions share them."""

    EMAIL = "email"
    LETTER = "letter"
    REGISTERED_LETTER = "registered_letter"
    PHONE_CALL = "phone_call"
    SMS = "sms"
    INTERNAL_TASK = "internal_task"
    MEETING = "meeting"
    LITIGATION_HANDOVER = "litigation_handover"


class StepMode(StrEnum):
    """Who performs a step."""

    AUTOMATIC = "automatic"
    MANUAL = "manual"
    CONFIRM = "confirm"  # prepared by the engine, sent after a human clicks


class ActionStatus(StrEnum):
    """Life of an action."""

    PENDING = "pending"  # in an agenda, waiting for a human
    TO_CONFIRM = "to_confirm"  # automatic, waiting for a confirmation click
    QUEUED = "queued"  # automatic, committed, waiting for the sender
    SENDING = "sending"  # claimed by a sender; outcome not yet recorded
    DONE = "done"
    CANCELLED = "cancelled"


class CaseKind(StrEnum):
    """Files that group actions about some items of a customer."""

    PROMISE = "promise"
    PAYMENT_PLAN = "payment_plan"
    DISPUTE = "dispute"
    LITIGATION = "litigation"


class CaseStatus(StrEnum):
    """Life of a case."""

    OPEN = "open"
    KEPT = "kept"  # promise or plan honoured
    BROKEN = "broken"  # promise or plan not honoured
    RESOLVED = "resolved"  # dispute answered
    CANCELLED = "cancelled"
    CLOSED = "closed"


class CatchUp(StrEnum):
    """How a scenario treats items first seen far past due."""

    ONE_STEP = "one_step"  # start at the first overdue step, one step per run
    JUMP = "jump"  # go straight to the step for today


class Channel(StrEnum):
    """How a template reaches the customer."""

    EMAIL = "email"
    LETTER = "letter"
    SMS = "sms"


class DocumentKind(StrEnum):
    """Files stored with an action or a customer."""

    LETTER = "letter"
    STATEMENT = "statement"
    INTEREST_STATEMENT = "interest_statement"
    EMAIL = "email"
    ATTACHMENT = "attachment"
    INVOICE = "invoice"
    LITIGATION_FILE = "litigation_file"


class OutboxChannel(StrEnum):
    """How an outbox entry leaves the machine; one performer per channel."""

    EMAIL = "email"
    LETTER_PRINT = "letter_print"
    ERP_WRITE_BACK = "erp_write_back"
    SMS = "sms"
    RISK_REQUEST = "risk_request"


class OutboxStatus(StrEnum):
    """Life of an outbox entry."""

    QUEUED = "queued"  # committed with the business change, waiting for a sender
    SENDING = "sending"  # claimed by one sender; outcome not yet recorded
    DONE = "done"
    FAILED = "failed"  # for good: a human takes over (the action's agenda)
    TO_RETRY = "to_retry"  # nothing left; tried again after `next_attempt_at`
    CANCELLED = "cancelled"  # its action was cancelled or done by hand first
