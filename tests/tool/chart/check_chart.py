#!/usr/bin/python3
"""Checks of the Helm chart and the kustomize base, with outside tools only:
Helm's template engine (tools/helm-render: Go text/template + sprig), kubectl kustomize, and
python3-jsonschema for values.schema.json. Usage: check_chart.py HELM_RENDER REPO_ROOT"""
import filecmp
import json
import os
import subprocess
import sys
import tempfile

import jsonschema
import yaml

helm_render, root = sys.argv[1], sys.argv[2]
chart = os.path.join(root, "charts/servicedb-operator")
failures = []


def check(cond, msg):
    print(("ok   " if cond else "FAIL ") + msg)
    if not cond:
        failures.append(msg)


def render(*args):
    with tempfile.NamedTemporaryFile(suffix=".json") as values:
        out = subprocess.run([helm_render, "--namespace", "servicedb-system", "--values-out", values.name, *args, chart],
                             check=True, capture_output=True, text=True).stdout
        merged = json.load(open(values.name))
    return [d for d in yaml.safe_load_all(out) if d], merged


schema = json.load(open(os.path.join(chart, "values.schema.json")))


def schema_errors(values):
    return sorted(e.message + " at " + "/".join(str(p) for p in e.absolute_path)
                  for e in jsonschema.Draft7Validator(schema).iter_errors(values))


# 1. Default values render and validate.
docs, values = render()
check(schema_errors(values) == [], "default values satisfy values.schema.json")
kinds = sorted((d["kind"], d["metadata"]["name"]) for d in docs)
check(("Deployment", "servicedb-operator") in kinds and ("ClusterRole", "servicedb-operator") in kinds,
      "default render has the Deployment and a ClusterRole (all namespaces)")

# 2. Bad values are refused, naming the field.
for bad, field in [(["--set", "replicaCount=0"], "replicaCount"),
                   (["--set", "logLevel=loud"], "logLevel"),
                   (["--set", "watchNamespaces={Bad_NS}"], "watchNamespaces/0"),
                   (["--set", "unknownKey=1"], "unknownKey")]:
    _, v = render(*bad)
    errs = schema_errors(v)
    check(len(errs) > 0 and any(field in e for e in errs), f"{bad[1]} refused: {errs}")

# 3. Namespaced mode: Roles per namespace, and no cluster-wide grant on namespaced resources.
docs_ns, v = render("--set", "watchNamespaces={team-a,team-b}")
check(schema_errors(v) == [], "watchNamespaces list validates")
roles = {(d["kind"], d["metadata"].get("namespace")) for d in docs_ns if d["kind"] in ("Role", "RoleBinding")}
check({("Role", "team-a"), ("Role", "team-b"), ("RoleBinding", "team-a"), ("RoleBinding", "team-b")} <= roles,
      "namespaced mode has a Role and RoleBinding in each watched namespace")
cluster_resources = {r for d in docs_ns if d["kind"] == "ClusterRole" for rule in d["rules"] for r in rule["resources"]}
check(cluster_resources == {"namespaces", "storageclasses"},
      f"namespaced mode's ClusterRole grants only cluster-scoped reads: {sorted(cluster_resources)}")
check(not any("*" in rule.get("verbs", []) or "*" in rule.get("resources", [])
              for d in docs + docs_ns if d["kind"] in ("Role", "ClusterRole") for rule in d["rules"]),
      "no wildcard verbs or resources anywhere")

# 4. The Deployment meets the restricted Pod Security profile.
dep = next(d for d in docs if d["kind"] == "Deployment")
pod = dep["spec"]["template"]["spec"]
psc = pod.get("securityContext", {})
ok = psc.get("runAsNonRoot") is True and psc.get("seccompProfile", {}).get("type") in ("RuntimeDefault", "Localhost")
for c in pod["containers"] + pod.get("initContainers", []):
    sc = c.get("securityContext", {})
    ok = ok and sc.get("allowPrivilegeEscalation") is False and sc.get("capabilities", {}).get("drop") == ["ALL"]
    ok = ok and sc.get("readOnlyRootFilesystem") is True and not sc.get("privileged", False)
    ok = ok and "limits" in c.get("resources", {}) and "requests" in c.get("resources", {})
    ok = ok and c["livenessProbe"]["httpGet"]["path"] == "/healthz" and c["readinessProbe"]["httpGet"]["path"] == "/readyz"
