"""Who did something: a user, an API key or the system. Services record it on every event."""

from __future__ import annotations

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser


@dataclass(frozen=True)
class Actor:
    """`label` is what the audit trail shows (`user:ann@example.com`, `api_key:agent`,
    `system:worker`); `user` is set when a Django user acted."""

    label: str
    user: AbstractBaseUser | None = None

    @classmethod
    def for_user(cls, user: AbstractBaseUser) -> Actor:
        return cls(label=f"user:{user.get_username()}", user=user)

    @classmethod
    def system(cls, name: str = "system") -> Actor:
        return cls(label=f"system:{name}")

    def __str__(self) -> str:
        return self.label
