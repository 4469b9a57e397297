#!/usr/bin/python3
"""Contract suite: the official Python client (Debian's python3-kubernetes) against the local cluster.
Typed CRUD, 409s, watch from a resourceVersion, 410 after compaction, continue tokens, the dynamic
client's discovery, aggregated discovery by Accept header, a custom resource's status subresource,
server-side apply of a StatefulSet, POST /admin/restart (clients go on, 410 for older versions), and a
clean stop (exit code 0) on SIGTERM.
Usage: python_contract.py LOCALCLUSTER_BINARY REPO_ROOT"""
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import traceback

import yaml
from kubernetes import client, config, dynamic, watch
from kubernetes.client.rest import ApiException

binary, root = sys.argv[1], sys.argv[2]
work = tempfile.mkdtemp(prefix="sdb-py-")
proc = None


def start():
    global proc
    kc = os.path.join(work, "lc", "kubeconfig")
    if os.path.exists(kc):
        os.remove(kc)
    # API semantics only: the workload controllers would write StatefulSet status concurrently, and
    # the server-side apply case plays the statefulset-controller itself.
    proc = subprocess.Popen([binary, "--data-dir", os.path.join(work, "lc"), "--port", "0", "--no-workload-controllers"],
                            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "lc.log"), "a"))
    for _ in range(100):
        if os.path.exists(kc):
            break
        time.sleep(0.1)
    config.load_kube_config(kc)
    return client.ApiClient()


def stop():
    proc.send_signal(signal.SIGTERM)
    code = proc.wait(timeout=10)
    assert code == 0, "the local cluster exited with %s after SIGTERM" % code


def raw(method, path, accept="application/json"):
    """A request with the admin token through the client's own connection pool; (response, body)."""
    token = open(os.path.join(work, "lc", "admin-token")).read().strip()
    headers = {"Accept": accept, "Authorization": "Bearer " + token}
    url = api.configuration.host + path
    r = api.rest_client.GET(url, headers=headers) if method == "GET" else api.rest_client.POST(url, headers=headers, body={})
    return r, json.loads(r.data)


api = start()
v1 = client.CoreV1Api(api)
results = []


def case(fn):
    try:
        fn()
        results.append((fn.__name__, None))
        print("ok   " + fn.__name__)
    except Exception:
        results.append((fn.__name__, traceback.format_exc()))
        print("FAIL " + fn.__name__ + "\n" + traceback.format_exc())
    return fn


def cm(name, data=None, labels=None):
    return client.V1ConfigMap(metadata=client.V1ObjectMeta(name=name, labels=labels or {}), data=data or {"k": "v"})


@case
def typed_crud():
    created = v1.create_namespaced_config_map("default", cm("crud"))
    assert created.metadata.uid and created.metadata.resource_version
    read = v1.read_namespaced_config_map("crud", "default")
    assert read.data == {"k": "v"}
    read.data["k"] = "w"
    replaced = v1.replace_namespaced_config_map("crud", "default", read)
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)
    v1.delete_namespaced_config_map("crud", "default")
    try:
        v1.read_namespaced_config_map("crud", "default")
        raise AssertionError("still there")
    except ApiException as e:
        assert e.status == 404, e.status


@case
def conflicts_are_409():
    first = v1.create_namespaced_config_map("default", cm("conflict"))
    try:
        v1.create_namespaced_config_map("default", cm("conflict"))
        raise AssertionError("duplicate accepted")
    except ApiException as e:
        assert e.status == 409 and "AlreadyExists" in e.body, e.body
    first.data["k"] = "a"
    v1.replace_namespaced_config_map("conflict", "default", first)
    first.data["k"] = "b"  # still the old resourceVersion
    try:
        v1.replace_namespaced_config_map("conflict", "default", first)
        raise AssertionError("stale update accepted")
    except ApiException as e:
        assert e.status == 409 and "the object has been modified" in e.body, e.body


@case
def watch_from_a_resource_version():
    start_rv = v1.create_namespaced_config_map("default", cm("w0")).metadata.resource_version
    v1.create_namespaced_config_map("default", cm("w1"))
    v1.delete_namespaced_config_map("w0", "default")
    seen = []
    for ev in watch.Watch().stream(v1.list_namespaced_config_map, "default", resource_version=start_rv, timeout_seconds=2):
        seen.append((ev["type"], ev["object"].metadata.name))
        if len(seen) == 2:
            break
    assert seen == [("ADDED", "w1"), ("DELETED", "w0")], seen


@case
def continue_tokens_page_a_list():
    for i in range(7):
        v1.create_namespaced_config_map("default", cm("page-%d" % i, labels={"paged": "yes"}))
    names, token = [], None
    while True:
        page = v1.list_namespaced_config_map("default", label_selector="paged=yes", limit=3, _continue=token)
        names += [i.metadata.name for i in page.items]
        token = page.metadata._continue
        if not token:
            break
    assert names == ["page-%d" % i for i in range(7)], names


