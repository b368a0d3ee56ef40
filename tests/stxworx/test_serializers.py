"""StrictSerializer's per-instance fields: copied without DRF's deep copy, never shared."""

from __future__ import annotations

from rest_framework import serializers

from stxworx.serializers import StrictSerializer


class Inner(StrictSerializer):
    name = serializers.CharField()


class Outer(StrictSerializer):
    title = serializers.CharField(max_length=5)
    size = serializers.IntegerField(min_value=1, required=False)
    tags = serializers.ListField(child=serializers.CharField())
    inner = Inner(required=False)


def test_each_instance_binds_fields_of_its_own():
    first, second = Outer(data={}), Outer(data={})
    for name in ("title", "size", "tags", "inner"):
        assert first.fields[name] is not second.fields[name]
        assert first.fields[name].parent is first
        assert second.fields[name].parent is second
        assert first.fields[name] is not Outer._declared_fields[name]
    # a field holding fields is copied whole: its children are not shared either
    assert first.fields["tags"].child is not second.fields["tags"].child
    assert first.fields["inner"].fields["name"] is not second.fields["inner"].fields["name"]
    # the class's own fields stay unbound
    assert Outer._declared_fields["title"].parent is None


def test_copied_fields_validate_as_declared():
    good = Outer(data={"title": "abc", "size": "3", "tags": ["x"], "inner": {"name": "n"}})
    assert good.is_valid(), good.errors
    assert good.validated_data == {
        "title": "abc", "size": 3, "tags": ["x"], "inner": {"name": "n"}
    }  # fmt: skip
    bad = Outer(data={"title": "abcdef", "size": 0, "tags": ["x"]})
    assert not bad.is_valid()
    assert set(bad.errors) == {"title", "size"}
    # the first instance's errors did not leak into the next one's fields
    assert Outer(data={"title": "ok", "tags": []}).is_valid()