check(ok and not pod.get("hostNetwork") and not pod.get("hostPID"),
      "Deployment: restricted profile, read-only root, probes on /healthz and /readyz, requests and limits")

# 5. crds/ identical in the chart and in the kustomize base.
src = sorted(f for f in os.listdir(os.path.join(root, "crds")) if f.endswith(".yaml"))
for dest in ["charts/servicedb-operator/crds", "charts/kustomize/base/crds"]:
    d = os.path.join(root, dest)
    same = sorted(f for f in os.listdir(d) if f.endswith(".yaml")) == src and all(
        filecmp.cmp(os.path.join(root, "crds", f), os.path.join(d, f), shallow=False) for f in src)
    check(same, f"{dest} is identical to crds/ (run scripts/sync-chart-crds)")

# 6. The chart (default values) and the kustomize base give the same objects.
def normalise(d):
    d = json.loads(json.dumps(d))
    for labels in [d["metadata"].get("labels", {}),
                   d.get("spec", {}).get("template", {}).get("metadata", {}).get("labels", {})]:
        labels.pop("app.kubernetes.io/managed-by", None)
    if d["kind"] not in ("ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition", "Namespace"):
        d["metadata"]["namespace"] = "servicedb-system"
    return (d["kind"], d["metadata"]["name"], d["metadata"].get("namespace", "")), d


kust = subprocess.run(["kubectl", "kustomize", os.path.join(root, "charts/kustomize/base")],
                      check=True, capture_output=True, text=True).stdout
kdocs = dict(normalise(d) for d in yaml.safe_load_all(kust) if d and d["kind"] != "Namespace")
crd_docs = [yaml.safe_load(open(os.path.join(chart, "crds", f))) for f in src]
hdocs = dict(normalise(d) for d in docs + crd_docs)
check(sorted(kdocs) == sorted(hdocs), f"same objects: chart {sorted(hdocs)} vs kustomize {sorted(kdocs)}")
for key in sorted(set(kdocs) & set(hdocs)):
    check(kdocs[key] == hdocs[key], f"{key} equal in chart and kustomize base")

# 7. Built-in migration Jobs run the operator's own image: SERVICEDB_OPERATOR_IMAGE follows the
#    container's image, in the chart (image.repository and image.tag) and in a kustomize overlay
#    that changes it with `images:`.
def operator_env_and_image(objs):
    dep = next(d for d in objs if d and d["kind"] == "Deployment")
    c = dep["spec"]["template"]["spec"]["containers"][0]
    env = {e["name"]: e.get("value") for e in c.get("env", [])}
    return env.get("SERVICEDB_OPERATOR_IMAGE"), c["image"]


env, image = operator_env_and_image(docs)
check(env == image == "ghcr.io/servicedb/servicedb-operator:" + yaml.safe_load(open(os.path.join(chart, "Chart.yaml")))["appVersion"],
      f"chart: SERVICEDB_OPERATOR_IMAGE {env} is the container's image {image}")
env, image = operator_env_and_image(render("--set", "image.repository=mirror.example/sdb", "--set", "image.tag=9.9.9")[0])
check(env == image == "mirror.example/sdb:9.9.9", f"chart with another image: env {env}, image {image}")
with tempfile.TemporaryDirectory() as overlay:
    base = os.path.join(root, "charts/kustomize/base")
    # kustomize refuses absolute resource paths: a relative path from the overlay to the base.
    with open(os.path.join(overlay, "kustomization.yaml"), "w") as f:
        f.write("resources: [%s]\nimages:\n  - name: ghcr.io/servicedb/servicedb-operator\n"
                "    newName: mirror.example/sdb\n    newTag: 9.9.9\n" % os.path.relpath(base, overlay))
    out = subprocess.run(["kubectl", "kustomize", overlay], check=True, capture_output=True, text=True).stdout
    env, image = operator_env_and_image(list(yaml.safe_load_all(out)))
    check(env == image == "mirror.example/sdb:9.9.9", f"kustomize overlay with images: env {env}, image {image}")

print(f"{0 if failures else 1} passed, {1 if failures else 0} failed")
sys.exit(1 if failures else 0)
