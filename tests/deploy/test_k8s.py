"""k8s/: every overlay renders, every object is valid for the Kubernetes
version EKS runs, and the objects fit together (selectors, references, probes,
security, routing of every service's URLs through the Ingress)."""

from __future__ import annotations

import json
import re
import shutil
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
from cfnlint.decode import cfn_yaml

from onsale.config.urls import SERVICE_URLCONFS
from tests.deploy.conftest import OVERLAYS, REPO, kustomize, run, tool
from tests.deploy.routes import service_routes

# The Kubernetes version the manifests are validated against: the EKS version
# cloudformation/eks.yaml creates (a test below keeps the two equal).
KUBERNETES_VERSION = "1.31"
WEB_SERVICES = (
    "usermgmt",
    "waitingroom",
    "seatselection",
    "seatstream",
    "checkout",
    "orders",
)
Manifest = dict[str, Any]


def objects(docs: list[Manifest], kind: str) -> dict[str, Manifest]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def pod_specs(docs: list[Manifest]) -> Iterator[tuple[str, Manifest]]:
    for doc in docs:
        if doc["kind"] in ("Deployment", "Job"):
            yield (
                f"{doc['kind']}/{doc['metadata']['name']}",
                doc["spec"]["template"]["spec"],
            )


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


# --- schema ---------------------------------------------------------------------


def test_kubernetes_version_matches_the_eks_cluster():
    template = cfn_yaml.load(str(REPO / "cloudformation" / "eks.yaml"))
    assert template["Parameters"]["KubernetesVersion"]["Default"] == KUBERNETES_VERSION


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_rendered_object_is_valid_for_the_cluster_version(rendered, overlay):
    docs = rendered[overlay]
    assert docs, "the overlay rendered nothing"
    for doc in docs:
        name = f"{doc['kind']}/{doc['metadata']['name']}"
        try:
            # strict: unknown fields are errors too (a typo is not ignored).
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
        except kubernetes_validate.ValidationError as exc:
            path = ".".join(str(part) for part in exc.path)
            pytest.fail(f"{overlay} {name}: {path}: {exc.message}")


