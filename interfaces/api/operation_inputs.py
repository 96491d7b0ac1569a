"""The inputs of the table's operations as DRF serializers, and their parsing, shared by the REST
operation endpoints (interfaces.api.operations) and the department-system API."""

from __future__ import annotations

import base64

from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework import serializers

from accounts.models import Department
from core.errors import InvalidInput
from incidents.selectors import event_for_user
from operations.table import Field, Inputs, Operation


class PhotoField(serializers.Serializer):
    filename = serializers.CharField(max_length=100)
    content_base64 = serializers.CharField()


def decode_photos(items) -> list:
    photos = []
    for i, item in enumerate(items):
        try:
            raw = base64.b64decode(item["content_base64"], validate=True)
        except ValueError:
            raise InvalidInput({"photos": f"Photo {i + 1} is not valid base64."}) from None
        photos.append(SimpleUploadedFile(item["filename"], raw))
    return photos


TEXT_MAX = 2000


def _serializer_field(field: Field) -> serializers.Field:
    required = field.required
    if field.kind == "text":
        return serializers.CharField(max_length=TEXT_MAX, required=required, allow_blank=not required)
    if field.kind == "short_text":
        return serializers.CharField(max_length=32, required=required, allow_blank=True, help_text=field.help_text)
    if field.kind == "photos":
        if required:
            return PhotoField(many=True, min_length=1, max_length=9)
        return PhotoField(many=True, required=False, max_length=9)
    if field.kind == "department":
        return serializers.SlugRelatedField(slug_field="code", queryset=Department.objects.filter(is_active=True))
    if field.kind == "departments":
        return serializers.SlugRelatedField(
            slug_field="code", queryset=Department.objects.filter(is_active=True), many=True, required=False
        )
    if field.kind == "hours":
        return serializers.IntegerField(min_value=1, max_value=720)
    if field.kind == "passed":
        return serializers.BooleanField()
    if field.kind == "event_code":
        return serializers.CharField(help_text="Code of the event this one duplicates")
    raise ValueError(f"no API field for input kind {field.kind!r}")


class VersionInput(serializers.Serializer):
    expected_version = serializers.IntegerField(
        required=False, min_value=1, help_text="Refuse with 409 if the event changed."
    )


_classes: dict[str, type[serializers.Serializer]] = {"VersionInput": VersionInput}


def input_serializer(inputs: Inputs, prefix: str = "") -> type[serializers.Serializer]:
    """The serializer class of one set of inputs; its name is its schema component."""
    name = prefix + inputs.name
    if name not in _classes:
        attrs = {f.name: _serializer_field(f) for f in inputs.fields}
        _classes[name] = type(name, (VersionInput,), attrs)
    return _classes[name]


def parsed_values(op: Operation, user, validated: dict) -> dict:
    """Validated API input as the table's `perform` takes it: photos decoded, event codes looked up
    in the caller's scope (an event they may not see is "not found")."""
    values = {}
    for f in op.inputs.fields:
        if f.name not in validated:
            continue
        value = validated[f.name]
        if f.kind == "photos":
            value = decode_photos(value)
        elif f.kind == "event_code":
            value = event_for_user(user, code=value).pk
        values[f.name] = value
    return values
