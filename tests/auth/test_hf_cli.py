"""`hf auth login --token` and `hf auth whoami` against the hub, with the real CLI (issue 5)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HF = str(Path(sys.executable).with_name("hf"))


def hf(*args, home: Path, endpoint: str):
    env = {**os.environ, "HF_ENDPOINT": endpoint, "HF_HOME": str(home), "HOME": str(home)}
    env.pop("HF_TOKEN", None)
    return subprocess.run([HF, *args], env=env, capture_output=True, text=True, timeout=120)


def test_hf_auth_login_with_token_then_whoami(make_user, make_org, endpoint, tmp_path):
    person = make_user()
    org = make_org(person)
    login = hf("auth", "login", "--token", person.token, home=tmp_path, endpoint=endpoint)
    assert login.returncode == 0, login.stdout + login.stderr
    # The token is saved under its displayName from whoami-v2.
    assert "test-write" in (tmp_path / "stored_tokens").read_text()
    assert (tmp_path / "token").read_text().strip() == person.token
    who = hf("auth", "whoami", "--format", "json", home=tmp_path, endpoint=endpoint)
    assert who.returncode == 0, who.stderr
    assert person.name in who.stdout and org.name in who.stdout


def test_hf_auth_login_refuses_a_bad_token(endpoint, tmp_path):
    login = hf("auth", "login", "--token", "hf_notavalidtokennotavalidtoken0000", home=tmp_path, endpoint=endpoint)
    assert login.returncode != 0
    assert not (tmp_path / "token").exists()
