"""The example clients a host team would copy (examples/clients/), run against the live server."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from live_server import ROOT, LiveServer, live_server

from nocert_rules import Engine

TOKEN = "client-example-token-0123456789"
REQUEST = ROOT / "examples" / "requests" / "pledge.json"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("clients")
    (tmp / "token").write_text(TOKEN, encoding="utf-8")
    with live_server(ROOT / "rulesets" / "zibo", tmp, "--token-file", str(tmp / "token")) as srv:
        yield srv


def in_process(engine: Engine) -> dict[str, object]:
    return json.loads(engine.decide(json.loads(REQUEST.read_text(encoding="utf-8"))).model_dump_json())


def test_curl_script_gets_the_decision(server: LiveServer, zibo_engine: Engine) -> None:
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    env = {**os.environ, "NOCERT_URL": server.base_url, "NOCERT_TOKEN": TOKEN}
    done = subprocess.run(["sh", str(ROOT / "examples" / "clients" / "decide.sh"), str(REQUEST)],
                          capture_output=True, text=True, env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == in_process(zibo_engine)
    env["NOCERT_TOKEN"] = "wrong-token"
    refused = subprocess.run(["sh", str(ROOT / "examples" / "clients" / "decide.sh"), str(REQUEST)],
                             capture_output=True, text=True, env=env, timeout=60)
    assert refused.returncode != 0 and json.loads(refused.stdout)["status"] == 401


def test_java_client_gets_the_decision(server: LiveServer, zibo_engine: Engine, tmp_path: Path) -> None:
    javac, java = shutil.which("javac"), shutil.which("java")
    if javac is None or java is None:
        reason = "java/javac not found on PATH: the Java 17 client example (examples/clients/NocertClient.java) is not run"
        print(reason)
        pytest.skip(reason)
    out = tmp_path / "classes"
    compiled = subprocess.run([javac, "--release", "17", "-d", str(out),
                               str(ROOT / "examples" / "clients" / "NocertClient.java")],
                              capture_output=True, text=True, timeout=300)
    assert compiled.returncode == 0, compiled.stderr
    env = {**os.environ, "NOCERT_TOKEN": TOKEN}
    done = subprocess.run([java, "-cp", str(out), "NocertClient", server.base_url, str(REQUEST)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    want = in_process(zibo_engine)
    assert json.loads(done.stdout) == want
    assert f"method {want['method']}" in done.stderr and zibo_engine.ruleset.version in done.stderr
    env["NOCERT_TOKEN"] = ""
    refused = subprocess.run([java, "-cp", str(out), "NocertClient", server.base_url, str(REQUEST)],
                             capture_output=True, text=True, env=env, timeout=300)
    assert refused.returncode == 1 and "HTTP 401" in refused.stderr
