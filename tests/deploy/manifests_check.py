"""manifests_check: the Kubernetes manifests and the Containerfile of deploy/, against the
programs built here.

  - every manifest object is checked against the Kubernetes API's own models (Debian's
    python3-kubernetes): no unknown field, no wrong type;
  - the kustomization lists every manifest, in the namespace they use;
  - containers run the images the Containerfile builds, at the project's version, as its
    user, with args that are real flags of the program (its --help), $(VARS) that are
    defined, and ports that match the coordinator's --clients/--peers endpoints;
  - the coordinator's Services select its pods and reach its named ports, and peers
    connect to the Service's peers port; probes name container ports;
  - GPU peers are a DaemonSet of the CUDA image requesting nvidia.com/gpu, CPU peers
    request none;
  - CurveZMQ keys: every key flag a program needs names a file in a read-only volume made
    from a Secret, readable by the pod's group only;
  - the Containerfile's stages start the right program with real flags and expose the
    ports they bind.
"""
import argparse
import glob
import json
import os
import re
import sys

import kubernetes.client as k8s
import yaml

from checks import check_args, program_flags, report

errors = []


def fail(msg):
    errors.append(msg)


# --- the API models -----------------------------------------------------------------
MODELS = {("v1", "Namespace"): "V1Namespace", ("v1", "Service"): "V1Service",
          ("apps/v1", "Deployment"): "V1Deployment", ("apps/v1", "DaemonSet"): "V1DaemonSet"}
SCALARS = {"str": str, "int": int, "bool": bool, "float": (int, float)}


def check_model(value, typ, where):
    """value against an openapi type name of python3-kubernetes ('V1PodSpec',
    'list[V1Container]', 'dict(str, str)', 'str', 'object')."""
    if typ == "object":
        return  # IntOrString, Quantity and the like
    if typ.startswith("list["):
        if not isinstance(value, list):
            return fail(f"{where}: wants a list")
        for i, v in enumerate(value):
            check_model(v, typ[5:-1], f"{where}[{i}]")
        return
    if typ.startswith("dict("):
        if not isinstance(value, dict):
            return fail(f"{where}: wants a map")
        inner = typ[5:-1].split(", ", 1)[1]
        for k, v in value.items():
            check_model(v, inner, f"{where}.{k}")
        return
    if typ in SCALARS:
        if not isinstance(value, SCALARS[typ]) or (typ == "int" and isinstance(value, bool)):
            fail(f"{where}: wants {typ}, has {value!r}")
        return
    model = getattr(k8s, typ)
    if not isinstance(value, dict):
        return fail(f"{where}: wants a {typ} object")
    fields = {json_name: attr for attr, json_name in model.attribute_map.items()}
    for key, v in value.items():
        if key not in fields:
            fail(f"{where}: unknown field '{key}' for {typ}")
        elif v is not None:
            check_model(v, model.openapi_types[fields[key]], f"{where}.{key}")


# --- the Containerfile --------------------------------------------------------------
def containerfile(path, flags):
    """{stage: {'entrypoint': [...], 'cmd': [...], 'expose': [...], 'uid': n}} with what a
    stage inherits from the stage it is built FROM."""
    stages, cur = {}, None
    text = re.sub(r"\\\n", " ", open(path).read())
    for line in text.splitlines():
        line = line.strip()
        m = re.match(r"FROM\s+(\S+)(?:\s+AS\s+(\S+))?", line, re.I)
        if m:
            base = stages.get(m.group(1), {})
            cur = dict(base, name=m.group(2))
            stages[m.group(2)] = cur
            continue
        word, _, rest = line.partition(" ")
        if word in ("ENTRYPOINT", "CMD"):
            cur[word.lower()] = json.loads(rest)
        elif word == "EXPOSE":
            cur["expose"] = [int(p.split("/")[0]) for p in rest.split()]
        elif word == "USER":
            cur["user"] = int(rest.split(":")[0])
        elif word == "RUN" and "useradd" in rest:
            cur["uid"] = int(re.search(r"--uid (\d+)", rest).group(1))
    want = {"coordinator": "p2c2r-coordinator", "peer-cpu": "p2c2r-peer",
            "peer-cuda": "p2c2r-peer"}
    for stage, program in want.items():
        s = stages.get(stage)
        if not s:
            fail(f"Containerfile: no stage {stage}")
            continue
        if s.get("entrypoint") != ["/usr/local/bin/" + program]:
            fail(f"Containerfile {stage}: ENTRYPOINT {s.get('entrypoint')} is not {program}")
        given = check_args(s.get("cmd", []), flags[program], f"Containerfile {stage} CMD",
                           errors)
        if s.get("user") is None or s.get("user") != s.get("uid"):
            fail(f"Containerfile {stage}: USER {s.get('user')} is not the user it makes")
        if program == "p2c2r-coordinator":
            bound = sorted(endpoint_port(given.get(f), stage) for f in ("--clients", "--peers"))
            if sorted(s.get("expose", [])) != bound:
                fail(f"Containerfile {stage}: EXPOSE {s.get('expose')} but binds {bound}")
    if "NVIDIA_VISIBLE_DEVICES" not in open(path).read():
        fail("Containerfile peer-cuda: no NVIDIA_VISIBLE_DEVICES for the container toolkit")
    return stages


