"""Bounds of what a request may carry as a number, shared by the API's parser, filters and paths."""

INTEGER_MAX = 2**63 - 1  # a 64-bit signed column, the widest integer column on SQLite and PostgreSQL
INTEGER_MIN = -(2**63)
ID_DIGITS_MAX = 18  # a path id of at most 18 digits always fits (10**18 - 1 < 2**63 - 1)
NUMBER_TEXT_MAX = 40  # characters of one number in a JSON body or a filter: a float needs at most 25
JSON_DEPTH_MAX = 32  # nesting of objects and arrays in a JSON body; model inputs are two levels deep
