"""Hostile payloads, and the helpers that send them: forms found by crawling pages, operations read from the document."""

import json
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import quote, urlencode, urljoin, urlsplit

from sqlalchemy import String, Text, select

from app.extensions import db

MARKER = "HOSTILE"  # in every hostile text, so a row that stored one can be found
SURROGATE = MARKER + "\ud800"  # valid JSON ("\ud800"), not encodable as UTF-8
NUL = MARKER + "\x00"
LONG = MARKER + "长" * 10_000
HUGE = 10**30  # past every database's integers
HUGE_DIGITS = "9" * 5000  # past what Python's int() parses by default (4,300 digits)
DEEP = 990  # about where Python's JSON parser gives up


def _nested(depth: int):
    value = MARKER
    for _ in range(depth):
        value = [value]
    return value


# values for one field: the payloads above, and wrong types
FIELD_VALUES = {
    "surrogate": SURROGATE,
    "nul": NUL,
    "long": LONG,
    "huge": HUGE,
    "nested": _nested(100),
    "object": {MARKER: [MARKER]},
    "list": [MARKER],
    "float": 1e308,
    "negative": -HUGE,
    "bool": True,
    "null": None,
}
# raw JSON bodies (text) that no value above can express
RAW_BODIES = {
    "deep nesting": "[" * DEEP + "]" * DEEP,
    "deep object": '{"a":' * DEEP + "1" + "}" * DEEP,
    "5000-digit integer": '{"id": ' + HUGE_DIGITS + "}",
    "lone surrogate": json.dumps({MARKER: SURROGATE}),
    "NaN": '{"a": NaN, "b": Infinity}',
    "empty": "",
    "null": "null",
    "array": json.dumps([MARKER]),
    "string": json.dumps(MARKER),
    "broken": '{"a": ',
}
RAW_INVALID_UTF8 = b'{"a": "\xff\xfe\xed\xa0\x80"}'
# query and path values, as they go on the wire (percent-encoded)
URL_VALUES = {
    "nul": quote(NUL),
    "surrogate bytes": MARKER + "%ED%A0%80",
    "invalid utf-8": "%FF%FE",
    "long": quote(LONG),
    "huge": str(HUGE),
    "huge digits": HUGE_DIGITS,
    "negative": "-" + str(HUGE),
    "float": "1e308",
    "text": MARKER,
    "empty": "",
    "list": "[1]",
}
# form values: the same, as form fields carry them (surrogates cannot travel in a form; their UTF-8 bytes can)
FORM_VALUES = {
    "nul": NUL,
    "long": LONG,
    "huge": str(HUGE),
    "huge digits": HUGE_DIGITS,
    "negative": "-" + str(HUGE),
    "float": "1e308",
    "text": "not a number",
    "empty": "",
}


def stored_markers() -> list[str]:
    """Every text column holding a hostile marker (a payload that was written somewhere), with a sample."""
    found = []
    for table in db.metadata.sorted_tables:
        for column in table.columns:
            if isinstance(column.type, (String, Text)):
                value = db.session.scalar(select(column).where(column.contains(MARKER)).limit(1))
                if value is not None:
                    found.append(f"{table.name}.{column.name} = {value[:20]!r}… ({len(value)} characters)")
    return found


@dataclass
class Form:
    """A form found on a page: where it posts and its fields with the values the page filled in."""

    action: str
    fields: list = field(default_factory=list)  # (name, kind, value): kind is text, number, hidden, select …

    def values(self) -> dict:
        return {name: value for name, kind, value in self.fields if kind not in ("submit", "file")}


