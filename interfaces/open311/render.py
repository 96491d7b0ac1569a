"""How Open311 answers: the same data as JSON or XML, and the GeoReport v2 error list.

The XML follows the spec's element names (a list of services is <services><service>…); the
error list is the spec's [{"code": 400, "description": "…"}] in either format. The outage
middleware answers with `errors` too, so a 503 reads like every other Open311 error.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from xml.etree import ElementTree as ET

from django.http import HttpResponse

FORMATS = {"json", "xml"}
# The element a list's items are called in XML, by the list's name; anything else is <item>.
XML_ITEMS = {"values": "value", "attributes": "attribute", "endpoints": "endpoint", "formats": "format"}


def iso(value: datetime | None) -> str | None:
    """A moment in the spec's W3C form, in UTC (2026-11-28T01:00:00Z); None stays None."""
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if value else None


def content_type(fmt: str) -> str:
    """The Content-Type of an answer in `fmt`."""
    return "text/xml; charset=utf-8" if fmt == "xml" else "application/json; charset=utf-8"


def xml_document(root: str, item: str | None, data: Any) -> bytes:
    """`data` under <root>: one dict as its children, or (with `item`) a list of <item> elements."""

    def fill(parent: ET.Element, value: Any) -> None:
        if isinstance(value, dict):
            for key, inner in value.items():
                if isinstance(inner, list):
                    holder = ET.SubElement(parent, key)
                    child_name = XML_ITEMS.get(key, "item")
                    for element in inner:
                        fill(ET.SubElement(holder, child_name), element)
                else:
                    fill(ET.SubElement(parent, key), inner)
        elif value is None:
            return
        elif isinstance(value, bool):
            parent.text = "true" if value else "false"
        else:
            parent.text = str(value)

    top = ET.Element(root)
    if item is None:
        fill(top, data)
    else:
        for element in data:
            fill(ET.SubElement(top, item), element)
    return b'<?xml version="1.0" encoding="utf-8"?>' + ET.tostring(top, encoding="utf-8")


def respond(fmt: str, data: Any, root: str, item: str | None, status: int = 200) -> HttpResponse:
    """The answer in the format the client asked for (XML names its root and items; JSON needs neither)."""
    if fmt == "xml":
        return HttpResponse(xml_document(root, item, data), status=status, content_type=content_type(fmt))
    return HttpResponse(json.dumps(data, ensure_ascii=False), status=status, content_type=content_type(fmt))


def errors(fmt: str, status: int, *descriptions: str) -> HttpResponse:
    """The spec's error list: [{"code": 400, "description": "..."}] (JSON when the format is unknown)."""
    items = [{"code": status, "description": d} for d in descriptions]
    return respond(fmt if fmt in FORMATS else "json", items, "errors", "error", status=status)


def format_or_error(fmt: str) -> HttpResponse | None:
    """A 404 error list for a format we do not speak; None for .json and .xml."""
    if fmt not in FORMATS:
        return errors("json", 404, f"Unknown format {fmt!r}; use .json or .xml.")
    return None
