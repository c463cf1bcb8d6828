#!/usr/bin/env python3
# SPDX-License-Identifier: LGPL-2.1-or-later
"""Translate vigil's DaemonSet into the `docker run` that runs its pod on
this host, so the manifest can be tried (and tested) without a cluster.

Usage: to-docker.py [options] MANIFEST|DIR...

Reads every YAML document of the files given (a directory: its *.yaml
files), takes the one DaemonSet and the ConfigMaps it mounts, and prints
the docker command, or with --json an object:
  {"docker": [argv...], "name": NAME, "image": IMAGE,
   "readiness": {"exec": [argv...], "periodSeconds": N, ...} or null,
   "liveness": ... or null, "notes": [...]}
A probe is run as `docker exec NAME ARGV...`, as the kubelet runs it
(docker's own health checks need a shell in the image).

Every field is translated or refused: a field with no docker meaning
makes the script exit 1 naming it, never silently dropped. The mapping:

  hostPID / hostIPC / hostNetwork   --pid host / --ipc host / --network host
  (pod network)                     --network MODE, which must be given:
                                    docker has no pod network
  ports                             hostPort: -p [hostIP:]hostPort:port/proto;
                                    otherwise --expose port/proto (reached
                                    in the pod's network namespace)
  command / args                    --entrypoint command[0], then the rest
                                    of command and args after the image;
                                    $(VAR) expanded as the kubelet does
  env value / fieldRef              -e NAME=VALUE; a fieldRef's value
                                    comes from --field PATH=VALUE
  imagePullPolicy                   Always: --pull always; else nothing
  resources limits cpu / memory     --cpus / --memory
  resources requests cpu / memory   --cpu-shares (milli-CPU * 1024 / 1000,
                                    as the kubelet) / --memory-reservation
  securityContext
    privileged                      --privileged
    allowPrivilegeEscalation false  --security-opt no-new-privileges
    readOnlyRootFilesystem          --read-only
    runAsUser / runAsGroup          --user UID[:GID]
    capabilities drop / add         --cap-drop / --cap-add, names without
                                    CAP_; docker 20.10 knows no BPF,
                                    PERFMON or CHECKPOINT_RESTORE (split
                                    from SYS_ADMIN in Linux 5.8 and 5.9):
                                    each becomes SYS_ADMIN
    seccompProfile                  RuntimeDefault: docker's default;
                                    Unconfined: --security-opt
                                    seccomp=unconfined; Localhost: seccomp=
                                    FILE under --seccomp-root
    appArmorProfile                 RuntimeDefault: docker's default;
                                    Unconfined / Localhost NAME:
                                    --security-opt apparmor=...
  volumes + volumeMounts
    hostPath (type "" or            -v HOST:PATH[:ro], which creates HOST
      DirectoryOrCreate)            when missing, as the kubelet does
    hostPath (other types)          --mount type=bind,... after checking
                                    HOST is of that type, as the kubelet
    configMap                       its data written under --configmap-dir,
                                    bound read-only
    emptyDir                        --mount type=tmpfs (sizeLimit: size)
    mountPropagation                HostToContainer: rslave;
                                    Bidirectional: rshared
  service account token             --service-account-dir DIR bound where
                                    the kubelet mounts the token
  restartPolicy (Always)            --restart always
  terminationGracePeriodSeconds     --stop-timeout
  labels, annotations               --label
Fields about placing pods on a cluster's nodes (tolerations,
nodeSelector, affinity, priorityClassName, the DaemonSet's selector and
update strategy...) do not change the container: they are listed in the
notes. Namespaces, service accounts and RBAC objects are cluster
objects: noted, nothing to run.

Options:
  --name NAME            the container's name (default: the DaemonSet's)
  --network MODE         docker network standing for the pod network
  --field PATH=VALUE     the value of a fieldRef (status.hostIP, ...)
  --host-path HOST=ALT   use ALT where a hostPath names HOST (a test
                         keeps off the host's real /run/vigil)
  --configmap-dir DIR    where ConfigMap volumes are written
  --service-account-dir DIR
                         the token, ca.crt and namespace to mount
  --seccomp-root DIR     the kubelet's seccomp directory (Localhost)
  --json                 print JSON instead of a shell command
  --run                  run it (docker run -d), print the container id
"""

