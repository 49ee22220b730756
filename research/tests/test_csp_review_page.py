"""The review page's inline styles work under the Content-Security-Policy (issue 11 §6)."""

from __future__ import annotations

import re

from ats.tests.test_security_headers import policy

from .world import build_world


def test_an_inline_style_carries_the_nonce_of_its_response(client, tenant_a, staff_member_for):
    run = build_world(tenant_a).run
    client.force_login(staff_member_for(tenant_a))
    response = client.get(f"/admin/research/researchrun/{run.pk}/change/")
    assert response.status_code == 200
    nonces = re.findall(r"<style nonce=\"([^\"]+)\"", response.text)
    assert nonces, "the review page's styles carry no nonce"
    assert policy(response)["style-src"] == ["'self'", f"'nonce-{nonces[0]}'"]
    assert "<style>" not in response.text and "<script>" not in response.text
