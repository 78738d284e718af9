"""Template tags of the tracing core shown on every record's page."""

from __future__ import annotations

import re

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

from ..choices import KIND_PREFIX
from ..registry import kind_info

register = template.Library()

_KIND_OF_PREFIX = {prefix: kind for kind, prefix in KIND_PREFIX.items()}
# A refusal that needs another record's data ends with "correct <CODE>" (see electrodes.services.film_create).
_CORRECT_CODE = re.compile(r"\bcorrect ([A-Z]{3,4})-(\d{6})\b")


@register.inclusion_tag("tracing/_confirmed_warnings.html")
def confirmed_warnings(item):
    """The unusual values confirmed when the record was written (one query; nothing shown when there are none)."""
    return {"confirmed_warnings": list(item.confirmed_warnings.select_related("confirmed_by")[:50])}


def correction_url(code: str) -> str | None:
    """The correction page of the record ``code``, when its kind has one."""
    kind = _KIND_OF_PREFIX.get(code.split("-")[0])
    url_name = kind_info(kind).correction_url_name if kind else None
    if not url_name:
        return None
    try:
        return reverse(url_name, args=[code])
    except NoReverseMatch:
        return None


@register.filter
def correction_links(text) -> SafeString:
    """``text`` escaped, with every "correct CODE" a link to that record's correction page (when it has one)."""
    def link(match: re.Match) -> str:
        code = f"{match.group(1)}-{match.group(2)}"
        url = correction_url(code)
        return format_html('<a href="{}">correct {}</a>', url, code) if url else match.group(0)

    return mark_safe(_CORRECT_CODE.sub(link, str(conditional_escape(text))))