import argparse
import base64
import json
import os
import re
import shlex
import stat
import sys

import yaml

SA_PATH = "/var/run/secrets/kubernetes.io/serviceaccount"

# docker 20.10 (moby's capability list of its time) has no name for these
# capabilities, split from CAP_SYS_ADMIN by later kernels: SYS_ADMIN
# grants what they grant.
DOCKER_CAP_MAP = {
    "BPF": "SYS_ADMIN",
    "PERFMON": "SYS_ADMIN",
    "CHECKPOINT_RESTORE": "SYS_ADMIN",
}

# Where pods are placed, not what a pod's container is.
PLACEMENT_SPEC = {"tolerations", "nodeSelector", "affinity",
                  "priorityClassName", "priority", "schedulerName",
                  "topologySpreadConstraints"}
DS_SPEC_PLACEMENT = {"selector", "updateStrategy", "minReadySeconds",
                     "revisionHistoryLimit"}
CLUSTER_KINDS = {"Namespace", "ServiceAccount", "ClusterRole",
                 "ClusterRoleBinding", "Role", "RoleBinding", "Kustomization"}


class Refused(Exception):
    """A field with no docker translation; the message names it."""


def refuse(path, why):
    raise Refused("%s: %s" % (path, why))


def fields(obj, path, known):
    """obj as a dict whose keys are all in known; refuses any other."""
    if obj is None:
        return {}
    if not isinstance(obj, dict):
        refuse(path, "expected a mapping")
    for k in obj:
        if k not in known:
            refuse("%s.%s" % (path, k), "no docker equivalent")
    return obj


def expand(s, env):
    """$(VAR) as the kubelet expands it: known names replaced, $$(X) kept
    as $(X), anything else left as written."""
    def sub(m):
        if m.group(0).startswith("$$"):
            return m.group(0)[1:]
        name = m.group(1)
        return env[name] if name in env else m.group(0)
    return re.sub(r"\$\$\([A-Za-z_][A-Za-z0-9_.-]*\)|\$\(([A-Za-z_][A-Za-z0-9_.-]*)\)",
                  sub, s)


def parse_cpu(v, path):
    """CPU quantity as milli-CPUs."""
    s = str(v)
    m = re.fullmatch(r"([0-9]+(?:\.[0-9]+)?)(m?)", s)
    if not m:
        refuse(path, "CPU quantity %r not understood" % s)
    n = float(m.group(1))
    return int(round(n if m.group(2) else n * 1000))