@case
def dynamic_discovery_and_custom_resource_status():
    dyn = dynamic.DynamicClient(api)
    crds = dyn.resources.get(api_version="apiextensions.k8s.io/v1", kind="CustomResourceDefinition")
    for f in sorted(os.listdir(os.path.join(root, "crds"))):
        if f.endswith(".yaml"):
            crds.create(body=yaml.safe_load(open(os.path.join(root, "crds", f))))
    dyn = dynamic.DynamicClient(api)  # rediscover
    sdb = dyn.resources.get(api_version="servicedb.io/v1alpha1", kind="ServiceDatabase")
    assert sdb.namespaced and "sdb" in sdb.short_names, (sdb.namespaced, sdb.short_names)
    body = yaml.safe_load(open(os.path.join(root, "crds/examples/servicedatabase-redis-shared.yaml")))
    created = sdb.create(body=body, namespace="default")
    assert created.spec.mode == "shared" and created.metadata.generation == 1
    status = sdb.status.patch(name="ratelimit", namespace="default", content_type="application/merge-patch+json",
                              body={"status": {"observedGeneration": 1, "phase": "Pending"}})
    assert status.status.phase == "Pending" and status.metadata.generation == 1
    main = sdb.patch(name="ratelimit", namespace="default", content_type="application/merge-patch+json",
                     body={"status": {"phase": "Ignored"}, "spec": {"deletionPolicy": "Delete"}})
    assert main.status.phase == "Pending", "status must not change through the main resource"
    assert main.metadata.generation == 2, main.metadata.generation
    try:
        sdb.patch(name="ratelimit", namespace="default", content_type="application/merge-patch+json",
                  body={"spec": {"deletionPolicy": "Sometimes"}})
        raise AssertionError("invalid value accepted")
    except ApiException as e:
        body = e.body.decode() if isinstance(e.body, bytes) else e.body
        assert e.status == 422 and "spec.deletionPolicy" in body, body


@case
def aggregated_discovery_by_accept_header():
    # kubectl 1.30 and later ask for v2, older ones for v2beta1; without the Accept, legacy APIGroupList.
    for version in ("v2", "v2beta1"):
        accept = "application/json;g=apidiscovery.k8s.io;v=%s;as=APIGroupDiscoveryList,application/json" % version
        for path in ("/apis", "/api"):
            r, doc = raw("GET", path, accept)
            want = "application/json;g=apidiscovery.k8s.io;v=%s;as=APIGroupDiscoveryList" % version
            assert r.getheader("Content-Type") == want, (path, r.getheader("Content-Type"))
            assert doc["kind"] == "APIGroupDiscoveryList", doc["kind"]
            assert doc["apiVersion"] == "apidiscovery.k8s.io/" + version, doc["apiVersion"]
            groups = {g["metadata"]["name"]: g for g in doc["items"]}
            if path == "/api":
                assert list(groups) == [""], list(groups)
                core = {r["resource"] for r in groups[""]["versions"][0]["resources"]}
                assert {"pods", "configmaps", "namespaces"} <= core, core
            else:
                assert "" not in groups and "apps" in groups, list(groups)
                sdb = groups["servicedb.io"]["versions"][0]  # the CRDs applied by the case before
                assert sdb["version"] == "v1alpha1", sdb
                res = {r["resource"]: r for r in sdb["resources"]}
                assert res["servicedatabases"]["scope"] == "Namespaced", res["servicedatabases"]
                assert res["servicedatabases"]["responseKind"]["kind"] == "ServiceDatabase"
                assert [s["subresource"] for s in res["servicedatabases"]["subresources"]] == ["status"]
                sts = {r["resource"]: r for r in groups["apps"]["versions"][0]["resources"]}["statefulsets"]
                assert "scale" not in [s["subresource"] for s in sts.get("subresources", [])], "/scale is not served"
    r, legacy = raw("GET", "/apis")
    assert r.getheader("Content-Type") == "application/json", r.getheader("Content-Type")
    assert legacy["kind"] == "APIGroupList" and legacy["apiVersion"] == "v1", legacy
    assert "servicedb.io" in [g["name"] for g in legacy["groups"]], legacy
    r, versions = raw("GET", "/api")
    assert versions["kind"] == "APIVersions" and versions["versions"] == ["v1"], versions


