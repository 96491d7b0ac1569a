"""Serializer fields built once per class (interfaces.api.built_fields): each instance its own copies."""

from rest_framework import serializers

from interfaces.api.built_fields import FieldsBuiltOnce


class Sample(FieldsBuiltOnce, serializers.Serializer):
    title = serializers.CharField(max_length=5)
    tags = serializers.ListField(child=serializers.CharField(max_length=3), required=False)


def test_each_instance_binds_its_own_copy_of_each_field():
    first, second = Sample(data={"title": "abc"}), Sample(data={"title": "toolong"})
    assert first.fields["title"] is not second.fields["title"]
    assert first.fields["title"].parent is first and second.fields["title"].parent is second
    assert first.fields["tags"].child is not second.fields["tags"].child
    assert first.fields["tags"].child.parent is first.fields["tags"]
    # The copies keep the declared arguments and validators.
    assert first.fields["title"].max_length == 5
    assert first.is_valid(), first.errors
    assert not second.is_valid()
    assert "title" in second.errors
    assert not Sample(data={"title": "ok", "tags": ["abcd"]}).is_valid()
