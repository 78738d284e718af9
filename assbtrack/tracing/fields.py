"""The one field for a scanned or typed item code, on every form that takes one.

What a technician's scanner or fingers put into a code box comes in many shapes: a bare code
(``SHT-000030``), the text of one of assbtrack's own QR labels (``SHT-000030 https://host/items/SHT-000030/``),
the address of an item's page, lower case, stray spaces. :func:`code_parse` finds the one item code in any of
them; :class:`CodeField` refuses, beside the field, a code of a kind the field does not take ("SHT-000030 is a
sheet; this field takes a cathode film"); :func:`codes_resolve` then finds every code of a form (and of its
formsets) among the items the user may see, in one query, and refuses the unknown ones beside their field.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from django import forms
from django.contrib.auth.models import AnonymousUser, User
from django.core.exceptions import ValidationError

from .choices import KIND_PREFIX, ItemKind
from .selectors import items_visible_to

# One noun and its article per kind: the words a technician uses on the bench.
KIND_NOUN: dict[str, tuple[str, str]] = {
    ItemKind.MATERIAL_LOT: ("a", "lot"),
    ItemKind.SSE_BATCH: ("an", "SSE batch"),
    ItemKind.CATHODE_FILM: ("a", "cathode film"),
    ItemKind.ANODE_FILM: ("an", "anode film"),
    ItemKind.SEPARATOR_FILM: ("a", "separator film"),
    ItemKind.SHEET: ("a", "sheet"),
    ItemKind.CELL: ("a", "cell"),
    ItemKind.MODULE: ("a", "module"),
}
KIND_BY_PREFIX: dict[str, str] = {prefix: kind for kind, prefix in KIND_PREFIX.items()}

# A code anywhere in the text: its prefix, a dash, six digits or more (the counters may pass 999999).
_CODE_IN_TEXT = re.compile(r"(?<![A-Z0-9])([A-Z]{2,5})-(\d{6,9})(?![0-9])")
_LIST_SEPARATORS = re.compile(r"[,;\n\r\t]+")
MAX_CODE_TEXT = 500  # a label's payload: the code and an absolute address


def kind_noun(kind: str, *, article: bool = False) -> str:
    indefinite, noun = KIND_NOUN.get(kind, ("an", "item"))
    return f"{indefinite} {noun}" if article else noun


def kinds_phrase(kinds: Iterable[str], *, article: bool = True) -> str:
    return " or ".join(dict.fromkeys(kind_noun(kind, article=article) for kind in kinds))


def code_kind(code: str) -> str | None:
    """The kind an item code names by its prefix (``SHT-000030`` → sheet), or None for an unknown prefix."""
    return KIND_BY_PREFIX.get(code.split("-", 1)[0])


def code_from_text(text: str) -> str | None:
    """The one item code in ``text`` (a bare code, a QR label's "CODE URL", a page address), else None."""
    found = list(dict.fromkeys(f"{prefix}-{digits}" for prefix, digits in _CODE_IN_TEXT.findall(text.upper())
                               if prefix in KIND_BY_PREFIX))
    return found[0] if len(found) == 1 else None


def code_parse(text: str) -> str:
    """The canonical item code in what was scanned or typed; a ValidationError that says what is wrong otherwise."""
    shown = " ".join(text.split())
    if len(shown) > 40:
        shown = f"{shown[:37]}…"
    found = list(dict.fromkeys(f"{prefix}-{digits}" for prefix, digits in _CODE_IN_TEXT.findall(text.upper())))
    known = [code for code in found if code_kind(code) is not None]
    if len(known) > 1:
        raise ValidationError(f"“{shown}” holds {len(known)} codes ({', '.join(known)}); give one per field",
                              code="several_codes")
    if known:
        return known[0]
    if found:
        prefixes = ", ".join(f"{prefix}-" for prefix in KIND_PREFIX.values())
        raise ValidationError(f"{found[0]} is not an assbtrack code (they begin {prefixes})", code="unknown_prefix")
    raise ValidationError(f"“{shown}” is not an item code: scan the label or type the code, e.g. SHT-000001",
                          code="not_a_code")


class CodeInput(forms.TextInput):
    """A text box a barcode scanner can type into: no autocompletion, capitals, no spell check."""

    def __init__(self, attrs: dict | None = None):
        base = {"autocomplete": "off", "autocapitalize": "characters", "spellcheck": "false",
                "enterkeyhint": "next", "data-code-field": "1"}
        super().__init__(attrs={**base, **(attrs or {})})


class CodeField(forms.CharField):
    """A scanned or typed item code of one of ``kinds``; cleans to the canonical code (or a list of them).

    The kind is checked here from the code's prefix; whether the user may use the item is checked by
    :func:`codes_resolve`, which looks all of a page's codes up at once.
    """

    widget = CodeInput

    def __init__(self, *, kinds: Iterable[str], multiple: bool = False, max_codes: int = 1, datalist: str = "",
                 placeholder: str = "", attrs: dict | None = None, **kwargs):
        self.kinds = tuple(kinds)
        self.multiple = multiple
        self.max_codes = max_codes if multiple else 1
        kwargs.setdefault("max_length", MAX_CODE_TEXT * self.max_codes)
        super().__init__(**kwargs)
        self.widget.attrs.update(attrs or {})
        if datalist:
            self.widget.attrs["list"] = datalist
        kind = self.kinds[0] if self.kinds else ItemKind.SHEET
        self.widget.attrs["placeholder"] = placeholder or f"{KIND_PREFIX[kind]}-000001"

    def to_python(self, value):
        text = super().to_python(value)
        if text in self.empty_values:
            return [] if self.multiple else ""
        if self.max_length is not None and len(text) > self.max_length:
            raise ValidationError(f"at most {self.max_length} characters; this has {len(text)}", code="max_length")
        if not self.multiple:
            return self._one(text)
        codes, problems = [], []
        for part in _LIST_SEPARATORS.split(text):
            if not part.strip():
                continue
            try:
                codes.append(self._one(part))
            except ValidationError as error:
                problems.extend(error.messages)
        if problems:
            raise ValidationError(problems)
        codes = list(dict.fromkeys(codes))
        if len(codes) > self.max_codes:
            raise ValidationError(f"at most {self.max_codes} codes; {len(codes)} were given", code="too_many")
        return codes

    def _one(self, text: str) -> str:
        code = code_parse(text)
        kind = code_kind(code)
        if self.kinds and kind not in self.kinds:
            raise ValidationError(f"{code} is {kind_noun(kind, article=True)}; this field takes "
                                  f"{kinds_phrase(self.kinds)}", code="wrong_kind")
        return code

    def run_validators(self, value) -> None:
        # The length limit is for the scanned text (checked by the widget's maxlength and to_python), not the codes.
        return

    def widget_attrs(self, widget):
        attrs = super().widget_attrs(widget)
        attrs.pop("minlength", None)
        return attrs


def _code_fields(form: forms.BaseForm) -> Iterable[tuple[str, CodeField]]:
    return ((name, field) for name, field in form.fields.items() if isinstance(field, CodeField))


def _forms_of(containers: Iterable) -> Iterable[forms.BaseForm]:
    for container in containers:
        if isinstance(container, forms.BaseFormSet):
            yield from container.forms
        elif container is not None:
            yield container


def codes_resolve(user: User | AnonymousUser, *containers) -> dict:
    """The items of every code typed in ``containers`` (forms or formsets), among those ``user`` may see.

    One query for them all. A code the user may not see (or that does not exist) is refused beside its
    field, in the same words either way, so that the refusal tells nothing about other projects.
    Returns ``{code: TracedItem}`` of the codes found.
    """
    wanted: list[tuple[forms.BaseForm, str, CodeField, list[str]]] = []
    for form in _forms_of(containers):
        cleaned = getattr(form, "cleaned_data", None)
        if cleaned is None:
            continue
        for name, field in _code_fields(form):
            value = cleaned.get(name)
            codes = value if isinstance(value, list) else ([value] if value else [])
            if codes:
                wanted.append((form, name, field, codes))
    every = {code for *_, codes in wanted for code in codes}
    if not every:
        return {}
    found = {item.code: item for item in items_visible_to(user).filter(code__in=every)}
    for form, name, field, codes in wanted:
        missing = [code for code in codes if code not in found or
                   (field.kinds and found[code].kind not in field.kinds)]
        if missing:
            nouns = kinds_phrase([code_kind(code) for code in missing], article=False)
            form.add_error(name, f"No {nouns} {', '.join(missing)} that you may use.")
    return found