@case
def server_side_apply_of_a_statefulset():
    # The client sends apply-patch+yaml bodies as strings (JSON is YAML); a dict body is refused by
    # its REST layer for that content type.
    sts = dynamic.DynamicClient(api).resources.get(api_version="apps/v1", kind="StatefulSet")
    body = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": "default"},
            "spec": {"serviceName": "db", "replicas": 1, "selector": {"matchLabels": {"app": "db"}},
                     "template": {"metadata": {"labels": {"app": "db"}},
                                  "spec": {"containers": [{"name": "pg", "image": "postgres:15",
                                                           "ports": [{"containerPort": 5432}]}]}}}}
    created = sts.server_side_apply(body=json.dumps(body), name="db", namespace="default", field_manager="operator")
    entries = created.to_dict()["metadata"]["managedFields"]
    assert [(e["manager"], e["operation"]) for e in entries] == [("operator", "Apply")], entries
    containers = entries[0]["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
    assert 'k:{"name":"pg"}' in containers, containers
    scale = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": "default"},
             "spec": {"replicas": 3}}
    try:
        sts.server_side_apply(body=json.dumps(scale), name="db", namespace="default", field_manager="autoscaler")
        raise AssertionError("conflict not reported")
    except ApiException as e:
        status = json.loads(e.body)
        assert e.status == 409 and status["reason"] == "Conflict", e.body
        assert status["message"] == 'Apply failed with 1 conflict: conflict with "operator": .spec.replicas', status
        assert status["details"]["causes"] == [{"field": ".spec.replicas", "message": 'conflict with "operator"',
                                                "reason": "FieldManagerConflict"}], status
    forced = sts.server_side_apply(body=json.dumps(scale), name="db", namespace="default", field_manager="autoscaler",
                                   force_conflicts=True)
    assert forced.spec.replicas == 3 and forced.metadata.generation == 2
    # The operator re-applies without replicas: the field stays, owned by the autoscaler alone.
    del body["spec"]["replicas"]
    body["spec"]["template"]["spec"]["containers"][0]["image"] = "postgres:16"
    again = sts.server_side_apply(body=json.dumps(body), name="db", namespace="default", field_manager="operator")
    assert again.spec.replicas == 3 and again.spec.template.spec.containers[0].image == "postgres:16"
    owners = {e["manager"]: e["fieldsV1"] for e in again.to_dict()["metadata"]["managedFields"]}
    assert "f:replicas" in owners["autoscaler"]["f:spec"] and "f:replicas" not in owners["operator"]["f:spec"], owners
    # Status through its subresource, owned by the controller with subresource "status".
    status = {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": "db", "namespace": "default"},
              "status": {"replicas": 3, "readyReplicas": 3}}
    st = sts.status.server_side_apply(body=json.dumps(status), name="db", namespace="default",
                                      field_manager="statefulset-controller")
    assert st.status.readyReplicas == 3
    ctl = [e for e in st.to_dict()["metadata"]["managedFields"] if e["manager"] == "statefulset-controller"]
    assert ctl and ctl[0]["subresource"] == "status", st.to_dict()["metadata"]["managedFields"]


@case
def expired_resource_version_is_410():
    global api, v1
    old_rv = v1.create_namespaced_config_map("default", cm("before-restart")).metadata.resource_version
    v1.create_namespaced_config_map("default", cm("also-before-restart"))  # history now ends after old_rv
    stop()
    api = start()  # the restart compacts history
    v1 = client.CoreV1Api(api)
    v1.create_namespaced_config_map("default", cm("after-restart"))
    try:
        for _ in watch.Watch().stream(v1.list_namespaced_config_map, "default", resource_version=old_rv, timeout_seconds=2):
            pass
        raise AssertionError("no 410")
    except ApiException as e:
        assert e.status == 410, e.status


@case
def admin_restart_keeps_state_and_clients_go_on():
    before = v1.create_namespaced_config_map("default", cm("before-admin-restart"))
    old_rv = before.metadata.resource_version
    v1.create_namespaced_config_map("default", cm("also-before-admin-restart"))
    _, restarted = raw("POST", "/admin/restart")
    assert int(restarted["resourceVersion"]) >= int(old_rv) + 1 and restarted["restarts"] == 1, restarted
    # The same client (its pooled keep-alive connection was dropped) reads and writes on.
    kept = v1.read_namespaced_config_map("before-admin-restart", "default")
    assert kept.metadata.resource_version == old_rv
    after = v1.create_namespaced_config_map("default", cm("after-admin-restart"))
    assert int(after.metadata.resource_version) > int(restarted["resourceVersion"]), "resourceVersions keep rising"
    try:
        for _ in watch.Watch().stream(v1.list_namespaced_config_map, "default", resource_version=old_rv, timeout_seconds=2):
            pass
        raise AssertionError("no 410: the watch history should start again at the restart")
    except ApiException as e:
        assert e.status == 410, e.status
    listed = v1.list_namespaced_config_map("default")  # what an informer does after the 410
    v1.delete_namespaced_config_map("after-admin-restart", "default")
    seen = []
    for ev in watch.Watch().stream(v1.list_namespaced_config_map, "default",
                                   resource_version=listed.metadata.resource_version, timeout_seconds=3):
        seen.append((ev["type"], ev["object"].metadata.name))
        break
    assert seen == [("DELETED", "after-admin-restart")], seen


@case
def sigterm_stops_cleanly_with_exit_code_0():
    stop()


shutil.rmtree(work, ignore_errors=True)
failed = sum(1 for _, err in results if err)
print("%d passed, %d failed" % (len(results) - failed, failed))
sys.exit(1 if failed else 0)
