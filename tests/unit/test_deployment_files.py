"""The container image and the two-replica deployment: Dockerfile, .dockerignore, deploy/.

The files are checked as text everywhere; where a Docker engine answers, the image is also
built and inspected (and run once), otherwise that test is skipped with the reason.
"""
from __future__ import annotations

import fnmatch
import json
import re
import shlex
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE = ROOT / "deploy" / "compose.yaml"
LOCK = ROOT / "requirements.lock"
TEST_LOCK = ROOT / "requirements-test.lock"
IMAGE = "good-growth:test"


# ---------------------------------------------------------------- Dockerfile parsing

def _instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) in order, with line continuations joined and comments dropped."""
    out: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if pending and line.startswith("#"):
            continue  # comment lines inside a continued instruction are ignored by Docker
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        if full:
            word, _, rest = full.partition(" ")
            out.append((word.upper(), rest.strip()))
    return out


def _stages(instructions: list[tuple[str, str]]) -> list[list[tuple[str, str]]]:
    stages: list[list[tuple[str, str]]] = []
    for ins in instructions:
        if ins[0] == "FROM":
            stages.append([])
        if stages:
            stages[-1].append(ins)
    return stages


def _env(stage: list[tuple[str, str]]) -> dict[str, str]:
    env: dict[str, str] = {}
    for word, args in stage:
        if word == "ENV":
            for token in shlex.split(args):
                key, sep, value = token.partition("=")
                if sep:
                    env[key] = value
    return env


def _exec_form(args: str) -> list[str]:
    value = json.loads(args)
    assert isinstance(value, list) and all(isinstance(v, str) for v in value), args
    return value


def _copy_sources(args: str) -> tuple[list[str], str, dict[str, str]]:
    tokens = shlex.split(args)
    flags = {t[2:].partition("=")[0]: t.partition("=")[2] for t in tokens if t.startswith("--")}
    paths = [t for t in tokens if not t.startswith("--")]
    return paths[:-1], paths[-1], flags


@pytest.fixture(scope="module")
def dockerfile() -> list[list[tuple[str, str]]]:
    assert DOCKERFILE.is_file(), "Dockerfile missing at the repository root"
    stages = _stages(_instructions(DOCKERFILE.read_text(encoding="utf-8")))
    assert stages, "Dockerfile has no FROM"
    return stages


@pytest.fixture(scope="module")
def final(dockerfile) -> list[tuple[str, str]]:
    return dockerfile[-1]


def test_every_stage_is_slim_python_311(dockerfile):
    for stage in dockerfile:
        image = stage[0][1].split()[0]
        assert re.fullmatch(r"python:3\.11(\.\d+)?-slim(-[a-z]+)?(@sha256:[0-9a-f]{64})?", image), image


def test_runs_as_a_non_root_user_set_before_cmd(final):
    words = [w for w, _ in final]
    assert "USER" in words and "CMD" in words
    users = [(i, a) for i, (w, a) in enumerate(final) if w == "USER"]
    last_index, last_user = users[-1]
    assert last_index < words.index("CMD"), "USER must come before CMD"
    name = last_user.split(":")[0]
    assert name not in {"root", "0"}, last_user
    # numeric, so that Kubernetes' runAsNonRoot can check it without reading /etc/passwd
    assert name.isdigit() and int(name) >= 1000, last_user


def test_healthcheck_checks_the_snapshot_and_streamlit_health_with_python(final):
    checks = [a for w, a in final if w == "HEALTHCHECK"]
    assert len(checks) == 1, "one HEALTHCHECK in the final stage"
    command = checks[0].split("CMD", 1)[1].strip()
    argv = _exec_form(command)
    assert argv == ["python", "-m", "data_sources", "health", "--url", "http://127.0.0.1:8501/_stcore/health"], argv
    assert "--timeout" in checks[0]
    assert not re.search(r"\b(curl|wget)\b", checks[0]), "slim images have neither curl nor wget"


def test_public_mode_and_generic_error_messages(final, monkeypatch):
    env = _env(final)
    assert env.get("GOOD_GROWTH_PUBLIC_MODE") == "true"
    assert env.get("STREAMLIT_CLIENT_SHOW_ERROR_DETAILS") == "none"
    assert env.get("GOOD_GROWTH_SNAPSHOT_DIR") == "/app/data"

    from data_sources.settings import Settings
    monkeypatch.setenv("GOOD_GROWTH_PUBLIC_MODE", env["GOOD_GROWTH_PUBLIC_MODE"])
    assert Settings().public_mode is True


def test_streamlit_accepts_the_error_details_setting():
    """The env var name and value are right for the installed Streamlit (a typo is silently ignored)."""
    import os
    env = {**os.environ, "STREAMLIT_CLIENT_SHOW_ERROR_DETAILS": "none"}
    done = subprocess.run([sys.executable, "-m", "streamlit", "config", "show"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert re.search(r'# The value below was set in [^\n]*environment variable\nshowErrorDetails = "none"\n',
                     done.stdout), "STREAMLIT_CLIENT_SHOW_ERROR_DETAILS=none is not picked up as client.showErrorDetails"


def test_snapshot_code_and_config_are_copied_in(dockerfile, final):
    sources = [src for stage in dockerfile for w, a in stage if w == "COPY" for src in _copy_sources(a)[0]]
    normalised = {s.rstrip("/") for s in sources}
    for needed in ("data", "app.py", "app_pages", "data_sources", "indicators", "plans", ".streamlit"):
        assert needed in normalised, f"{needed} is not copied into the image"
    final_copies = [_copy_sources(a) for w, a in final if w == "COPY"]
    # the final stage gets the snapshot either directly or from an earlier stage's copy of it
    assert any("data" in {s.rstrip("/") for s in srcs} or "from" in flags for srcs, _, flags in final_copies)
    workdir = [a for w, a in final if w == "WORKDIR"][-1]
    assert _env(final)["GOOD_GROWTH_SNAPSHOT_DIR"] == workdir.rstrip("/") + "/data"


def test_copied_paths_exist_and_are_not_dockerignored(dockerfile):
    patterns = [p.strip() for p in DOCKERIGNORE.read_text(encoding="utf-8").splitlines()
                if p.strip() and not p.strip().startswith("#")]

    def ignored(rel: str) -> bool:
        result = False
        parts = rel.split("/")
        for pattern in patterns:
            negate = pattern.startswith("!")
            pat = pattern[1:] if negate else pattern
            pat = pat.rstrip("/")
            candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]
            if any(fnmatch.fnmatchcase(c, pat) or (pat.startswith("**/") and fnmatch.fnmatchcase(
                    c.rsplit("/", 1)[-1], pat[3:])) for c in candidates):
                result = not negate
        return result

    for stage in dockerfile:
        for word, args in stage:
            if word != "COPY":
                continue
            srcs, _, flags = _copy_sources(args)
            if "from" in flags:
                continue
            for src in srcs:
                path = ROOT / src
                assert path.exists(), f"COPY {src}: not in the build context"
                assert not ignored(src.rstrip("/")), f"COPY {src}: excluded by .dockerignore"
                if path.is_dir():
                    for child in path.rglob("*"):
                        rel = child.relative_to(ROOT).as_posix()
                        if "__pycache__" in rel or child.suffix == ".pyc":
                            continue
                        assert not ignored(rel), f"{rel} would be left out of the image by .dockerignore"


def test_dockerignore_keeps_local_state_and_secrets_out():
    text = DOCKERIGNORE.read_text(encoding="utf-8")
    for pattern in (".venv", ".git", "__pycache__", "node_modules", ".pytest_cache", "tests/",
                    ".snapshot-*", ".streamlit/secrets.toml"):
        assert pattern in text, f".dockerignore should exclude {pattern}"


def test_cmd_serves_streamlit_headless_on_all_interfaces(final):
    cmds = [a for w, a in final if w == "CMD"]
    assert len(cmds) == 1
    argv = _exec_form(cmds[0])
    # app_pages.server preloads the data, then runs `streamlit run asgi.py` (app.py) with the options given
    assert argv[:3] == ["python", "-m", "app_pages.server"]
    opts = dict(zip(argv[3::2], argv[4::2]))
    assert opts == {"--server.address": "0.0.0.0", "--server.port": "8501", "--server.headless": "true",
                    "--server.enableXsrfProtection": "true"}
    assert any(w == "EXPOSE" and "8501" in a.split() for w, a in final)


def _norm(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _lock(path: Path) -> dict[str, tuple[str, list[str]]]:
    """name -> (version, hashes) from a pip requirements file with --hash options."""
    text = path.read_text(encoding="utf-8").replace("\\\n", " ")
    pins: dict[str, tuple[str, list[str]]] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        spec, *opts = line.split()
        name, sep, version = spec.partition("==")
        assert sep and version, f"{path.name}: {spec!r} is not an exact pin"
        pins[_norm(name)] = (version, [o.removeprefix("--hash=") for o in opts if o.startswith("--hash=sha256:")])
    return pins


def _requirements(extra: str | None = None) -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    specs = project["dependencies"] + (project["optional-dependencies"][extra] if extra else [])
    return [Requirement(s) for s in specs]


@pytest.mark.parametrize("lock, extra", [(LOCK, None), (TEST_LOCK, "test")], ids=["runtime", "test"])
def test_lock_pins_every_dependency_with_hashes(lock, extra):
    """Every dependency pyproject.toml names is pinned, at a version it allows, with sha256 hashes
    (pip --require-hashes refuses anything else), in both lock files."""
    pins = _lock(lock)
    problems = []
    for req in _requirements(extra):
        name = _norm(req.name)
        if name not in pins:
            problems.append(f"{req.name}: not in {lock.name}")
        elif not req.specifier.contains(pins[name][0], prereleases=True):
            problems.append(f"{req.name}: locked {pins[name][0]}, pyproject.toml wants {req.specifier}")
    problems += [f"{name}: no hash" for name, (_, hashes) in pins.items() if not hashes]
    assert not problems, "; ".join(problems)


def test_the_test_lock_extends_the_runtime_lock_with_the_same_versions():
    runtime, test = _lock(LOCK), _lock(TEST_LOCK)
    assert {n: v for n, (v, _) in runtime.items()} == {n: test[n][0] for n in runtime if n in test}
    assert set(runtime) <= set(test)


def test_duckdb_is_not_a_runtime_dependency():
    """Only the DuckDB views (data_sources.store.connect) use it, and the app never calls them."""
    assert "duckdb" not in {_norm(r.name) for r in _requirements()}
    assert "duckdb" not in _lock(LOCK)
    assert "duckdb" in {_norm(r.name) for r in _requirements("test")}


def test_image_and_make_install_from_the_lock(final):
    runs = " ".join(a for w, a in final if w == "RUN")
    assert re.search(r"pip install [^&]*--require-hashes -r \S*requirements\.lock", runs), runs
    make = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(r"install [^\n]*--require-hashes -r requirements\.lock", make)
    assert re.search(r"install [^\n]*--require-hashes -r requirements-test\.lock", make)
    assert re.search(r"install [^\n]*--no-deps -e \.", make)


# ---------------------------------------------------------------- compose and proxy

@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))


def _proxy(compose: dict) -> tuple[str, dict]:
    found = [(name, svc) for name, svc in compose["services"].items()
             if re.match(r"(docker\.io/)?(library/)?(nginx|caddy)", str(svc.get("image", "")))]
    assert len(found) == 1, "exactly one nginx or caddy proxy service"
    return found[0]


def _proxy_config(compose: dict) -> tuple[str, str]:
    name, svc = _proxy(compose)
    mounts = [v.split(":") for v in svc.get("volumes", []) if isinstance(v, str)]
    files = [(COMPOSE.parent / m[0]).resolve() for m in mounts
             if m[0].startswith(".") and (COMPOSE.parent / m[0]).is_file()]
    assert files, f"{name}: no proxy config file from deploy/ is mounted"
    kind = "caddy" if "caddy" in svc["image"] else "nginx"
    return kind, files[0].read_text(encoding="utf-8")


def test_two_app_replicas_built_from_the_dockerfile(compose):
    apps = {n: s for n, s in compose["services"].items() if "build" in s}
    assert set(apps) >= {"app1", "app2"}, sorted(compose["services"])
    for name, svc in apps.items():
        build = svc["build"]
        context = (COMPOSE.parent / (build["context"] if isinstance(build, dict) else build)).resolve()
        dockerfile = build.get("dockerfile", "Dockerfile") if isinstance(build, dict) else "Dockerfile"
        assert (context / dockerfile).resolve() == DOCKERFILE, name
        assert str(svc["environment"]["GOOD_GROWTH_PUBLIC_MODE"]).lower() == "true", name
        assert svc.get("read_only") is True, f"{name}: root filesystem should be read-only"
        assert "/tmp" in svc.get("tmpfs", []), name
        assert "/_stcore/health" in " ".join(svc["healthcheck"]["test"]), name
        assert "ports" not in svc, f"{name}: replicas are reached through the proxy only"


def test_proxy_listens_on_8080_in_front_of_both_replicas(compose):
    name, svc = _proxy(compose)
    assert any(str(p).split(":")[-2:] == ["8080", "8080"] or str(p) == "8080:8080" for p in svc["ports"]), svc["ports"]
    deps = svc.get("depends_on", [])
    assert {"app1", "app2"} <= set(deps if isinstance(deps, list) else deps.keys())
    kind, config = _proxy_config(compose)
    assert "app1:8501" in config and "app2:8501" in config
    assert re.search(r"^\s*(listen\s+8080\b|:8080\s*\{)", config, re.M), "proxy should listen on 8080"


def test_proxy_keeps_sessions_sticky(compose):
    kind, config = _proxy_config(compose)
    code = "\n".join(line.split("#", 1)[0] for line in config.splitlines())
    assert re.search(r"\bip_hash\s*;|\bhash\s+\S+|\blb_policy\s+(cookie|ip_hash|client_ip_hash)\b", code), \
        "Streamlit sessions need sticky load balancing"


def test_proxy_passes_websocket_upgrades(compose):
    kind, config = _proxy_config(compose)
    code = "\n".join(line.split("#", 1)[0] for line in config.splitlines())
    if kind == "nginx":
        assert re.search(r"proxy_http_version\s+1\.1\s*;", code)
        assert re.search(r"proxy_set_header\s+Upgrade\s+\$http_upgrade\s*;", code)
        assert re.search(r"proxy_set_header\s+Connection\s+\S*upgrade\S*\s*;", code, re.I)
        # Streamlit's websocket origin check needs the port too: $host drops it, $http_host keeps it
        assert not re.search(r"proxy_set_header\s+Host\s+\$host\s*;", code)
    else:
        # Caddy proxies upgrades by itself; nothing may strip the headers or force HTTP/2 upstream
        assert not re.search(r"header_up\s+-(Upgrade|Connection)\b", code, re.I)
        assert not re.search(r"versions\s+h2c?\b", code)
        assert not re.search(r"header_up\s+Host\b", code), "Streamlit compares Origin with the original Host"


def test_proxy_health_checks_the_replicas(compose):
    kind, config = _proxy_config(compose)
    if kind == "caddy":
        assert re.search(r"^\s*health_uri\s+/_stcore/health\b", config, re.M)
    else:  # nginx OSS checks passively; readiness then comes from the compose health checks
        assert "max_fails" in config
        deps = _proxy(compose)[1]["depends_on"]
        assert isinstance(deps, dict) and all(d.get("condition") == "service_healthy" for d in deps.values())


def test_caddyfile_is_valid_for_caddy(compose):
    kind, _ = _proxy_config(compose)
    caddy = shutil.which("caddy")
    if kind != "caddy" or caddy is None:
        pytest.skip("caddy binary not installed" if kind == "caddy" else "proxy is not Caddy")
    done = subprocess.run([caddy, "validate", "--adapter", "caddyfile", "--config", str(COMPOSE.parent / "Caddyfile")],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr[-2000:]


# ---------------------------------------------------------------- the image itself

@pytest.fixture(scope="module")
def docker() -> str:
    exe = shutil.which("docker")
    if exe is None:
        pytest.skip("docker engine not available: no docker CLI on PATH")
    try:
        info = subprocess.run([exe, "info", "--format", "{{.ServerVersion}}"], capture_output=True, text=True,
                              timeout=30)
    except subprocess.TimeoutExpired:
        pytest.skip("docker engine not available: `docker info` timed out")
    if info.returncode != 0:
        reason = (info.stderr.strip().splitlines() or ["`docker info` failed"])[-1]
        pytest.skip(f"docker engine not available: {reason}")
    return exe


@pytest.fixture(scope="module")
def image(docker: str) -> dict:
    done = subprocess.run([docker, "build", "-t", IMAGE, "."], cwd=ROOT, capture_output=True, text=True,
                          timeout=1800)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
    inspect = subprocess.run([docker, "inspect", IMAGE], capture_output=True, text=True, timeout=60)
    assert inspect.returncode == 0, inspect.stderr
    return json.loads(inspect.stdout)[0]["Config"]


def test_built_image_user_healthcheck_and_env(image):
    assert image["User"].split(":")[0] not in {"", "root", "0"}, image["User"]
    assert "/_stcore/health" in " ".join(image["Healthcheck"]["Test"])
    env = dict(e.split("=", 1) for e in image["Env"])
    assert env["GOOD_GROWTH_PUBLIC_MODE"] == "true"
    assert env["STREAMLIT_CLIENT_SHOW_ERROR_DETAILS"] == "none"
    assert "8501/tcp" in image["ExposedPorts"]


def test_built_image_runs_read_only_verifies_and_refuses_refresh(docker, image):
    run = [docker, "run", "--rm", "--read-only", "--tmpfs", "/tmp", "--network", "none", IMAGE]
    whoami = subprocess.run([*run, "python", "-c", "import os; print(os.getuid())"], capture_output=True,
                            text=True, timeout=120)
    assert whoami.returncode == 0 and whoami.stdout.strip() == "10001", whoami.stderr
    verify = subprocess.run([*run, "python", "-m", "data_sources", "verify"], capture_output=True, text=True,
                            timeout=120)
    assert verify.returncode == 0, verify.stderr
    refresh = subprocess.run([*run, "python", "-m", "data_sources", "refresh"], capture_output=True, text=True,
                             timeout=120)
    assert refresh.returncode == 2 and "public mode" in refresh.stderr, (refresh.returncode, refresh.stderr)


# ---------------------------------------------------------------- public exposure at the proxy

CADDYFILE = ROOT / "deploy" / "Caddyfile"


def _caddy_code() -> str:
    return "\n".join(line.split("#", 1)[0].rstrip() for line in CADDYFILE.read_text(encoding="utf-8").splitlines())


def _csp() -> dict[str, list[str]]:
    m = re.search(r'Content-Security-Policy\s+"([^"]+)"', _caddy_code())
    assert m, "the proxy sets no Content-Security-Policy"
    return {d.split()[0]: d.split()[1:] for d in (p.strip() for p in m.group(1).split(";")) if d}


def test_proxy_hides_streamlit_metrics():
    code = _caddy_code()
    m = re.search(r"^\s*@(\w+)\s+path\s+([^\n]+)$", code, re.M)
    assert m and "/_stcore/metrics" in m.group(2).split(), "no matcher for /_stcore/metrics"
    assert re.search(rf"^\s*(respond\s+@{m.group(1)}\s+(403|404)|error\s+@{m.group(1)}\s+(403|404))\b", code, re.M)


def test_proxy_sets_security_headers():
    code = _caddy_code()
    assert re.search(r'X-Content-Type-Options\s+"?nosniff"?', code)
    assert re.search(r'Referrer-Policy\s+"?(no-referrer|same-origin|strict-origin|strict-origin-when-cross-origin)"?',
                     code)
    assert re.search(r'X-Frame-Options\s+"?DENY"?', code)
    csp = _csp()
    assert csp["frame-ancestors"] == ["'none'"]
    assert csp["default-src"] == ["'self'"] and csp["object-src"] == ["'none'"]
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    sources = [src for d in csp.values() for src in d]
    assert all(src.startswith("'") or src in ("data:", "blob:") for src in sources), "no other origin is allowed"
    # the headers are imported into the site and into its error pages
    assert len(re.findall(r"^\s*import\s+security_headers\s*$", code, re.M)) == 2


def test_csp_allows_exactly_streamlits_inline_script():
    """Streamlit's index.html has one inline script; the CSP allows it by hash, so a Streamlit upgrade
    that changes it must update the Caddyfile (else the browser logs a CSP violation on every page)."""
    import base64
    import hashlib

    import streamlit
    index = (Path(streamlit.__file__).parent / "static" / "index.html").read_text(encoding="utf-8")
    inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>(.*?)</script>", index, re.S)
    hashes = {"'sha256-" + base64.b64encode(hashlib.sha256(s.encode()).digest()).decode() + "'" for s in inline}
    allowed = {s for s in _csp()["script-src"] if s.startswith("'sha256-")}
    assert allowed == hashes, f"Caddyfile allows {sorted(allowed)}; Streamlit's inline scripts hash to {sorted(hashes)}"


def _free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def caddy_in_front():
    """The real Caddyfile, with its upstreams pointed at a trivial local server, run by caddy on 127.0.0.1."""
    import http.server
    import threading
    import time
    import urllib.error
    import urllib.request

    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.skip("caddy not installed (Debian: apt-get install caddy; tests/support/setup_browser.sh does it)")

    class Upstream(http.server.BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 - http.server's name
            body = b"metrics-secret" if "metrics" in self.path else b"ok"
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    upstream = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Upstream)
    threading.Thread(target=upstream.serve_forever, daemon=True).start()
    port = _free_port()
    config = CADDYFILE.read_text(encoding="utf-8")
    config = re.sub(r"app1:8501 app2:8501", f"127.0.0.1:{upstream.server_address[1]}", config)
    config = re.sub(r"^:8080 \{", f"http://127.0.0.1:{port} {{", config, flags=re.M)
    config = re.sub(r"health_interval \S+", "health_interval 1s", config)
    config = re.sub(r"lb_try_duration \S+", "lb_try_duration 1s", config)
    import tempfile
    folder = Path(tempfile.mkdtemp(prefix="caddy-test-"))
    (folder / "Caddyfile").write_text(config, encoding="utf-8")
    env = {"HOME": str(folder), "XDG_DATA_HOME": str(folder), "XDG_CONFIG_HOME": str(folder), "PATH": "/usr/bin:/bin"}
    proc = subprocess.Popen([caddy, "run", "--adapter", "caddyfile", "--config", str(folder / "Caddyfile")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    base = f"http://127.0.0.1:{port}"

    def get(path: str) -> tuple[int, dict[str, str], bytes]:
        try:
            with urllib.request.urlopen(base + path, timeout=10) as r:
                return r.status, dict(r.headers), r.read()
        except urllib.error.HTTPError as e:
            return e.code, dict(e.headers), e.read()

    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                if get("/")[0] == 200:
                    break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("caddy did not serve the page: " + proc.stderr.read().decode()[-2000:])
            time.sleep(0.2)
        yield get, upstream
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        upstream.shutdown()
        shutil.rmtree(folder, ignore_errors=True)


SECURITY_HEADERS = ("Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy", "X-Frame-Options")


def test_real_caddy_adds_headers_and_hides_metrics(caddy_in_front):
    get, _ = caddy_in_front
    status, headers, body = get("/")
    assert status == 200 and body == b"ok"
    for name in SECURITY_HEADERS:
        assert name in headers, f"{name} missing from a proxied page"
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert "Server" not in headers
    for path in ("/_stcore/metrics", "/_stcore/metrics/", "/_stcore/metrics?x=1"):
        status, headers, body = get(path)
        assert status in (403, 404) and b"metrics-secret" not in body, path
        assert "Content-Security-Policy" in headers


def test_real_caddy_keeps_the_document_policy_off_static_assets(caddy_in_front):
    """Scripts, styles and fonts get nosniff and the referrer policy, but not the ~0.7 kB document
    policy browsers ignore on them; every page path, download and component frame keeps it."""
    get, _ = caddy_in_front
    _, headers, _ = get("/static/js/index.abc123.js")
    assert headers["X-Content-Type-Options"] == "nosniff" and "Referrer-Policy" in headers
    assert "Content-Security-Policy" not in headers and "X-Frame-Options" not in headers
    for path in ("/", "/profile?place=E08000035", "/media/report.html", "/component/x/index.html", "/staticx"):
        _, headers, _ = get(path)
        for name in SECURITY_HEADERS:
            assert name in headers, (path, name)


def test_real_caddy_error_pages_carry_the_headers_too(caddy_in_front):
    import time
    get, upstream = caddy_in_front
    upstream.shutdown()
    upstream.server_close()
    deadline = time.monotonic() + 20
    status, headers = 200, {}
    while status == 200 and time.monotonic() < deadline:
        status, headers, _ = get("/")
        time.sleep(0.3)
    assert status >= 500
    for name in SECURITY_HEADERS:
        assert name in headers, f"{name} missing from the proxy's own error page"


def test_console_scripts_point_at_real_entry_points():
    """`good-growth` and `good-growth-data` (the README's commands) resolve to the CLIs' main()."""
    import importlib
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["scripts"]
    assert set(scripts) == {"good-growth", "good-growth-data"}
    for name, target in scripts.items():
        module, _, attr = target.partition(":")
        assert callable(getattr(importlib.import_module(module), attr)), name


def test_make_run_turns_the_file_watcher_off():
    """Watching a checkout that holds .venv exhausts inotify watches on Linux (an error at start-up)."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["server"]["fileWatcherType"] in ("none", "poll")


def test_no_full_garbage_collection_after_every_page_view():
    """Streamlit's post-run gc.collect(2) walks every object the server holds on each page view."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    assert config["runner"]["postScriptGC"] is False


def test_editable_install_is_a_plain_path_entry():
    """package-dir = {"" = "."} makes setuptools' editable install a .pth entry for the checkout,
    instead of an import hook that prints a warning box on every first `make run`."""
    tool = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["tool"]["setuptools"]
    assert tool["package-dir"] == {"": "."}
