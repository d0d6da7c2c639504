"""deploy/k8s as an operator applies it: every manifest valid against the Kubernetes API schema, the app and the
migration built from one release (one image tag), every key the app reads documented in the example Secret, and
X-Forwarded-For trusted from the ingress only.

The two kustomizations are expanded here the way ``kubectl kustomize`` expands these files (resources, components,
namespace, images): enough to check what they produce without a cluster.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest
import yaml

K8S = Path(__file__).parents[3] / "deploy" / "k8s"
KUBERNETES = "1.30.0"  # the oldest Kubernetes these manifests are written for


def _documents(path: Path) -> list[dict[str, Any]]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc]


def build(directory: Path) -> list[dict[str, Any]]:
    """What ``kubectl kustomize directory`` gives for these files: resources and components' resources, with the
    namespace and the components' image replacements applied."""
    spec = _documents(directory / "kustomization.yaml")[0]
    resources: list[dict[str, Any]] = []
    images: list[dict[str, str]] = list(spec.get("images", []))
    for entry in spec.get("resources", []):
        resources += _documents(directory / entry)
    for entry in spec.get("components", []):
        component = _documents(directory / entry / "kustomization.yaml")[0]
        assert component["kind"] == "Component", entry
        for resource in component.get("resources", []):
            resources += _documents(directory / entry / resource)
        images += component.get("images", [])
    for resource in resources:
        if "namespace" in spec and resource["kind"] != "Namespace":
            resource["metadata"]["namespace"] = spec["namespace"]
        for container in _containers(resource):
            for image in images:
                if container["image"] == image["name"]:
                    container["image"] = f"{image.get('newName', image['name'])}:{image['newTag']}"
    return resources


def _containers(resource: dict[str, Any]) -> list[dict[str, Any]]:
    pod = resource.get("spec", {}).get("template", {}).get("spec", {})
    return [*pod.get("initContainers", []), *pod.get("containers", [])]


APP, MIGRATION = build(K8S), build(K8S / "migrate")


@pytest.mark.parametrize(
    "resource", [*APP, *MIGRATION, *_documents(K8S / "secret.example.yaml")],
    ids=lambda r: f"{r['kind']}/{r['metadata']['name']}",
)  # fmt: skip
def test_every_manifest_is_valid_against_the_kubernetes_schema(resource: dict[str, Any]) -> None:
    kubernetes_validate.validate(resource, KUBERNETES, strict=True)


def fuquan_images(resources: list[dict[str, Any]]) -> set[str]:
    return {c["image"] for r in resources for c in _containers(r) if "fuquan" in c["image"]}


def test_the_app_and_its_migration_run_one_release() -> None:
    """The tag is set once (release/kustomization.yaml) and both builds use it: the migration Job cannot run
    another version than the Deployment it prepares the database for."""
    app, migration = fuquan_images(APP), fuquan_images(MIGRATION)
    assert len(app) == 1 and app == migration, (app, migration)
    assert next(iter(app)).startswith("registry.example.internal/fuquan/fuquan:")
    assert [r["metadata"]["name"] for r in MIGRATION if r["kind"] in ("Job", "Deployment")] == ["fuquan-migrate"]
    assert "fuquan-migrate" not in {r["metadata"]["name"] for r in APP}  # run before the app, not with it


def _environment(resources: list[dict[str, Any]], kind: str) -> set[str]:
    pod = next(r for r in resources if r["kind"] == kind)
    return {ref.get("configMapRef", ref.get("secretRef", {}))["name"] for c in _containers(pod) for ref in c["envFrom"]}


def test_the_job_and_the_app_read_the_same_settings_and_secrets() -> None:
    assert _environment(APP, "Deployment") == _environment(MIGRATION, "Job") == {"fuquan-config", "fuquan-secrets"}
    config = next(r for r in MIGRATION if r["kind"] == "ConfigMap")
    assert config == next(r for r in APP if r["kind"] == "ConfigMap")


def test_every_secret_the_app_needs_is_in_the_example() -> None:
    secret = _documents(K8S / "secret.example.yaml")[0]["stringData"]
    needed = {"FUQUAN_SECRET_KEY", "FUQUAN_MASTER_KEY", "FUQUAN_AUDIT_KEY", "FUQUAN_DATABASE_URL", "FUQUAN_REDIS_URL",
              "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "FUQUAN_METRICS_TOKEN"}  # fmt: skip
    assert needed <= set(secret), needed - set(secret)
    config = next(r for r in APP if r["kind"] == "ConfigMap")["data"]
    assert not needed & set(config), "a secret in the ConfigMap"


def test_forwarded_headers_are_trusted_from_the_ingress_only() -> None:
    config = next(r for r in APP if r["kind"] == "ConfigMap")["data"]
    trusted = config["FUQUAN_TRUSTED_PROXIES"]
    assert trusted and "*" not in trusted
    compose = _documents(K8S.parent / "compose.yaml")[0]
    assert "*" not in compose["x-app"]["environment"]["FUQUAN_TRUSTED_PROXIES"]
    assert (
        compose["services"]["lb"]["networks"]["default"]["ipv4_address"]
        == compose["x-app"]["environment"]["FUQUAN_TRUSTED_PROXIES"]
    )
