from __future__ import annotations

from typing import Any

from rest_framework import serializers

from ats.models import Company, CompanyAlias


class CompanyAliasSerializer(serializers.ModelSerializer):
    type = serializers.CharField(source="alias_type")

    class Meta:
        model = CompanyAlias
        fields = ["alias", "type"]


class CompanySerializer(serializers.ModelSerializer):
    class Meta:
        model = Company
        fields = [
            "id",
            "name",
            "domain",
            "website",
            "hq_country",
            "hq_city",
            "sector",
            "created_at",
            "updated_at",
        ]


class CompanyDetailSerializer(CompanySerializer):
    aliases = CompanyAliasSerializer(many=True, read_only=True)

    class Meta(CompanySerializer.Meta):
        fields = [*CompanySerializer.Meta.fields, "description", "aliases"]


MSG_NOT_EDITABLE = "This field cannot be changed."
MSG_NOT_A_STRING = "Not a valid string."


class InputSerializer(serializers.Serializer):
    """Base of DRF input serializers: unknown fields and non-string text are refused.

    DRF ignores unknown fields and turns numbers into text ("description": 0 -> "0"); an
    automation client that sends them has a bug it should hear about.
    """

    def to_internal_value(self, data: Any) -> Any:
        if isinstance(data, dict):
            errors = {field: [MSG_NOT_EDITABLE] for field in sorted(set(data) - set(self.fields))}
            for name, field in self.fields.items():
                text_field = isinstance(field, serializers.CharField)
                if text_field and name in data and not isinstance(data[name], str | None):
                    errors[name] = [MSG_NOT_A_STRING]
            if errors:
                raise serializers.ValidationError(errors)
        return super().to_internal_value(data)


class CompanyUpdateSerializer(InputSerializer):
    """PATCH input: only these fields; the service normalizes name and domain."""

    name = serializers.CharField(max_length=500, required=False)
    domain = serializers.CharField(max_length=253, required=False, allow_blank=True)
    website = serializers.URLField(max_length=2000, required=False, allow_blank=True)
    hq_country = serializers.RegexField(
        r"^[A-Za-z]{2}$",
        required=False,
        allow_blank=True,
        error_messages={"invalid": "Use an ISO-3166 alpha-2 code such as DE."},
    )
    hq_city = serializers.CharField(max_length=200, required=False, allow_blank=True)
    sector = serializers.CharField(max_length=200, required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)

    def to_internal_value(self, data: Any) -> Any:
        values = super().to_internal_value(data)
        if values.get("hq_country"):
            values["hq_country"] = values["hq_country"].upper()
        return values