def endpoint_port(endpoint, where):
    m = re.fullmatch(r"tcp://([^:]+):(\d+)", endpoint or "")
    if not m:
        fail(f"{where}: '{endpoint}' is not a tcp://HOST:PORT endpoint")
        return 0
    return int(m.group(2))


# --- the manifests ------------------------------------------------------------------
def workloads(docs):
    return [d for d in docs if d["kind"] in ("Deployment", "DaemonSet")]


KEY_FLAGS = {"p2c2r-coordinator": ("--curve-secret", "--allow-peers", "--allow-clients"),
             "p2c2r-peer": ("--curve-secret", "--coordinator-key")}


def check_keys(where, program, given, c, pod):
    """CurveZMQ keys: every key flag the program needs is given, and names a file in a
    volume made from a Secret, mounted read-only, readable by the pod's fsGroup."""
    secrets = {v["name"]: v["secret"] for v in pod.get("volumes", []) if "secret" in v}
    mounts = [m for m in c.get("volumeMounts", []) if m["name"] in secrets]
    for flag in KEY_FLAGS[program]:
        path = given.get(flag)
        if not path:
            fail(f"{where}: no {flag}: keys come from a Secret")
            continue
        m = [m for m in mounts if path.startswith(m["mountPath"].rstrip("/") + "/")]
        if not m:
            fail(f"{where}: {flag} {path} is not in a volume made from a Secret")
            continue
        if not m[0].get("readOnly"):
            fail(f"{where}: the Secret volume at {m[0]['mountPath']} is not read-only")
        mode = secrets[m[0]["name"]].get("defaultMode", 0o644)
        if mode & 0o007 or not mode & 0o040 or pod.get("securityContext", {}).get("fsGroup") is None:
            fail(f"{where}: key files want a mode readable by the pod's fsGroup only, "
                 f"has {oct(mode)}")


