from __future__ import annotations

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


class CompanyUpdateSerializer(serializers.Serializer):
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

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError(
                    {field: ["This field cannot be changed."] for field in unknown}
                )
        values = super().to_internal_value(data)
        if values.get("hq_country"):
            values["hq_country"] = values["hq_country"].upper()
        return values
