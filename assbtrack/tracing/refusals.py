"""A refusal of the core said in the words of the form that caused it."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from django.core.exceptions import ValidationError


def error_rekey(error: ValidationError, mapping: Mapping[str, str], default: str) -> ValidationError:
    """``error`` with each field renamed by ``mapping`` (the others, and a message of no field, to ``default``).

    The core names its own fields (``parent``, ``amount``, ``quantity``); the form that called the service
    knows them as a row's ``source`` or a layer's ``sheet``, and shows each message there.
    """
    if not hasattr(error, "error_dict"):
        return ValidationError({default: error.messages})
    messages: dict[str, list[str]] = {}
    for field, problems in error.message_dict.items():
        messages.setdefault(mapping.get(field, default), []).extend(problems)
    return ValidationError(messages)


def full_clean_fields(record, *, exclude: Iterable[str] = ()) -> None:
    """``record.full_clean`` whose refusal is always by field (``message_dict``), as the services raise it.

    A failed constraint comes back as a non-field error (``__all__``) and keeps its message.
    """
    try:
        record.full_clean(exclude=list(exclude))
    except ValidationError as error:
        raise ValidationError(error.message_dict) from None
