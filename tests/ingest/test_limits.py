"""The nesting scanners (ingest/limits.py) and the XML character rule (kg/xmlchars.py)."""

from __future__ import annotations

import json
import time

import pytest
import yaml

from ingest.limits import MAX_NESTING, json_too_deep, turtle_too_deep, yaml_too_deep
from kg.xmlchars import escape_xml_forbidden, xml_forbidden_char, xml_forbidden_message


def nested(depth: int) -> str:
    return "[" * depth + "]" * depth


# -- JSON --------------------------------------------------------------------------------------

def test_json_depth_is_counted_exactly_at_the_limit() -> None:
    assert MAX_NESTING == 64
    assert json_too_deep(nested(64)) is None
    assert json_too_deep(nested(65)) == 1
    assert json_too_deep('{"a": ' * 64 + "1" + "}" * 64) is None
    assert json_too_deep('{"a": ' * 65 + "1" + "}" * 65) == 1
    assert json_too_deep(nested(5), limit=4) == 1


def test_json_brackets_in_strings_do_not_count() -> None:
    text = json.dumps({"title": "[" * 1000, "text": '{\\"[[[' * 100, "x": ["]" * 70]})
    assert json_too_deep(text) is None
    assert json.loads(text)  # the scanner and the parser agree on where strings are
    assert json_too_deep('"\\\\"' + nested(65)) == 1  # an escaped backslash ends the string


def test_json_depth_names_the_line() -> None:
    text = "{\n" + "\n".join("[" for _ in range(70)) + "\n" + "]" * 70 + "}"
    assert json_too_deep(text) == 65


def test_json_closers_without_openers_are_harmless() -> None:
    assert json_too_deep("]" * 1000 + nested(64)) is None
    assert json_too_deep("[]" * 10_000) is None


def test_json_scan_is_fast_on_a_big_text() -> None:
    text = json.dumps([{"a": [1, 2, {"b": "x" * 50}]} for _ in range(50_000)])  # ~3.5 MB
    start = time.perf_counter()
    assert json_too_deep(text) is None
    assert json_too_deep("[" * 1_000_000) == 1
    assert time.perf_counter() - start < 10  # generous: linear, not a stall


# -- Turtle ----------------------------------------------------------------------------------

def test_turtle_depth_counts_brackets_and_parentheses() -> None:
    prefix = "<https://example.org/s> <https://example.org/p> "
    assert turtle_too_deep(prefix + "[ <p> " * 64 + "]" * 64 + " .") is None
    assert turtle_too_deep(prefix + "[ <p> " * 65 + "]" * 65 + " .") == 1
    assert turtle_too_deep(prefix + "(" * 65 + ")" * 65 + " .") == 1
    assert turtle_too_deep(prefix + "( [ <p> " * 33 + "] )" * 33 + " .") == 1


@pytest.mark.parametrize("literal", [
    '"' + "[" * 100 + '"', "'" + "(" * 100 + "'", '"""' + "[\n" * 100 + '"""',
    "'''" + "(\n" * 100 + "'''", '"\\"' + "[" * 100 + '"', '"""a""' + "[" * 100 + '"""',
])
def test_turtle_brackets_in_strings_iris_and_comments_do_not_count(literal: str) -> None:
    text = ("# " + "[" * 100 + "\n<https://example.org/[[[[[[[[> <p> " + literal + " .\n")
    assert turtle_too_deep(text, limit=3) is None


# -- YAML ------------------------------------------------------------------------------------

def test_yaml_depth_counts_flow_and_block_nesting() -> None:
    assert yaml_too_deep("a: " + nested(63)) is None  # the mapping is one level
    assert yaml_too_deep("a: " + nested(64)) == 1
    block = "".join("  " * i + "- \n" for i in range(70))
    assert yaml_too_deep("a:\n" + block) == 65
    assert yaml_too_deep("title: 'x [[[['\ntext: \"]]]\"") is None


def test_yaml_depth_reports_malformed_yaml_as_a_yaml_error() -> None:
    with pytest.raises(yaml.YAMLError):
        yaml_too_deep("a: [")


# -- the XML character rule ----------------------------------------------------------------

@pytest.mark.parametrize("char", [
    *(chr(c) for c in range(0x20) if c not in (0x09, 0x0A, 0x0D)),
    "\ud800", "\udfff", "\ufffe", "\uffff",
])
def test_forbidden_characters(char: str) -> None:
    assert xml_forbidden_char(f"a{char}b{char}") == char
    assert f"U+{ord(char):04X} is not allowed" in xml_forbidden_message(char)
    assert xml_forbidden_char(escape_xml_forbidden(f"a{char}")) is None


@pytest.mark.parametrize("text", [
    "", "gewoon", "tab\tlf\ncr\r", "\x7f\x80\x9f", "é€😀", "\ud7ff\ue000\ufffd\U0010ffff",
])
def test_allowed_characters(text: str) -> None:
    assert xml_forbidden_char(text) is None
    assert escape_xml_forbidden(text) == text


def test_messages_name_the_code_point() -> None:
    assert xml_forbidden_message("\x00") == "control character U+0000 is not allowed"
    assert xml_forbidden_message("\ufffe") == "character U+FFFE is not allowed"
    assert escape_xml_forbidden("a\x00b\x1b[31m") == "a\\u0000b\\u001b[31m"
