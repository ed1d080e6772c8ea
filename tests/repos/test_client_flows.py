"""The repository flows of issue 3 with the real huggingface_hub 2.4, in-process (client_flows.py
holds them; test_client_versions.py runs the same module under older clients)."""
from __future__ import annotations

import pytest

from .client_flows import Flows, flow_names


@pytest.fixture(scope="module")
def flows(endpoint, user) -> Flows:
    return Flows(endpoint, user.token)


@pytest.mark.parametrize("name", flow_names())
def test_flow(flows: Flows, name: str):
    getattr(flows, name)()
