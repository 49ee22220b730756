"""The run and review pages work under the Content-Security-Policy (issue 11 §6): no inline
script or style without the response's nonce, no other host. The browser tests load every
admin page and fail on any CSP violation the browser reports."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from ats.tests.test_security_headers import policy

from .world import build_world


@pytest.mark.parametrize("page", ["change", "review"])
def test_inline_code_carries_the_nonce_of_its_response(client, tenant_a, staff_member_for, page):
    run = build_world(tenant_a).run
    client.force_login(staff_member_for(tenant_a))
    response = client.get(reverse(f"admin:research_researchrun_{page}", args=[run.pk]))
    assert response.status_code == 200
    rules = policy(response)
    assert "'unsafe-inline'" not in rules["style-src"] + rules["script-src"]
    nonce = next(v for v in rules["style-src"] if v.startswith("'nonce-"))[7:-1]
    for tag in re.findall(r"<(?:style|script)\b[^>]*>", response.text):
        assert 'src="' in tag or f'nonce="{nonce}"' in tag, tag
    assert ' style="' not in response.text  # attributes cannot carry a nonce
