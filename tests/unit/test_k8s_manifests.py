"""The Kubernetes manifests in deploy/k8s/: valid against the API schemas, and saying what hosting needs.

Schema validation is offline: `kubernetes-validate` ships the OpenAPI schemas of every Kubernetes
release, and `strict` refuses fields the API does not know (a typo there is silently dropped by
`kubectl apply`). The structural checks pin what the schemas cannot: the probes run the snapshot
health check, the pod runs unprivileged in public mode, the ingress pins sessions to a pod and keeps
the websocket open, and the headers match the Caddy configuration.
"""
from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

kubernetes_validate = pytest.importorskip("kubernetes_validate")

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
CADDYFILE = ROOT / "deploy" / "Caddyfile"
DOCKERFILE = ROOT / "Dockerfile"
KUBERNETES_VERSION = "1.30"  # oldest release still in wide support; the manifests use only GA APIs
HEALTH_COMMAND = ["python", "-m", "data_sources", "health", "--url", "http://127.0.0.1:8501/_stcore/health"]


def _kustomization() -> dict:
    return yaml.safe_load((K8S / "kustomization.yaml").read_text())


def _documents() -> list[tuple[str, dict]]:
    docs = []
    for name in _kustomization()["resources"]:
        for doc in yaml.safe_load_all((K8S / name).read_text()):
            if doc:
                docs.append((name, doc))
    return docs


def _one(kind: str, name: str | None = None) -> dict:
    found = [d for _, d in _documents() if d["kind"] == kind and (name is None or d["metadata"]["name"] == name)]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def _container() -> dict:
    (container,) = _one("Deployment")["spec"]["template"]["spec"]["containers"]
    return container


def _quantity(q: str | int) -> float:
    """CPU in cores or memory in bytes, from a Kubernetes quantity ('500m', '2', '640Mi', '1Gi')."""
    q = str(q)
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 1e3, "M": 1e6, "G": 1e9}
    for suffix, factor in sorted(units.items(), key=lambda kv: -len(kv[0])):
        if q.endswith(suffix):
            return float(q[: -len(suffix)]) * factor
    return float(q)


# ---------------------------------------------------------------- the files as a whole

def test_the_kustomization_lists_every_manifest_in_the_folder():
    listed = set(_kustomization()["resources"])
    present = {p.name for p in K8S.glob("*.yaml")} - {"kustomization.yaml"}
    assert listed == present


@pytest.mark.parametrize("name,doc", _documents(), ids=lambda v: v if isinstance(v, str) else v["kind"])
def test_every_manifest_validates_against_the_kubernetes_schema(name, doc):
    kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_the_validator_catches_a_misspelt_field():
    """The schema check is live, not vacuous: a field the API does not know is refused."""
    doc = _one("Deployment")
    broken = yaml.safe_load(yaml.safe_dump(doc))
    broken["spec"]["template"]["spec"]["containers"][0]["resource"] = broken["spec"]["template"]["spec"][
        "containers"][0].pop("resources")
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(broken, KUBERNETES_VERSION, strict=True)


