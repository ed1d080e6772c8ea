"""Hub names as lakeFS ids (pure)."""
from __future__ import annotations

import re

from hypothesis import given
from hypothesis import strategies as st

from services.metadata.lakefs import names

REPO = re.compile(r"^[a-z0-9][a-z0-9-]{2,62}$")
REF = re.compile(r"^\w[-\w]*$", re.ASCII)


def test_plain_names_are_kept():
    assert names.ref_id("refs/heads/main") == "main"
    assert names.ref_id("refs/tags/release_2") == "release_2"
    assert names.ref_id("refs/pr/7") == "pr-7"
    assert names.repository_id("model", "Alice", "My.Model", 12) == "m-alice-my-model-12"


def test_names_lakefs_refuses_are_mapped_apart():
    a, b = names.ref_id("refs/heads/v1.0"), names.ref_id("refs/heads/v1-0")
    assert REF.match(a) and a != b
    assert names.ref_id("refs/heads/pr-1") != names.ref_id("refs/pr/1")


@given(st.text(min_size=1, max_size=300))
def test_every_ref_maps_to_a_valid_lakefs_id(name):
    assert REF.match(names.ref_id(f"refs/heads/{name}"))


@given(st.sampled_from(["model", "dataset", "space"]), st.text(min_size=1, max_size=96),
       st.text(min_size=1, max_size=96), st.integers(min_value=1, max_value=10**12))
def test_every_repository_maps_to_a_valid_lakefs_id(kind, namespace, name, number):
    assert REPO.match(names.repository_id(kind, namespace, name, number))
