#!/usr/bin/python3
"""Contract suite: the official Python client (Debian's python3-kubernetes) against the local cluster.
Typed CRUD, 409s, watch from a resourceVersion, 410 after compaction, continue tokens, the dynamic
client's discovery, a custom resource's status subresource, and server-side apply of a StatefulSet.
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
    proc = subprocess.Popen([binary, "--data-dir", os.path.join(work, "lc"), "--port", "0"],
                            stdout=subprocess.DEVNULL, stderr=open(os.path.join(work, "lc.log"), "a"))
    for _ in range(100):
        if os.path.exists(kc):
            break
        time.sleep(0.1)
    config.load_kube_config(kc)
    return client.ApiClient()


def stop():
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=10)


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


stop()
shutil.rmtree(work, ignore_errors=True)
failed = sum(1 for _, err in results if err)
print("%d passed, %d failed" % (len(results) - failed, failed))
sys.exit(1 if failed else 0)