MEM_UNITS = {"": 1, "k": 10**3, "M": 10**6, "G": 10**9, "T": 10**12,
             "Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "Ti": 2**40}


def parse_mem(v, path):
    s = str(v)
    m = re.fullmatch(r"([0-9]+)(k|M|G|T|Ki|Mi|Gi|Ti)?", s)
    if not m:
        refuse(path, "memory quantity %r not understood" % s)
    return int(m.group(1)) * MEM_UNITS[m.group(2) or ""]


def cap_name(c, path):
    if not isinstance(c, str) or not re.fullmatch(r"(CAP_)?[A-Z_]+", c):
        refuse(path, "capability %r not understood" % (c,))
    return c[4:] if c.startswith("CAP_") else c


class Translation:
    def __init__(self, opts):
        self.opts = opts
        self.argv = []
        self.notes = []
        self.after_image = []
        self.probes = {"readiness": None, "liveness": None}
        self.entrypoint = None

    def add(self, *a):
        self.argv.extend(a)

    def note(self, s):
        self.notes.append(s)


def load(paths):
    docs = []
    for p in paths:
        files = [p]
        if os.path.isdir(p):
            files = sorted(os.path.join(p, f) for f in os.listdir(p)
                           if f.endswith((".yaml", ".yml")))
        for f in files:
            with open(f, encoding="utf-8") as fh:
                for d in yaml.safe_load_all(fh):
                    if d is not None:
                        docs.append((f, d))
    return docs


def host_path(t, src):
    for m in t.opts.host_path:
        if src == m[0]:
            return m[1]
    return src


def check_host_type(path, kind, where):
    """The kubelet's check of a hostPath's type, on this host."""
    try:
        st = os.stat(path)
    except OSError as e:
        refuse(where, "hostPath %s (%s): %s" % (path, kind, e.strerror))
    want = {"Directory": stat.S_ISDIR, "File": stat.S_ISREG,
            "FileOrCreate": stat.S_ISREG, "Socket": stat.S_ISSOCK,
            "CharDevice": stat.S_ISCHR, "BlockDevice": stat.S_ISBLK}[kind]
    if not want(st.st_mode):
        refuse(where, "hostPath %s is not a %s" % (path, kind))


def configmap_dir(t, cms, ns, vol, where):
    spec = fields(vol, where, {"name", "items", "defaultMode", "optional"})
    name = spec.get("name")
    cm = cms.get((ns, name))
    if cm is None:
        refuse(where, "ConfigMap %s/%s is not among the manifests" % (ns, name))
    if not t.opts.configmap_dir:
        refuse(where, "a configMap volume needs --configmap-dir")
    fields(cm, "ConfigMap %s" % name, {"apiVersion", "kind", "metadata",
                                         "data", "binaryData", "immutable"})
    data = {k: v.encode() for k, v in (cm.get("data") or {}).items()}
    for k, v in (cm.get("binaryData") or {}).items():
        data[k] = base64.b64decode(v)
    items = spec.get("items")
    if items is None:
        items = [{"key": k, "path": k} for k in data]
    out = os.path.join(t.opts.configmap_dir, name)
    os.makedirs(out, exist_ok=True)
    mode = spec.get("defaultMode", 0o644)
    for i, it in enumerate(items):
        it = fields(it, "%s.items[%d]" % (where, i), {"key", "path", "mode"})
        key, rel = it.get("key"), it.get("path")
        if key not in data:
            refuse(where, "ConfigMap %s has no key %r" % (name, key))
        if not rel or rel.startswith("/") or ".." in rel.split("/"):
            refuse("%s.items[%d].path" % (where, i), "not a relative path")
        dst = os.path.join(out, rel)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        with open(dst, "wb") as fh:
            fh.write(data[key])
        os.chmod(dst, it.get("mode", mode))
    return out


def volumes(t, pod, ctr, cms, ns):
    vols = {}
    for i, v in enumerate(pod.get("volumes") or []):
        where = "spec.template.spec.volumes[%d]" % i
        v = fields(v, where, {"name", "hostPath", "configMap", "emptyDir"})
        if len(v) != 2:
            refuse(where, "one name and one volume source expected")
        vols[v["name"]] = (where, v)
    used = set()
    for i, m in enumerate(ctr.get("volumeMounts") or []):
        where = "containers[0].volumeMounts[%d]" % i
        m = fields(m, where, {"name", "mountPath", "readOnly", "subPath",
                              "mountPropagation"})
        if m["name"] not in vols:
            refuse(where, "no volume %r" % m["name"])
        used.add(m["name"])
        vwhere, v = vols[m["name"]]
        dst, ro = m["mountPath"], bool(m.get("readOnly"))
        prop = {None: None, "None": None, "HostToContainer": "rslave",
                "Bidirectional": "rshared"}
        if m.get("mountPropagation") not in prop:
            refuse(where + ".mountPropagation", "unknown value")
        prop = prop[m.get("mountPropagation")]
        if "hostPath" in v:
            hp = fields(v["hostPath"], vwhere + ".hostPath", {"path", "type"})
            src = host_path(t, hp["path"])
            if m.get("subPath"):
                src = os.path.join(src, m["subPath"])
            kind = hp.get("type") or ""
            if ":" in src or ":" in dst or "," in src or "," in dst:
                refuse(where, "a path with ':' or ','")
            if kind in ("", "DirectoryOrCreate"):
                o = ",".join(x for x in ("ro" if ro else "", prop) if x)
                t.add("-v", "%s:%s%s" % (src, dst, ":" + o if o else ""))
                continue
            if kind not in ("Directory", "File", "Socket", "CharDevice",
                            "BlockDevice"):
                refuse(vwhere + ".hostPath.type", "%r not translated" % kind)
            check_host_type(src, kind, vwhere)
            spec = "type=bind,src=%s,dst=%s" % (src, dst)
        elif "configMap" in v:
            if m.get("subPath"):
                refuse(where + ".subPath", "not translated for a configMap")
            src = configmap_dir(t, cms, ns, v["configMap"], vwhere + ".configMap")
            spec, ro = "type=bind,src=%s,dst=%s" % (src, dst), True
        else:
            ed = fields(v["emptyDir"], vwhere + ".emptyDir",
                        {"medium", "sizeLimit"})
            if m.get("subPath") or prop:
                refuse(where, "subPath or propagation on an emptyDir")
            spec = "type=tmpfs,dst=%s" % dst
            if ed.get("sizeLimit") is not None:
                spec += ",tmpfs-size=%d" % parse_mem(ed["sizeLimit"],
                                                     vwhere + ".emptyDir.sizeLimit")
            if ed.get("medium") not in (None, "", "Memory"):
                refuse(vwhere + ".emptyDir.medium", "not translated")
        if ro:
            spec += ",readonly"
        if prop:
            spec += ",bind-propagation=" + prop
        t.add("--mount", spec)
    for name in vols:
        if name not in used:
            t.note("volume %s is mounted by no container" % name)


POD_SECURITY = {"runAsUser", "runAsGroup", "runAsNonRoot", "seccompProfile",
                "appArmorProfile"}
CONTAINER_SECURITY = POD_SECURITY | {"privileged", "allowPrivilegeEscalation",
                                     "readOnlyRootFilesystem", "capabilities",
                                     "procMount"}


def security(t, sc, where, known):
    """The docker flags of a securityContext, and its user settings."""
    sc = fields(sc, where, known)
    out = []
    if sc.get("privileged"):
        out.append(("--privileged",))
    if sc.get("allowPrivilegeEscalation") is False:
        out.append(("--security-opt", "no-new-privileges"))
    if sc.get("readOnlyRootFilesystem"):
        out.append(("--read-only",))
    if sc.get("procMount") not in (None, "Default"):
        refuse(where + ".procMount", "only Default is translated")
    caps = fields(sc.get("capabilities"), where + ".capabilities",
                  {"add", "drop"})
    for c in caps.get("drop") or []:
        out.append(("--cap-drop", cap_name(c, where + ".capabilities.drop")))
    seen = set()
    for c in caps.get("add") or []:
        n = cap_name(c, where + ".capabilities.add")
        if n in DOCKER_CAP_MAP:
            t.note("CAP_%s: docker 20.10 has no such name; CAP_%s stands for it"
                   % (n, DOCKER_CAP_MAP[n]))
            n = DOCKER_CAP_MAP[n]
        if n not in seen:
            seen.add(n)
            out.append(("--cap-add", n))
    sp = fields(sc.get("seccompProfile"), where + ".seccompProfile",
                {"type", "localhostProfile"})
    if sp:
        if sp.get("type") == "Unconfined":
            out.append(("--security-opt", "seccomp=unconfined"))
        elif sp.get("type") == "Localhost":
            if not t.opts.seccomp_root:
                refuse(where + ".seccompProfile", "Localhost needs --seccomp-root")
            out.append(("--security-opt", "seccomp=" + os.path.join(
                t.opts.seccomp_root, sp.get("localhostProfile", ""))))
        elif sp.get("type") != "RuntimeDefault":
            refuse(where + ".seccompProfile.type", "unknown value")
    ap = fields(sc.get("appArmorProfile"), where + ".appArmorProfile",
                {"type", "localhostProfile"})
    if ap:
        if ap.get("type") == "Unconfined":
            out.append(("--security-opt", "apparmor=unconfined"))
        elif ap.get("type") == "Localhost":
            out.append(("--security-opt", "apparmor=" + ap.get("localhostProfile", "")))
        elif ap.get("type") != "RuntimeDefault":
            refuse(where + ".appArmorProfile.type", "unknown value")
    user = sc.get("runAsUser")
    return out, user, sc.get("runAsGroup"), sc.get("runAsNonRoot")


def probe(p, where):
    if p is None:
        return None
    p = fields(p, where, {"exec", "initialDelaySeconds", "periodSeconds",
                          "timeoutSeconds", "failureThreshold",
                          "successThreshold"})
    ex = fields(p.get("exec"), where + ".exec", {"command"})
    if not ex.get("command"):
        refuse(where, "only exec probes are translated")
    out = {k: v for k, v in p.items() if k != "exec"}
    out["exec"] = [str(a) for a in ex["command"]]
    return out


def translate(t, docs):
    ds, cms = [], {}
    for f, d in docs:
        kind = d.get("kind") if isinstance(d, dict) else None
        if kind == "DaemonSet":
            ds.append(d)
        elif kind == "ConfigMap":
            md = d.get("metadata") or {}
            cms[(md.get("namespace", "default"), md.get("name"))] = d
        elif kind in CLUSTER_KINDS:
            t.note("%s in %s: a cluster object, nothing to run" % (kind, f))
        else:
            refuse("%s: kind %s" % (f, kind), "no docker equivalent")
    if len(ds) != 1:
        refuse("DaemonSet", "exactly one expected, found %d" % len(ds))
    d = fields(ds[0], "DaemonSet", {"apiVersion", "kind", "metadata", "spec"})
    md = fields(d.get("metadata"), "metadata",
                {"name", "namespace", "labels", "annotations"})
    ns = md.get("namespace", "default")
    spec = fields(d.get("spec"), "spec", DS_SPEC_PLACEMENT | {"template"})
    for k in sorted(set(spec) & DS_SPEC_PLACEMENT):
        t.note("spec.%s: about the cluster's nodes, not the container" % k)
    tpl = fields(spec.get("template"), "spec.template", {"metadata", "spec"})
    tmd = fields(tpl.get("metadata"), "spec.template.metadata",
                 {"labels", "annotations"})
    pod = fields(tpl.get("spec"), "spec.template.spec",
                 PLACEMENT_SPEC | {"hostPID", "hostIPC", "hostNetwork",
                                   "serviceAccountName", "serviceAccount",
                                   "automountServiceAccountToken",
                                   "securityContext", "containers",
                                   "volumes", "restartPolicy",
                                   "terminationGracePeriodSeconds"})
    for k in sorted(set(pod) & PLACEMENT_SPEC):
        t.note("spec.template.spec.%s: about the cluster's nodes, not the container" % k)

    name = t.opts.name or md.get("name")
    t.add("--name", name)
    for k, v in sorted(((tmd.get("labels") or {}) | (tmd.get("annotations") or {})).items()):
        t.add("--label", "%s=%s" % (k, v))
    if pod.get("restartPolicy", "Always") != "Always":
        refuse("spec.template.spec.restartPolicy", "a DaemonSet's is Always")
    t.add("--restart", "always")
    if "terminationGracePeriodSeconds" in pod:
        t.add("--stop-timeout", str(int(pod["terminationGracePeriodSeconds"])))
    if pod.get("hostPID"):
        t.add("--pid", "host")
    if pod.get("hostIPC"):
        t.add("--ipc", "host")
    if pod.get("hostNetwork"):
        if t.opts.network and t.opts.network != "host":
            refuse("spec.template.spec.hostNetwork", "--network %s contradicts it"
                   % t.opts.network)
        t.add("--network", "host")
    elif t.opts.network:
        t.add("--network", t.opts.network)
    else:
        refuse("spec.template.spec (pod network)",
               "docker has no pod network; give --network MODE")

    ctrs = pod.get("containers") or []
    if len(ctrs) != 1:
        refuse("spec.template.spec.containers", "one container expected, found %d" % len(ctrs))
    c = fields(ctrs[0], "containers[0]",
               {"name", "image", "imagePullPolicy", "command", "args", "env",
                "ports", "resources", "securityContext", "volumeMounts",
                "readinessProbe", "livenessProbe", "workingDir"})

    # the service account's token, where the kubelet would mount it
    sa = pod.get("serviceAccountName") or pod.get("serviceAccount")
    if pod.get("automountServiceAccountToken", True) and sa:
        if not t.opts.service_account_dir:
            refuse("spec.template.spec.serviceAccountName",
                   "its token has no docker equivalent; give --service-account-dir")
        t.add("--mount", "type=bind,src=%s,dst=%s,readonly"
              % (t.opts.service_account_dir, SA_PATH))

    # env, in order: a value may use the names defined before it
    env = {}
    for i, e in enumerate(c.get("env") or []):
        where = "containers[0].env[%d]" % i
        e = fields(e, where, {"name", "value", "valueFrom"})
        if "valueFrom" in e:
            vf = fields(e["valueFrom"], where + ".valueFrom", {"fieldRef"})
            fr = fields(vf.get("fieldRef"), where + ".valueFrom.fieldRef",
                        {"fieldPath", "apiVersion"})
            fp = fr.get("fieldPath")
            if fp not in t.opts.field:
                refuse(where + ".valueFrom.fieldRef",
                       "%s has no docker equivalent; give --field %s=VALUE" % (fp, fp))
            val = t.opts.field[fp]
        else:
            val = expand(str(e.get("value", "")), env)
        env[e["name"]] = val
        t.add("-e", "%s=%s" % (e["name"], val))

    for i, p in enumerate(c.get("ports") or []):
        where = "containers[0].ports[%d]" % i
        p = fields(p, where, {"name", "containerPort", "protocol", "hostPort", "hostIP"})
        proto = p.get("protocol", "TCP").lower()
        if proto not in ("tcp", "udp", "sctp"):
            refuse(where + ".protocol", "unknown value")
        if pod.get("hostNetwork"):
            continue
        if p.get("hostPort"):
            hip = p.get("hostIP")
            t.add("-p", "%s%d:%d/%s" % (hip + ":" if hip else "", p["hostPort"],
                                        p["containerPort"], proto))
        else:
            t.add("--expose", "%d/%s" % (p["containerPort"], proto))

    res = fields(c.get("resources"), "containers[0].resources", {"limits", "requests"})
    lim = fields(res.get("limits"), "containers[0].resources.limits", {"cpu", "memory"})
    req = fields(res.get("requests"), "containers[0].resources.requests", {"cpu", "memory"})
    if "cpu" in lim:
        t.add("--cpus", "%g" % (parse_cpu(lim["cpu"], "limits.cpu") / 1000))
    if "memory" in lim:
        t.add("--memory", str(parse_mem(lim["memory"], "limits.memory")))
    if "cpu" in req:
        t.add("--cpu-shares", str(max(2, parse_cpu(req["cpu"], "requests.cpu") * 1024 // 1000)))
    if "memory" in req:
        t.add("--memory-reservation", str(parse_mem(req["memory"], "requests.memory")))

    pflags, puser, pgroup, pnonroot = security(t, pod.get("securityContext"),
                                               "spec.template.spec.securityContext",
                                               POD_SECURITY)
    cflags, cuser, cgroup, cnonroot = security(t, c.get("securityContext"),
                                               "containers[0].securityContext",
                                               CONTAINER_SECURITY)
    # the container's settings win over the pod's
    copts = {f[0] for f in cflags}
    for f in pflags:
        if f[0] not in copts or f[0] == "--security-opt":
            t.add(*f)
    for f in cflags:
        t.add(*f)
    user = cuser if cuser is not None else puser
    group = cgroup if cgroup is not None else pgroup
    nonroot = cnonroot if cnonroot is not None else pnonroot
    if nonroot and user in (None, 0):
        refuse("securityContext.runAsNonRoot",
               "needs a non-zero runAsUser to translate")
    if user is not None:
        t.add("--user", "%d%s" % (user, ":%d" % group if group is not None else ""))
    elif group is not None:
        refuse("securityContext.runAsGroup", "without runAsUser")

    volumes(t, pod, c, cms, ns)

    if c.get("workingDir"):
        t.add("-w", c["workingDir"])
    if c.get("imagePullPolicy") == "Always":
        t.add("--pull", "always")
    elif c.get("imagePullPolicy") not in (None, "IfNotPresent", "Never"):
        refuse("containers[0].imagePullPolicy", "unknown value")

    cmd = [expand(str(a), env) for a in c.get("command") or []]
    args = [expand(str(a), env) for a in c.get("args") or []]
    if cmd:
        t.add("--entrypoint", cmd[0])
    t.image = c.get("image")
    if not t.image:
        refuse("containers[0].image", "missing")
    t.after_image = cmd[1:] + args
    t.name = name
    t.probes["readiness"] = probe(c.get("readinessProbe"), "containers[0].readinessProbe")
    t.probes["liveness"] = probe(c.get("livenessProbe"), "containers[0].livenessProbe")


def pair(s):
    if "=" not in s:
        raise argparse.ArgumentTypeError("%r: NAME=VALUE expected" % s)
    return tuple(s.split("=", 1))


def main():
    ap = argparse.ArgumentParser(
        prog="to-docker.py", description="Run vigil's DaemonSet with docker.",
        epilog="The mapping is in this script's opening comment.")
    ap.add_argument("manifests", nargs="+")
    ap.add_argument("--name")
    ap.add_argument("--network")
    ap.add_argument("--field", type=pair, action="append", default=[])
    ap.add_argument("--host-path", type=pair, action="append", default=[])
    ap.add_argument("--configmap-dir")
    ap.add_argument("--service-account-dir")
    ap.add_argument("--seccomp-root")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--run", action="store_true")
    opts = ap.parse_args()
    opts.field = dict(opts.field)

    t = Translation(opts)
    try:
        translate(t, load(opts.manifests))
    except Refused as e:
        print("to-docker.py: refused: %s" % e, file=sys.stderr)
        return 1
    except (OSError, yaml.YAMLError, KeyError, TypeError, ValueError) as e:
        print("to-docker.py: %s: %s" % (type(e).__name__, e), file=sys.stderr)
        return 1

    docker = ["docker", "run"] + (["-d"] if opts.run else []) + t.argv + \
        [t.image] + t.after_image
    for n in t.notes:
        print("to-docker.py: note: %s" % n, file=sys.stderr)
    if opts.run:
        os.execvp("docker", docker)
    if opts.json:
        json.dump({"docker": docker, "name": t.name, "image": t.image,
                   "readiness": t.probes["readiness"],
                   "liveness": t.probes["liveness"], "notes": t.notes},
                  sys.stdout, indent=1)
        print()
    else:
        print(shlex.join(docker))
        for k, p in t.probes.items():
            if p:
                print("# %s: docker exec %s %s" % (k, t.name, shlex.join(p["exec"])))
    return 0


if __name__ == "__main__":
    sys.exit(main())
