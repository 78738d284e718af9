"""The path converter of every numeric id in a URL: ``<id:name>``.

Django's ``<int:...>`` takes any number of digits, and forty of them overflow the database column when
the view looks the row up (a server error). An id has at most 18 digits here, which every 64-bit column
holds; a longer one matches no URL and is answered 404 like any id that does not exist.
"""

from __future__ import annotations

ID_REGEX = "[0-9]{1,18}"


class IdConverter:
    regex = ID_REGEX

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value) -> str:
        return str(int(value))