class FormFinder(HTMLParser):
    """The POST forms of a page, and its links (to find the pages behind them)."""

    def __init__(self, page_url: str):
        super().__init__(convert_charrefs=True)
        self.page_url, self.forms, self.links = page_url, [], []
        self._form = self._select = self._textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "a" and a.get("href"):
            self.links.append(urljoin(self.page_url, a["href"]))
        elif tag == "form":
            post = (a.get("method") or "get").lower() == "post"
            self._form = Form(urljoin(self.page_url, a.get("action") or self.page_url)) if post else None
            if self._form is not None:
                self.forms.append(self._form)
        elif self._form is None or not a.get("name"):
            return
        elif tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self._form.fields.append((a["name"], kind, a.get("value") or ""))
        elif tag == "select":
            self._select = [a["name"], None, None]  # name, first option, selected option
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            self._select[1] = value if self._select[1] is None else self._select[1]
            if "selected" in a:
                self._select[2] = value
        elif tag == "textarea":
            self._textarea = [a["name"], ""]

    def handle_data(self, data):
        if self._textarea is not None:
            self._textarea[1] += data

    def handle_endtag(self, tag):
        if tag == "form":
            self._form = None
        elif tag == "select" and self._select is not None:
            name, first, selected = self._select
            if self._form is not None:
                self._form.fields.append(
                    (name, "select", selected if selected is not None else (first or ""))
                )
            self._select = None
        elif tag == "textarea" and self._textarea is not None:
            if self._form is not None:
                self._form.fields.append((self._textarea[0], "textarea", self._textarea[1]))
            self._textarea = None


def find_forms(html: str, page_url: str) -> tuple[list, list]:
    finder = FormFinder(page_url)
    finder.feed(html)
    return finder.forms, finder.links


def local_path(url: str) -> str:
    """`url` as the test client takes it: path and query, no host."""
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def form_payloads(form: Form, per_field: bool):
    """(label, keyword arguments for client.post) for `form`: every field hostile at once (as a form, and as the JSON
    body Flask-WTF also reads), then (per_field) one field at a time with the others as the page filled them in, so
    a value the form lets through reaches the save."""
    base = form.values()
    for label, value in FORM_VALUES.items():
        yield f"all fields {label}", {"data": {name: value for name in base}}
    for label in ("surrogate", "nul", "object"):
        yield f"all fields {label} as JSON", {"json": {name: FIELD_VALUES[label] for name in base}}
    if not per_field:
        return
    for name, kind, _value in form.fields:
        if kind in ("submit", "file", "checkbox", "radio") or name == "csrf_token":
            continue
        for label in ("huge", "nul") if kind in ("number", "hidden", "select") else ("nul", "long"):
            yield f"{name} {label}", {"data": {**base, name: FORM_VALUES[label]}}


def raw_form_bodies():
    """(label, keyword arguments for client.post): bodies that are not forms at all."""
    yield "empty body", {}
    yield "JSON instead of a form", {"data": RAW_BODIES["deep nesting"], "content_type": "application/json"}
    yield "text/plain", {"data": NUL, "content_type": "text/plain"}
    yield (
        "invalid UTF-8 form",
        {"data": b"a=%FF%FE&b=\xff\xfe", "content_type": "application/x-www-form-urlencoded"},
    )
    yield (
        "broken multipart",
        {
            "data": b'--x\r\nContent-Disposition: form-data; name="a"\r\n\r\n' + b"\x00" * 10,
            "content_type": "multipart/form-data; boundary=x",
        },
    )


def resolve(document: dict, schema: dict) -> dict:
    """`schema` with its $ref followed (within the document)."""
    while "$ref" in schema:
        schema = document["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


def example_of(document: dict, schema: dict, domain: dict, name: str = ""):
    """A value `schema` accepts, from the domain's real codes where a field names one."""
    schema = resolve(document, schema)
    if name in domain:
        return domain[name]
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {
            key: example_of(document, value, domain, key)
            for key, value in schema.get("properties", {}).items()
            if key in schema.get("required", [])
        }
    if kind == "array":
        return [example_of(document, schema.get("items", {}), domain)]
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return False
    return "x"


def operations(document: dict):
    """(method, path template, operation) for every operation of the document."""
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in ("get", "post", "put", "patch", "delete"):
                yield (
                    method,
                    path,
                    {**operation, "parameters": item.get("parameters", []) + operation.get("parameters", [])},
                )


def fill_path(path: str, known: dict, override: tuple | None = None) -> str:
    """`path` with its {parameters} filled from `known` (real ids), or one of them set to `override`'s value."""

    def value(match):
        name = match.group(1)
        if override is not None and override[0] == name:
            return override[1]
        return str(known.get(name, 1))

    return re.sub(r"\{([^}]+)\}", value, path)


def with_query(path: str, params: dict) -> str:
    return path + ("?" + urlencode(params, safe="%") if params else "")