def check_workload(d, flags, version, uid, services):
    name = d["metadata"]["name"]
    spec = d["spec"]
    tpl = spec["template"]
    labels = tpl["metadata"].get("labels", {})
    if any(labels.get(k) != v for k, v in spec["selector"]["matchLabels"].items()):
        fail(f"{name}: selector does not match the pod template's labels")
    pod = tpl["spec"]
    psc = pod.get("securityContext", {})
    if psc.get("runAsNonRoot") is not True or psc.get("runAsUser") != uid:
        fail(f"{name}: must run as non-root user {uid}, the image's")
    for c in pod["containers"]:
        where = f"{name}/{c['name']}"
        m = re.fullmatch(r"p2c2r/(coordinator|peer-cpu|peer-cuda):(\S+)", c["image"])
        if not m:
            fail(f"{where}: image {c['image']} is not one the Containerfile builds")
            continue
        if m.group(2) != version:
            fail(f"{where}: image tag {m.group(2)} is not the project's version {version}")
        target = m.group(1)
        program = "p2c2r-coordinator" if target == "coordinator" else "p2c2r-peer"
        if c.get("command"):
            fail(f"{where}: command replaces the image's entrypoint")
        defined = {e["name"] for e in c.get("env", [])}
        for var in re.findall(r"\$\((\w+)\)", " ".join(c.get("args", []))):
            if var not in defined:
                fail(f"{where}: $({var}) is not defined in env")
        given = check_args(c.get("args", []), flags[program], where + " args", errors)
        sc = c.get("securityContext", {})
        if sc.get("allowPrivilegeEscalation") is not False or not sc.get("readOnlyRootFilesystem"):
            fail(f"{where}: wants allowPrivilegeEscalation false, readOnlyRootFilesystem")
        ports = {p["name"]: p["containerPort"] for p in c.get("ports", [])}
        for probe in ("readinessProbe", "livenessProbe", "startupProbe"):
            if probe in c:
                port = c[probe].get("tcpSocket", {}).get("port")
                if port not in ports and port not in ports.values():
                    fail(f"{where}: {probe} port {port} is not a container port")
        check_keys(where, program, given, c, pod)
        gpus = c.get("resources", {}).get("limits", {}).get("nvidia.com/gpu", 0)
        if target == "coordinator":
            for flag, port_name in (("--clients", "clients"), ("--peers", "peers")):
                if endpoint_port(given.get(flag), where + " " + flag) != ports.get(port_name):
                    fail(f"{where}: {flag} {given.get(flag)} is not container port {port_name}")
            for svc in services:
                if any(labels.get(k) != v for k, v in svc["spec"]["selector"].items()):
                    fail(f"service {svc['metadata']['name']}: selects no coordinator pod")
                for p in svc["spec"]["ports"]:
                    if p["targetPort"] not in ports:
                        fail(f"service {svc['metadata']['name']}: targetPort {p['targetPort']}"
                             " is not a named port of the coordinator")
        else:
            endpoint = given.get("--coordinator", "")
            m = re.fullmatch(r"tcp://([^:]+):(\d+)", endpoint)
            svc = [s for s in services if m and s["metadata"]["name"] == m.group(1).split(".")[0]]
            peers = [p for s in svc for p in s["spec"]["ports"] if p["targetPort"] == "peers"]
            if not peers or int(m.group(2)) != peers[0]["port"]:
                fail(f"{where}: --coordinator {endpoint} is not a Service's peers port")
            if target == "peer-cuda" and (d["kind"] != "DaemonSet" or int(gpus) < 1):
                fail(f"{where}: GPU peers are a DaemonSet requesting nvidia.com/gpu")
            if target == "peer-cpu" and gpus:
                fail(f"{where}: a CPU peer requests a GPU")
    return {c["image"].split(":")[0] for c in pod["containers"]}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--deploy", required=True, help="the deploy/ folder")
    ap.add_argument("--version", required=True, help="the project's version")
    ap.add_argument("--program", action="append", required=True, help="built program")
    a = ap.parse_args()
    flags = {os.path.basename(p): program_flags(p) for p in a.program}

    stages = containerfile(os.path.join(a.deploy, "container", "Containerfile"), flags)
    uid = stages.get("coordinator", {}).get("uid")

    kdir = os.path.join(a.deploy, "kubernetes")
    kust = yaml.safe_load(open(os.path.join(kdir, "kustomization.yaml")))
    files = sorted(os.path.basename(f) for f in glob.glob(os.path.join(kdir, "*.yaml"))
                   if not f.endswith("kustomization.yaml"))
    if sorted(kust.get("resources", [])) != files:
        fail(f"kustomization resources {kust.get('resources')} are not the manifests {files}")
    docs = []
    for f in files:
        for d in yaml.safe_load_all(open(os.path.join(kdir, f))):
            key = (d.get("apiVersion"), d.get("kind"))
            if key not in MODELS:
                fail(f"{f}: unexpected object {key}")
                continue
            check_model(d, MODELS[key], f"{f}:{d['kind']}/{d['metadata']['name']}")
            ns = d["metadata"]["name"] if d["kind"] == "Namespace" else d["metadata"].get("namespace")
            if ns != kust.get("namespace"):
                fail(f"{f}: {d['kind']}/{d['metadata']['name']} not in namespace {kust.get('namespace')}")
            docs.append(d)
    if errors:  # the rest reads fields the models vouch for
        return report(errors, "manifests: not all objects valid")
    services = [d for d in docs if d["kind"] == "Service"]
    images = set()
    for d in workloads(docs):
        images |= check_workload(d, flags, a.version, uid, services)
    for want in ("p2c2r/coordinator", "p2c2r/peer-cuda", "p2c2r/peer-cpu"):
        if want not in images:
            fail(f"no workload runs {want}")
    return report(errors, f"manifests: {len(docs)} objects checked")


if __name__ == "__main__":
    sys.exit(main())
