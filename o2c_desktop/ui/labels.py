"""User-facing names of the domain's enumerations, translated when asked."""

from __future__ import annotations

import logging

from o2c_desktop.engine.types import ActionStatus, ActionType, Role, StepMode
from o2c_desktop.i18n import N_, _

log = logging.getLogger(__name__)

_ACTION_TYPES = {
    ActionType.EMAIL: N_("Email"),
    ActionType.LETTER: N_("Letter"),
    ActionType.REGISTERED_LETTER: N_("Registered letter"),
    ActionType.PHONE_CALL: N_("Phone call"),
    ActionType.SMS: N_("SMS"),
    ActionType.INTERNAL_TASK: N_("Internal task"),
    ActionType.MEETING: N_("Meeting"),
    ActionType.LITIGATION_HANDOVER: N_("Litigation handover"),
}

_ROLES = {
    Role.COLLECTOR: N_("Collector"),
    Role.CREDIT_MANAGER: N_("Credit manager"),
    Role.ADMIN: N_("Administrator"),
}

_MODES = {
    StepMode.AUTOMATIC: N_("Automatic"),
    StepMode.MANUAL: N_("Manual"),
    StepMode.CONFIRM: N_("Automatic, to confirm"),
}

_STATUSES = {
    ActionStatus.PENDING: N_("Pending"),
    ActionStatus.TO_CONFIRM: N_("To confirm"),
    ActionStatus.QUEUED: N_("Waiting to be sent"),
    ActionStatus.SENDING: N_("Being sent"),
    ActionStatus.DONE: N_("Done"),
    ActionStatus.CANCELLED: N_("Cancelled"),
}


def action_type_label(value: ActionType) -> str:
    """E.g. "Appel téléphonique" for a phone call in French."""
    return _(_ACTION_TYPES[value])


def role_label(value: Role) -> str:
    """E.g. "Chargé de recouvrement" for a collector in French."""
    return _(_ROLES[value])


def mode_label(value: StepMode) -> str:
    """Who performs a step."""
    return _(_MODES[value])


def status_label(value: ActionStatus) -> str:
    """Life stage of an action."""
    return _(_STATUSES[value])


# The standard templates' codes; a template of the user's own shows its code.
_TEMPLATES = {
    "PRE_REMINDER": N_("Pre-reminder"),
    "STATEMENT": N_("Statement of account"),
    "REMINDER_1": N_("Reminder 1"),
    "REMINDER_2": N_("Reminder 2"),
    "FORMAL_NOTICE": N_("Formal notice"),
    "PAYMENT_ORDER_NOTICE": N_("Last notice before a payment order"),
    "PROMISE_CONFIRMATION": N_("Promise confirmation"),
    "PLAN_CONFIRMATION": N_("Payment plan confirmation"),
    "INSTALMENT_REMINDER": N_("Instalment reminder"),
    "BROKEN_PROMISE": N_("Broken promise"),
}

_CHANNELS = {"email": N_("Email"), "letter": N_("Letter")}


def template_label(code: str | None) -> str:
    """E.g. "Mise en demeure" for FORMAL_NOTICE in French; "" for none."""
    if not code:
        return ""
    return _(_TEMPLATES[code]) if code in _TEMPLATES else code


def channel_label(channel: str) -> str:
    """How a template is sent: "E-mail" or "Courrier" in French."""
    return _(_CHANNELS[channel]) if channel in _CHANNELS else channel
