"""The API's JSON parser: DRF's, with limits on what one body may carry.

A number of hundreds of digits parses in Python but overflows every float and integer column later, and
JSON nested thousands deep exhausts the recursion limit of the decoder or of whatever walks it next;
both used to be server errors. Here each is a 400 naming what is wrong, before any view sees the data.
"""

from __future__ import annotations

import codecs
import json

from rest_framework.exceptions import ParseError
from rest_framework.parsers import JSONParser

from .numbers import JSON_DEPTH_MAX, NUMBER_TEXT_MAX


def _number(text: str, convert):
    if len(text) > NUMBER_TEXT_MAX:
        raise ParseError(f"JSON parse error - a number of {len(text)} characters is too long "
                         f"(at most {NUMBER_TEXT_MAX})")
    value = convert(text)
    if isinstance(value, float) and value in (float("inf"), float("-inf")):
        raise ParseError(f"JSON parse error - the number {text} is too large")
    return value


def _refuse_constant(name: str):
    raise ParseError(f"JSON parse error - {name} is not a number JSON allows")


def json_depth(value) -> int:
    """How deeply objects and arrays nest in ``value`` (a scalar: 0), walked without recursion."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        node, depth = stack.pop()
        if isinstance(node, dict):
            children = node.values()
        elif isinstance(node, list):
            children = node
        else:
            continue
        deepest = max(deepest, depth)
        if deepest > JSON_DEPTH_MAX:
            return deepest
        stack.extend((child, depth + 1) for child in children)
    return deepest


class LimitedJSONParser(JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", "utf-8")
        try:
            decoded = codecs.getreader(encoding)(stream)
            data = json.load(
                decoded,
                parse_int=lambda text: _number(text, int),
                parse_float=lambda text: _number(text, float),
                parse_constant=_refuse_constant,
            )
        except RecursionError:
            raise ParseError(f"JSON parse error - nested too deep (at most {JSON_DEPTH_MAX} levels)") from None
        except ValueError as error:
            raise ParseError(f"JSON parse error - {error}") from None
        if json_depth(data) > JSON_DEPTH_MAX:
            raise ParseError(f"JSON parse error - nested too deep (at most {JSON_DEPTH_MAX} levels)")
        return data