def test_the_validator_rejects_a_broken_object():
    # The control: the same call fails on a misspelt field and a wrong type.
    deployment = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "broken"},
        "spec": {
            "replica": 2,
            "selector": {"matchLabels": {"a": "b"}},
            "template": {
                "metadata": {"labels": {"a": "b"}},
                "spec": {"containers": [{"name": "app", "image": "x"}]},
            },
        },
    }
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)
    deployment["spec"].pop("replica")
    deployment["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_the_overlay_holds_the_whole_platform(rendered, overlay):
    docs = rendered[overlay]
    deployments = objects(docs, "Deployment")
    assert sorted(deployments) == sorted([*WEB_SERVICES, "worker", "beat"])
    assert sorted(objects(docs, "Service")) == sorted(WEB_SERVICES)
    assert sorted(objects(docs, "HorizontalPodAutoscaler")) == sorted(
        [*WEB_SERVICES, "worker"]
    )
    assert sorted(objects(docs, "PodDisruptionBudget")) == sorted(
        [*WEB_SERVICES, "worker"]
    )
    assert list(objects(docs, "Job")) == ["migrate"]
    assert list(objects(docs, "Ingress")) == ["onsale"]
    assert len(objects(docs, "Namespace")) == 1
    assert sorted(objects(docs, "NetworkPolicy")) == [
        "default-deny",
        "onsale-egress",
        "web-from-load-balancer",
    ]
    # No secret is ever rendered from the repository; pods only refer to one.
    assert objects(docs, "Secret") == {}
    # The stack-outputs ConfigMap feeds the replacements and is not applied.
    assert list(objects(docs, "ConfigMap")) == [
        name for name in objects(docs, "ConfigMap") if name.startswith("onsale-config-")
    ]
    namespaces = {
        doc["metadata"].get("namespace") for doc in docs if doc["kind"] != "Namespace"
    }
    assert namespaces == {next(iter(objects(docs, "Namespace")))}


def test_the_service_list_matches_the_code():
    # Every service the code can be split into has its own Deployment.
    assert sorted(SERVICE_URLCONFS) == sorted(WEB_SERVICES)


# --- how the pieces fit -----------------------------------------------------------


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_selectors_match_exactly_their_own_pods(rendered, overlay):
    docs = rendered[overlay]
    templates = {
        name: doc["spec"]["template"]["metadata"]["labels"]
        for name, doc in objects(docs, "Deployment").items()
    }
    for name, deployment in objects(docs, "Deployment").items():
        assert selects(deployment["spec"]["selector"]["matchLabels"], templates[name])
        others = [
            n
            for n, labels in templates.items()
            if n != name
            and selects(deployment["spec"]["selector"]["matchLabels"], labels)
        ]
        assert others == [], f"Deployment {name} also selects {others}"
        for constraint in deployment["spec"]["template"]["spec"].get(
            "topologySpreadConstraints", []
        ):
            assert (
                constraint["labelSelector"]["matchLabels"]
                == deployment["spec"]["selector"]["matchLabels"]
            )
    for kind in ("Service", "PodDisruptionBudget"):
        for name, doc in objects(docs, kind).items():
            selector = doc["spec"]["selector"]
            selector = selector.get("matchLabels", selector)
            matched = [
                n for n, labels in templates.items() if selects(selector, labels)
            ]
            assert matched == [name], f"{kind} {name} selects {matched}"
    for name, hpa in objects(docs, "HorizontalPodAutoscaler").items():
        target = hpa["spec"]["scaleTargetRef"]
        assert (target["kind"], target["name"]) == ("Deployment", name)
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]
        # The HPA owns the count: a replicas field would reset it on apply.
        assert "replicas" not in objects(docs, "Deployment")[name]["spec"]


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_web_services_listen_and_are_probed(rendered, overlay):
    docs = rendered[overlay]
    services = objects(docs, "Service")
    for name in WEB_SERVICES:
        deployment = objects(docs, "Deployment")[name]
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        env = {item["name"]: item.get("value") for item in container["env"]}
        assert env["ONSALE_SERVICE"] == name
        assert container["args"] == ["web"]
        assert {"name": "http", "containerPort": 8000, "protocol": "TCP"} in container[
            "ports"
        ]
        assert container["startupProbe"]["httpGet"]["path"] == "/healthz"
        assert container["livenessProbe"]["httpGet"]["path"] == "/healthz"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        # The startup probe gives the process time before liveness counts.
        startup = container["startupProbe"]
        assert startup["periodSeconds"] * startup["failureThreshold"] >= 30
        assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
        (port,) = services[name]["spec"]["ports"]
        assert port["targetPort"] == "http"
        # Graceful stop: the preStop pause plus gunicorn's drain fit the grace period.
        grace = deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"]
        assert container["lifecycle"]["preStop"]["sleep"]["seconds"] + 25 < grace


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_only_the_seat_stream_service_runs_asgi(rendered, overlay):
    """The seat stream's pods run the ASGI application (open streams cost no
    thread there); every other web service stays on gunicorn's threads."""
    for name in WEB_SERVICES:
        deployment = objects(rendered[overlay], "Deployment")[name]
        (container,) = deployment["spec"]["template"]["spec"]["containers"]
        env = {item["name"]: item.get("value") for item in container["env"]}
        assert (env.get("WEB_ASGI") == "true") == (name == "seatstream"), name
    ingress = objects(rendered[overlay], "Ingress")["onsale"]
    assert ingress_backend(ingress, "/api/v1/events/7/seats/stream") == "seatstream"
    assert ingress_backend(ingress, "/api/v1/events/7/seats") == "seatselection"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_beat_is_a_single_recreated_pod(rendered, overlay):
    beat = objects(rendered[overlay], "Deployment")["beat"]
    assert beat["spec"]["replicas"] == 1
    assert beat["spec"]["strategy"] == {"type": "Recreate"}
    assert "beat" not in objects(rendered[overlay], "HorizontalPodAutoscaler")
    assert beat["spec"]["template"]["spec"]["containers"][0]["args"] == ["beat"]
    job = objects(rendered[overlay], "Job")["migrate"]
    assert job["spec"]["template"]["spec"]["containers"][0]["args"] == ["migrate"]
    assert job["spec"]["template"]["spec"]["restartPolicy"] == "Never"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_pod_is_locked_down_and_sized(rendered, overlay):
    for name, spec in pod_specs(rendered[overlay]):
        pod = spec["securityContext"]
        assert pod["runAsNonRoot"] is True and pod["runAsUser"] == 10001, name
        assert pod["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, name
        assert spec["serviceAccountName"] == "onsale", name
        for container in spec["containers"]:
            context = container["securityContext"]
            assert context["allowPrivilegeEscalation"] is False, name
            assert context["readOnlyRootFilesystem"] is True, name
            assert context["capabilities"] == {"drop": ["ALL"]}, name
            resources = container["resources"]
            assert set(resources["requests"]) == {"cpu", "memory"}, name
            assert set(resources["limits"]) == {"cpu", "memory"}, name
            # A read-only root needs somewhere to write: /tmp is an emptyDir.
            mounts = {
                mount["mountPath"]: mount["name"] for mount in container["volumeMounts"]
            }
            volumes = {volume["name"]: volume for volume in spec["volumes"]}
            assert "emptyDir" in volumes[mounts["/tmp"]], name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_web_pods_spread_over_zones(rendered, overlay):
    for name in WEB_SERVICES:
        spec = objects(rendered[overlay], "Deployment")[name]["spec"]["template"][
            "spec"
        ]
        zone = spec["topologySpreadConstraints"][0]
        assert zone["topologyKey"] == "topology.kubernetes.io/zone"
        expected = "DoNotSchedule" if overlay == "production" else "ScheduleAnyway"
        assert zone["whenUnsatisfiable"] == expected


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_environment_references_resolve(rendered, overlay):
    """$(NAME) in an env value expands only names defined before it (or by
    envFrom); anything else reaches the process as the literal text."""
    docs = rendered[overlay]
    configmaps = objects(docs, "ConfigMap")
    for name, spec in pod_specs(docs):
        for container in spec["containers"]:
            known: set[str] = set()
            for source in container.get("envFrom", []):
                reference = source["configMapRef"]["name"]
                assert reference in configmaps, f"{name}: no ConfigMap {reference}"
                known |= set(configmaps[reference]["data"])
            for item in container["env"]:
                for reference in re.findall(
                    r"\$\(([A-Za-z_][A-Za-z0-9_]*)\)", item.get("value", "")
                ):
                    assert reference in known, (
                        f"{name}: {item['name']} uses $({reference}) before it is defined"
                    )
                known.add(item["name"])
                secret = item.get("valueFrom", {}).get("secretKeyRef")
                if secret:
                    assert secret["name"] == "onsale-secrets", name
            # What the platform refuses to start without, in production mode.
            assert {
                "DJANGO_SECRET_KEY",
                "DATABASE_URL",
                "REDIS_URL",
                "WAITINGROOM_JWT_PRIVATE_KEY",
                "DJANGO_ALLOWED_HOSTS",
            } <= known, name
            config = configmaps[container["envFrom"][0]["configMapRef"]["name"]]
            assert config["data"]["DJANGO_DEBUG"] == "false"
            # The base of the links in emails, required to serve.
            assert config["data"]["ONSALE_PUBLIC_URL"].startswith("https://"), name
            # The state on Redis Cluster: the cache, sessions and broker must
            # name a plain Redis, or the settings refuse to start.
            assert config["data"]["REDIS_CLUSTER"] == "true"
            values = {item["name"]: item.get("value", "") for item in container["env"]}
            for plain in ("CACHE_REDIS_URL", "CELERY_BROKER_URL"):
                assert "$(BROKER_REDIS_HOST)" in values[plain], (name, plain)
            assert "$(REDIS_HOST)" in values["REDIS_URL"], name


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_network_policies_let_the_platform_work_and_nothing_else(rendered, overlay):
    docs = rendered[overlay]
    policies = objects(docs, "NetworkPolicy")
    assert policies["default-deny"]["spec"] == {
        "podSelector": {},
        "policyTypes": ["Ingress", "Egress"],
    }
    web = policies["web-from-load-balancer"]["spec"]
    templates = {
        name: doc["spec"]["template"]["metadata"]["labels"]
        for name, doc in objects(docs, "Deployment").items()
    }
    web_pods = sorted(
        name
        for name, labels in templates.items()
        if selects(web["podSelector"]["matchLabels"], labels)
    )
    assert web_pods == sorted(WEB_SERVICES)
    assert web["ingress"][0]["ports"] == [{"port": 8000, "protocol": "TCP"}]
    egress = policies["onsale-egress"]["spec"]
    every_pod = sorted(
        name
        for name, labels in templates.items()
        if selects(egress["podSelector"]["matchLabels"], labels)
    )
    assert every_pod == sorted(templates)
    dns = egress["egress"][0]["to"][0]
    # The DNS peer must select CoreDNS as it is labelled, nothing of ours.
    assert dns["podSelector"] == {"matchLabels": {"k8s-app": "kube-dns"}}
    ports = {
        (port["port"], port["protocol"])
        for rule in egress["egress"]
        for port in rule["ports"]
    }
    assert ports == {
        (53, "UDP"),
        (53, "TCP"),
        (3306, "TCP"),
        (6379, "TCP"),
        (443, "TCP"),
    }


# --- the Ingress routes every URL to the service that owns it --------------------


def alb_matches(rule: Manifest, path: str) -> bool:
    """How the AWS Load Balancer Controller turns an Ingress path into ALB
    path conditions: Exact is one value, Prefix is `p` and `p/*`, and
    ImplementationSpecific is an ALB pattern (* any run of characters, ? one)."""
    pattern, kind = rule["path"], rule["pathType"]
    if kind == "Exact":
        return path == pattern
    if kind == "Prefix":
        return (
            pattern == "/"
            or path == pattern
            or path.startswith(pattern.rstrip("/") + "/")
        )
    regex = "".join(
        ".*" if c == "*" else "." if c == "?" else re.escape(c) for c in pattern
    )
    return re.fullmatch(regex, path) is not None


def ingress_backend(ingress: Manifest, path: str) -> str:
    for rule in ingress["spec"]["rules"][0]["http"]["paths"]:
        if alb_matches(rule, path):
            return str(rule["backend"]["service"]["name"])
    raise AssertionError(f"no Ingress rule matches {path}")


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_every_route_reaches_the_service_that_mounts_it(rendered, overlay):
    ingress = objects(rendered[overlay], "Ingress")["onsale"]
    routes = service_routes(SERVICE_URLCONFS)
    wrong = [
        f"{route.path} ({route.route}) -> {ingress_backend(ingress, route.path)}, mounted by {service}"
        for service, service_route_list in routes.items()
        for route in service_route_list
        if ingress_backend(ingress, route.path) != service
    ]
    assert wrong == []
    # usermgmt also serves the home page, admin and the API docs.
    for path in ("/", "/admin/", "/api/schema/", "/api/docs/"):
        assert ingress_backend(ingress, path) == "usermgmt"
    # Readiness details and metrics never leave the cluster.
    assert ingress_backend(ingress, "/readyz") == "internal-only"
    assert ingress_backend(ingress, "/metrics") == "internal-only"


@pytest.mark.parametrize("overlay", OVERLAYS)
def test_ingress_backends_exist_and_alb_settings_are_complete(rendered, overlay):
    docs = rendered[overlay]
    ingress = objects(docs, "Ingress")["onsale"]
    annotations = ingress["metadata"]["annotations"]
    services = objects(docs, "Service")
    for rule in ingress["spec"]["rules"][0]["http"]["paths"]:
        backend = rule["backend"]["service"]
        if backend["port"].get("name") == "use-annotation":
            action = json.loads(
                annotations[f"alb.ingress.kubernetes.io/actions.{backend['name']}"]
            )
            assert action["type"] == "fixed-response"
            json.loads(action["fixedResponseConfig"]["messageBody"])
        else:
            ports = [
                port["name"] for port in services[backend["name"]]["spec"]["ports"]
            ]
            assert backend["port"]["name"] in ports
    assert ingress["spec"]["ingressClassName"] == "alb"
    assert annotations["alb.ingress.kubernetes.io/target-type"] == "ip"
    assert annotations["alb.ingress.kubernetes.io/healthcheck-path"] == "/healthz"
    # The overlay's stack outputs replaced the base's placeholders.
    assert annotations["alb.ingress.kubernetes.io/certificate-arn"].startswith(
        "arn:aws:acm:"
    )
    assert annotations["alb.ingress.kubernetes.io/security-groups"].startswith("sg-0")
    account = objects(docs, "ServiceAccount")["onsale"]
    assert account["metadata"]["annotations"]["eks.amazonaws.com/role-arn"].startswith(
        "arn:aws:iam::"
    )
    images = {c["image"] for _, spec in pod_specs(docs) for c in spec["containers"]}
    assert len(images) == 1 and ".dkr.ecr." in images.pop()


# --- the CloudFormation outputs flow into the overlay ------------------------------


def test_stack_outputs_script_writes_what_the_overlay_reads(tmp_path: Path):
    """deploy/stack-outputs.sh with a stand-in `aws` that answers with every
    output root.yaml declares: the overlay then renders with those values,
    and valid. A script asking for an output the stack lacks fails here."""
    root = cfn_yaml.load(str(REPO / "cloudformation" / "root.yaml"))
    outputs = sorted(root["Outputs"])
    for part in ("k8s", "deploy"):
        shutil.copytree(REPO / part, tmp_path / part)
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    aws = bin_dir / "aws"
    lines = "".join(f"{name}\\tvalue-of-{name}\\n" for name in outputs)
    aws.write_text(f"#!/bin/sh\nprintf '{lines}'\n")
    aws.chmod(aws.stat().st_mode | stat.S_IEXEC)
    env_path = f"{bin_dir}:/usr/bin:/bin"
    result = run(
        ["sh", str(tmp_path / "deploy" / "stack-outputs.sh"), "production", "v1.2.3"],
        env={"PATH": env_path},
    )
    assert result.returncode == 0, result.stderr
    overlay = tmp_path / "k8s" / "overlays" / "production"
    app_env = (overlay / "app.env").read_text()
    assert "DB_HOST=value-of-DatabaseHost\n" in app_env
    assert "ONSALE_PUBLIC_URL=value-of-PublicUrl\n" in app_env
    assert "REDIS_HOST=value-of-AppRedisHost\n" in app_env
    cluster_env = (overlay / "cluster.env").read_text()
    assert "IMAGE=value-of-ImageRepositoryUri:v1.2.3\n" in cluster_env
    docs = kustomize(overlay)
    config = next(iter(objects(docs, "ConfigMap").values()))["data"]
    assert config["BROKER_REDIS_HOST"] == "value-of-BrokerRedisHost"
    assert config["AWS_STORAGE_BUCKET_NAME"] == "value-of-AssetsBucketName"
    assert (
        objects(docs, "Deployment")["waitingroom"]["spec"]["template"]["spec"][
            "containers"
        ][0]["image"]
        == "value-of-ImageRepositoryUri:v1.2.3"
    )
    # The committed placeholders have exactly the keys the script writes.
    for name in ("app.env", "cluster.env"):

        def keys(text: str) -> set[str]:
            return {
                line.split("=", 1)[0]
                for line in text.splitlines()
                if line and not line.startswith("#")
            }

        committed = (REPO / "k8s" / "overlays" / "production" / name).read_text()
        assert keys(committed) == keys((overlay / name).read_text()), name

    # A stack without one of the outputs: the script stops, files untouched.
    aws.write_text("#!/bin/sh\nprintf 'PublicHostName\\ttickets.example.com\\n'\n")
    before = (overlay / "app.env").read_text()
    result = run(
        ["sh", str(tmp_path / "deploy" / "stack-outputs.sh"), "production", "v2"],
        env={"PATH": env_path},
    )
    assert result.returncode == 1
    assert "has no output DatabaseHost" in result.stderr
    assert (overlay / "app.env").read_text() == before


def test_shell_scripts_pass_shellcheck():
    scripts = [
        REPO / "docker" / "entrypoint.sh",
        REPO / "deploy" / "stack-outputs.sh",
        REPO / "nginx" / "render.sh",
    ]
    result = run([tool("shellcheck"), "--shell=sh", *map(str, scripts)])
    assert result.returncode == 0, result.stdout + result.stderr