def test_the_service_hpa_and_pdb_point_at_the_deployments_pods():
    deployment = _one("Deployment")
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert deployment["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert _one("Service")["spec"]["selector"].items() <= pod_labels.items()
    assert _one("PodDisruptionBudget")["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    target = _one("HorizontalPodAutoscaler")["spec"]["scaleTargetRef"]
    assert (target["kind"], target["name"]) == ("Deployment", deployment["metadata"]["name"])


# ---------------------------------------------------------------- the pod

def test_the_pod_runs_the_public_read_only_app_unprivileged():
    spec = _one("Deployment")["spec"]["template"]["spec"]
    container = _container()
    env = {e["name"]: e for e in container["env"]}
    assert env["GOOD_GROWTH_PUBLIC_MODE"]["value"] == "true"
    assert env["STREAMLIT_CLIENT_SHOW_ERROR_DETAILS"]["value"] == "none"
    assert spec["securityContext"]["runAsNonRoot"] is True
    uid = re.search(r"^USER (\d+)", DOCKERFILE.read_text(), re.M).group(1)
    assert spec["securityContext"]["runAsUser"] == int(uid)
    assert container["securityContext"]["readOnlyRootFilesystem"] is True
    assert container["securityContext"]["allowPrivilegeEscalation"] is False
    assert container["securityContext"]["capabilities"]["drop"] == ["ALL"]
    assert spec["automountServiceAccountToken"] is False
    mounts = {m["mountPath"] for m in container["volumeMounts"]}
    assert {"/tmp", "/home/goodgrowth"} <= mounts


def test_the_port_matches_the_image():
    exposed = re.search(r"^EXPOSE (\d+)", DOCKERFILE.read_text(), re.M).group(1)
    assert _container()["ports"][0]["containerPort"] == int(exposed)


def test_readiness_and_liveness_check_the_snapshot_as_the_image_does():
    """The same command as the Dockerfile's HEALTHCHECK: Streamlit answers AND the snapshot is intact."""
    container = _container()
    assert f'CMD {str(HEALTH_COMMAND).replace(chr(39), chr(34))}' in DOCKERFILE.read_text()
    for probe in ("readinessProbe", "livenessProbe"):
        assert container[probe]["exec"]["command"] == HEALTH_COMMAND, probe
        # the check takes about half a second; a timeout under that would fail healthy pods
        assert container[probe]["timeoutSeconds"] >= 5
    startup = container["startupProbe"]
    assert startup["httpGet"]["path"] == "/_stcore/health"
    assert startup["periodSeconds"] * startup["failureThreshold"] >= 60


def test_resources_follow_the_bench_figures():
    """≤ 500 MB with ten sessions and ~0.4 CPU-s a view (bench/browser.py, bench/load.py)."""
    res = _container()["resources"]
    assert _quantity(res["requests"]["memory"]) >= 500 * 2**20
    assert _quantity(res["limits"]["memory"]) >= _quantity(res["requests"]["memory"])
    assert _quantity(res["limits"]["memory"]) <= 2 * 2**30
    assert 0.25 <= _quantity(res["requests"]["cpu"]) <= _quantity(res["limits"]["cpu"])


def test_the_database_url_comes_from_a_secret_and_is_optional():
    env = {e["name"]: e for e in _container()["env"]}
    ref = env["GOOD_GROWTH_DATABASE_URL"]["valueFrom"]["secretKeyRef"]
    assert "value" not in env["GOOD_GROWTH_DATABASE_URL"]
    assert ref["optional"] is True  # the read-only dashboard starts without the store


# ---------------------------------------------------------------- scaling and the ingress

def test_the_autoscaler_scales_on_cpu_with_at_least_two_replicas():
    hpa = _one("HorizontalPodAutoscaler")["spec"]
    assert hpa["minReplicas"] >= 2 and hpa["maxReplicas"] > hpa["minReplicas"]
    (metric,) = hpa["metrics"]
    assert metric["resource"]["name"] == "cpu"
    assert 0 < metric["resource"]["target"]["averageUtilization"] <= 90
    assert "replicas" not in _one("Deployment")["spec"]  # the HPA owns the count


def test_the_ingress_pins_a_session_to_its_pod_and_keeps_the_websocket_open():
    ingress = _one("Ingress", "good-growth")
    a = ingress["metadata"]["annotations"]
    assert a["nginx.ingress.kubernetes.io/affinity"] == "cookie"
    assert a["nginx.ingress.kubernetes.io/affinity-mode"] == "persistent"
    assert a["nginx.ingress.kubernetes.io/session-cookie-name"]
    for timeout in ("proxy-read-timeout", "proxy-send-timeout"):
        assert int(a[f"nginx.ingress.kubernetes.io/{timeout}"]) >= 3600, timeout
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    service = _one("Service")
    assert backend["name"] == service["metadata"]["name"]
    assert backend["port"]["name"] in {p["name"] for p in service["spec"]["ports"]}


def test_streamlit_metrics_are_not_public():
    closed = _one("Ingress", "good-growth-metrics-closed")
    assert closed["spec"]["rules"][0]["http"]["paths"][0]["path"] == "/_stcore/metrics"
    ranges = closed["metadata"]["annotations"]["nginx.ingress.kubernetes.io/denylist-source-range"].split(",")
    assert {"0.0.0.0/0", "::/0"} <= set(ranges)
    assert closed["spec"]["rules"][0]["host"] == _one("Ingress", "good-growth")["spec"]["rules"][0]["host"]


def test_security_headers_match_the_caddy_configuration():
    headers = _one("ConfigMap", "good-growth-security-headers")
    caddy = dict(re.findall(r'^\s*([A-Z][A-Za-z-]+) "([^"]*)"$', CADDYFILE.read_text(), re.M))
    assert caddy, "no headers found in the Caddyfile"
    assert headers["data"] == caddy
    ref = _one("Ingress", "good-growth")["metadata"]["annotations"]["nginx.ingress.kubernetes.io/custom-headers"]
    assert ref == f"{_kustomization()['namespace']}/{headers['metadata']['name']}"


def test_static_assets_get_the_caddy_asset_headers_only():
    """As in the Caddyfile: /static gets nosniff and the referrer policy, not the document policy."""
    assets = _one("ConfigMap", "good-growth-asset-headers")
    snippet = re.search(r"^\(security_headers\) \{(.*?)^\}", CADDYFILE.read_text(), re.M | re.S).group(1)
    assert assets["data"] == dict(re.findall(r'^\s*([A-Z][A-Za-z-]+) "([^"]*)"$', snippet, re.M))
    static = _one("Ingress", "good-growth-static")
    (path,) = static["spec"]["rules"][0]["http"]["paths"]
    assert path["path"] == "/static" and path["pathType"] == "Prefix"
    assert path["backend"] == _one("Ingress", "good-growth")["spec"]["rules"][0]["http"]["paths"][0]["backend"]
    ref = static["metadata"]["annotations"]["nginx.ingress.kubernetes.io/custom-headers"]
    assert ref == f"{_kustomization()['namespace']}/good-growth-asset-headers"
    assert static["spec"]["rules"][0]["host"] == _one("Ingress", "good-growth")["spec"]["rules"][0]["host"]
