#!/usr/bin/env python3
"""Bowline benchmarks: the data plane side by side with nginx, HAProxy and a direct connection.

Run through `bench/run` (which checks the tools and builds); see bench/README.md. Everything binds 127.0.0.1 on free
ports, everything started here is stopped on exit (also on Ctrl-C / failure).
"""
import argparse
import contextlib
import datetime
import json
import math
import os
import re
import shutil
import signal
import statistics
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BIN = os.path.join(ROOT, "artifacts", "bin")
PROXY_DLL = os.path.join(BIN, "Bowline.Proxy", "release", "Bowline.Proxy.dll")
# The Native AOT proxy (`./bowline build-aot`); `bowline up` runs it instead of the dll while it is at least as new as
# the JIT build of the proxy and its Bowline.Api (else it is stale). bench/run applies the same rule (--proxy auto).
PROXY_AOT = os.path.join(ROOT, "artifacts", "aot", "publish", "Bowline.Proxy", "release_linux-x64", "Bowline.Proxy")
PROXY_JIT_PARTS = [PROXY_DLL, os.path.join(BIN, "Bowline.Proxy", "release", "Bowline.Api.dll")]


def proxy_command(kind, path=None):
    """(argv prefix, label) of the proxy binary: 'jit', 'aot', or 'auto' (what `bowline up` would run); `path` (an
    executable, e.g. an AOT build published elsewhere with other build settings) overrides them."""
    if path:
        return [os.path.abspath(path)], f"Native AOT ({path})"
    fresh = os.path.exists(PROXY_AOT) and all(
        os.path.getmtime(PROXY_AOT) >= os.path.getmtime(p) for p in PROXY_JIT_PARTS if os.path.exists(p))
    if kind == "aot" or (kind == "auto" and fresh):
        if not os.path.exists(PROXY_AOT):
            raise SystemExit("bench/run: no AOT proxy; build it with ./bowline build-aot")
        return [PROXY_AOT], "Native AOT (net9.0, artifacts/aot)"
    return ["dotnet", PROXY_DLL], "JIT (net10.0, dotnet Bowline.Proxy.dll)"
# What `bowline up` sets for the JIT proxy (UpRunner.JitProxyEnvironment); the AOT build has it compiled in.
# --env overrides it.
JIT_PROXY_ENV = {"DOTNET_GCgen0size": "400000"}
CP_DLL = os.path.join(BIN, "Bowline.ControlPlane", "release", "Bowline.ControlPlane.dll")
LOADGEN_DLL = os.path.join(BIN, "Bowline.Bench.LoadGen", "release", "Bowline.Bench.LoadGen.dll")
RESULTS = os.path.join(HERE, "results")
CLK_TCK = os.sysconf("SC_CLK_TCK")

# Core layout (2 cores): everything measured (the proxy or proxies) on PROXY_CORE; load generator and upstream on
# LOAD_CORE in every scenario, including `direct`.
LOAD_CORE = "0"
PROXY_CORE = "1"


def log(msg):
    print(f"[bench {time.strftime('%H:%M:%S')}] {msg}", flush=True)


# ---------------------------------------------------------------------------------------------------------------
# Processes: every one in its own session, so stopping its group stops whatever it forked (nginx workers).


class Procs:
    def __init__(self):
        self.procs = []

    def start(self, name, argv, core=None, env=None, logdir=None, inherit=False):
        if core is not None:
            argv = ["taskset", "-c", core] + argv
        out = None if inherit else open(os.path.join(logdir, f"{name}.log"), "wb") if logdir else subprocess.DEVNULL
        full_env = dict(os.environ)
        full_env.update(env or {})
        p = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                             start_new_session=True, env=full_env)
        p.bench_name = name
        p.started_at = time.monotonic()
        self.procs.append(p)
        return p

    def stop(self, p, grace=5.0):
        if p.poll() is None:
            try:
                os.killpg(p.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
            try:
                p.wait(grace)
            except subprocess.TimeoutExpired:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                p.wait()
        else:
            # The leader is gone; its group (e.g. nginx workers) may not be.
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if p in self.procs:
            self.procs.remove(p)

    def stop_all(self):
        for p in reversed(list(self.procs)):
            self.stop(p)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def http_status(url, host=None, timeout=1.0):
    req = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            r.read()
            return r.status
    except urllib.error.HTTPError as e:
        return e.code
    except (urllib.error.URLError, ConnectionError, socket.timeout, OSError):
        return None


def wait_http(url, proc=None, host=None, timeout=60.0, interval=0.005):
    """Polls until 200; returns the monotonic time it first answered 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{proc.bench_name} exited ({proc.returncode}) before it was ready")
        if http_status(url, host, timeout=0.5) == 200:
            return time.monotonic()
        time.sleep(interval)
    raise RuntimeError(f"{url} not ready after {timeout:.0f} s")


def process_tree(pid):
    pids = [pid]
    i = 0
    while i < len(pids):
        try:
            for task in os.listdir(f"/proc/{pids[i]}/task"):
                with open(f"/proc/{pids[i]}/task/{task}/children") as f:
                    pids += [int(c) for c in f.read().split()]
        except OSError:
            pass
        i += 1
    # `taskset` execs, so the leader is the real process; drop duplicates.
    return sorted(set(pids))


def cpu_seconds(pids):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)
        except OSError:
            pass
    return total / CLK_TCK


def rss_mb(pids, field="VmRSS:"):
    total = 0
    for pid in pids:
        try:
            with open(f"/proc/{pid}/status") as f:
                for line in f:
                    if line.startswith(field):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total / 1024


class RssPeak:
    """Samples the summed RSS of some processes every 100 ms while in a `with` block."""

    def __init__(self, pids):
        self.pids = pids
        self.peak = 0.0
        self._stop = threading.Event()

    def __enter__(self):
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()
        return self

    def _run(self):
        while not self._stop.is_set():
            self.peak = max(self.peak, rss_mb(self.pids))
            self._stop.wait(0.1)

    def __exit__(self, *exc):
        self._stop.set()
        self._t.join()
        self.peak = max(self.peak, rss_mb(self.pids))


def run(argv, core=LOAD_CORE, timeout=None):
    r = subprocess.run(["taskset", "-c", core] + argv, capture_output=True, text=True, timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"{argv[0]} failed ({r.returncode}): {r.stderr.strip() or r.stdout.strip()}")
    return r.stdout


# ---------------------------------------------------------------------------------------------------------------
# Load tools


def wrk(url, host, seconds, connections=64):
    argv = ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if host:
        argv += ["-H", f"Host: {host}"]
    out = run(argv + [url], timeout=seconds + 60)
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = (int(bad.group(1)) if bad else 0) + (sum(int(x) for x in sock.groups()) if sock else 0)
    return {"rps": rps, "requests": total, "errors": errors}


def loadgen(targets, rate, connections, seconds, warmup, tmp, slice_s=1.0):
    """Open-loop fixed-rate run; `targets` is a list of (url, host or None). Several targets are interleaved in
    `slice_s`-second slices (bench/loadgen/Program.cs), `seconds` and `warmup` each; returns one result per target."""
    out = os.path.join(tmp, "loadgen.json")
    argv = ["dotnet", LOADGEN_DLL, "--rate", str(rate), "--connections", str(connections), "--duration", str(seconds),
            "--warmup", str(warmup), "--slice", str(slice_s), "--out", out]
    for url, host in targets:
        argv += ["--url", url] + (["--host", host] if host else [])
    total = (seconds + warmup) * len(targets) + len(targets) * slice_s * 2
    run(argv, timeout=total + 120)
    with open(out) as f:
        return json.load(f)["targets"]


def h2load(url, seconds, warmup, connections=16, streams=10):
    out = run(["h2load", "-t1", f"-c{connections}", f"-m{streams}", f"-D{seconds}", f"--warm-up-time={warmup}", url],
              timeout=seconds + warmup + 60)
    m = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", out)
    req = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, (\d+) failed, (\d+) errored", out)
    return {"rps": float(m.group(1)), "succeeded": int(req.group(4)), "failed": int(req.group(5)) + int(req.group(6))}


def stream_mbps(url, host):
    argv = ["curl", "-s", "-o", "/dev/null", "-w", "%{speed_download} %{size_download} %{http_code}"]
    if host:
        argv += ["-H", f"Host: {host}"]
    speed, size, code = run(argv + [url], timeout=300).split()
    if code != "200":
        raise RuntimeError(f"stream through {url}: HTTP {code}")
    return {"MBps": round(float(speed) / 1e6, 1), "bytes": int(size)}


def iperf3_gbps(seconds, tmp, procs, port=None, via=None):
    """iperf3 client → server (one-off) on loopback; `via` is a port that forwards to the server's (a TCP proxy)."""
    port = port or free_port()
    server = procs.start("iperf3-server", ["iperf3", "-s", "-1", "-B", "127.0.0.1", "-p", str(port)], core=LOAD_CORE,
                         logdir=tmp)
    # No connect probe: a one-off server (-1) would take the probe for its client. Its listening socket is awaited
    # instead (a fixed sleep lost the race on a loaded CI machine: the client got through the proxy before the server
    # listened, and iperf3 reported an error instead of a result).
    wait_listening(port, server)
    # The client shares the load core with the server, so the proxy's core holds only the proxy under test.
    out = run(["iperf3", "-c", "127.0.0.1", "-p", str(via or port), "-t", str(seconds), "-J"],
              core=LOAD_CORE if via else PROXY_CORE, timeout=seconds + 30)
    procs.stop(server)
    result = json.loads(out)
    if "sum_received" not in result.get("end", {}):
        raise RuntimeError(f"iperf3 to port {via or port}: {result.get('error', 'no result')}")
    return round(result["end"]["sum_received"]["bits_per_second"] / 1e9, 2)


def wait_listening(port, proc, timeout=10.0):
    """Until a socket listens on 127.0.0.1:`port` (read from /proc/net/tcp: no connection is made)."""
    entry = f"0100007F:{port:04X}"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.bench_name} exited ({proc.returncode}) before it listened on {port}")
        with open("/proc/net/tcp") as f:
            # Fields: sl, local_address, rem_address, st (0A = LISTEN), ...
            if any(cols[1] == entry and cols[3] == "0A" for cols in (line.split() for line in f.readlines()[1:])):
                return
        time.sleep(0.01)
    raise RuntimeError(f"nothing listening on 127.0.0.1:{port} after {timeout:.0f} s")


# ---------------------------------------------------------------------------------------------------------------
# What runs: the upstream, the proxies under test, and Bowline's control plane


def write_upstream(tmp, port, h2_port, big_mb):
    www = os.path.join(tmp, "www")
    os.makedirs(www, exist_ok=True)
    with open(os.path.join(www, "1k"), "wb") as f:
        f.write(b"x" * 1023 + b"\n")
    with open(os.path.join(www, "big"), "wb") as f:
        f.truncate(big_mb * 1024 * 1024)
    for d in (tmp, www):
        os.chmod(d, 0o755)
    conf = os.path.join(tmp, "upstream.conf")
    with open(conf, "w") as f:
        f.write(nginx_common(tmp, "upstream") + f"""
http {{
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    sendfile on;
    default_type application/octet-stream;
    server {{ listen 127.0.0.1:{port} reuseport backlog=4096; root {www}; }}
    server {{ listen 127.0.0.1:{h2_port} http2; root {www}; }}
}}
""")
    return conf


def nginx_common(tmp, name):
    return f"""worker_processes 1;
daemon off;
pid {tmp}/{name}.pid;
error_log {tmp}/{name}-error.log warn;
events {{ worker_connections 8192; }}
"""


def write_nginx_proxy(tmp, port, upstream_port, name="nginx-proxy"):
    conf = os.path.join(tmp, f"{name}.conf")
    t = os.path.join(tmp, f"{name}-tmp")
    os.makedirs(t, exist_ok=True)
    with open(conf, "w") as f:
        f.write(nginx_common(tmp, name) + f"""
http {{
    access_log off;
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    client_body_temp_path {t}/body;
    proxy_temp_path {t}/proxy;
    upstream up {{ server 127.0.0.1:{upstream_port}; keepalive 64; keepalive_requests 100000000; }}
    server {{
        listen 127.0.0.1:{port} backlog=4096;
        location / {{
            proxy_pass http://up;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
        }}
    }}
}}
""")
    return conf


def write_haproxy(tmp, port, upstream_port):
    conf = os.path.join(tmp, "haproxy.cfg")
    with open(conf, "w") as f:
        f.write(f"""global
    nbthread 1
    maxconn 4096
defaults
    mode http
    option http-keep-alive
    http-reuse always
    timeout connect 5s
    timeout client 300s
    timeout server 300s
frontend fe
    bind 127.0.0.1:{port}
    default_backend be
backend be
    server s1 127.0.0.1:{upstream_port}
""")
    return conf


SERVICE_YAML = """apiVersion: v1
kind: Service
metadata:
  name: upstream
  namespace: bench
spec:
  selector:
    app: upstream
  ports:
  - name: http
    port: 80
    targetPort: 80
  - name: tcp-iperf
    port: 5201
    targetPort: 5201
"""
MESH_HOST = "upstream:80"


class Bowline:
    """Bowline's control plane with a registry of two pods: "upstream-0" (inbound :80 → the upstream nginx) and
    "client-0" (its outbound listener routes `Host: upstream:80` to upstream-0's inbound listener)."""

    def __init__(self, tmp, procs, upstream_port, proxy_kind="auto", proxy_path=None):
        self.tmp, self.procs = tmp, procs
        self.proxy_argv = proxy_command(proxy_kind, proxy_path)[0]
        self.state = os.path.join(tmp, "cp-state")
        os.makedirs(self.state, exist_ok=True)
        self.cp_port = free_port()
        self.inbound_port = free_port()
        # iperf3's server port, and the sidecar's inbound TCP listener in front of it (Service port tcp-iperf).
        self.iperf_port = free_port()
        self.iperf_inbound_port = free_port()
        self.client_outbound_port = free_port()
        self.admin = {"upstream-0": free_port(), "client-0": free_port()}
        registry = {"pods": [
            {"name": "upstream-0", "namespace": "bench", "workload": "upstream", "labels": {"app": "upstream"},
             "ports": [{"containerPort": 80, "name": "http", "appPort": upstream_port, "inboundPort": self.inbound_port},
                       {"containerPort": 5201, "name": "tcp-iperf", "appPort": self.iperf_port,
                        "inboundPort": self.iperf_inbound_port}],
             "outboundPort": free_port(), "adminPort": self.admin["upstream-0"]},
            {"name": "client-0", "namespace": "bench", "workload": "client", "labels": {"app": "client"},
             "ports": [], "outboundPort": self.client_outbound_port, "adminPort": self.admin["client-0"]},
        ]}
        with open(os.path.join(self.state, "registry.json"), "w") as f:
            json.dump(registry, f, indent=2)

    def start_control_plane(self):
        self.cp = self.procs.start("controlplane", ["dotnet", CP_DLL, "--listen", f"127.0.0.1:{self.cp_port}",
                                                    "--state-dir", self.state], core=LOAD_CORE, logdir=self.tmp)
        wait_http(f"http://127.0.0.1:{self.cp_port}/healthz/ready", self.cp, timeout=60)
        self.apply("bench-service.yaml", SERVICE_YAML)

    def apply(self, name, content):
        """Applies one YAML file through the control plane's management API (what `bowline apply -f` does)."""
        body = json.dumps({"files": [{"name": name, "content": content}]}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{self.cp_port}/api/v1/apply", data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            result = json.load(r)
        if result.get("errors"):
            raise RuntimeError(f"apply refused: {result['errors']}")

    def start_proxy(self, pod, env):
        """Starts one sidecar on the proxy core; returns (process, ms from start to admin /ready 200)."""
        p = self.procs.start(f"proxy-{pod}", self.proxy_argv + ["--id", f"{pod}.bench", "--pod", pod,
                                              "--namespace", "bench", "--xds", f"http://127.0.0.1:{self.cp_port}",
                                              "--admin", f"127.0.0.1:{self.admin[pod]}"],
                             core=PROXY_CORE, env={**(JIT_PROXY_ENV if self.proxy_argv[0] == "dotnet" else {}), **env},
                             logdir=self.tmp)
        ready = wait_http(f"http://127.0.0.1:{self.admin[pod]}/ready", p, timeout=60, interval=0.002)
        return p, (ready - p.started_at) * 1000


# ---------------------------------------------------------------------------------------------------------------
# The data-plane run


# (scenario, Istio metrics, access log, tracing): off and on back to back, then each part alone to say which costs.
TELEMETRY_RUNS = [
    ("bowline-sidecar-telemetry-off", False, False, False),
    ("bowline-sidecar-telemetry-on", True, True, True),
    ("bowline-sidecar-telemetry-metrics-only", True, False, False),
    ("bowline-sidecar-telemetry-accesslog-only", False, True, False),
    ("bowline-sidecar-telemetry-tracing-only", False, False, True),
]
TELEMETRY_SCENARIOS = [r[0] for r in TELEMETRY_RUNS]

# A collector that accepts Zipkin v2 (POST /api/v2/spans) and OTLP/HTTP JSON (POST /v1/traces), counts the spans
# (one "traceId" key per span in both encodings) and discards them; GET /count answers the counts. A process of its
# own, pinned to the load core, so that receiving spans costs nothing on the proxy's core.
SPAN_SINK = r"""
import http.server, json, sys, threading
counts = {"posts": 0, "spans": 0, "bytes": 0}
lock = threading.Lock()
class H(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *a):
        pass
    def reply(self, code, body=b""):
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path not in ("/api/v2/spans", "/v1/traces"):
            return self.reply(404)
        with lock:
            counts["posts"] += 1
            counts["spans"] += body.count(b'"traceId"')
            counts["bytes"] += len(body)
        self.reply(202) if self.path == "/api/v2/spans" else self.reply(200, b"{}")
    def do_GET(self):
        if self.path != "/count":
            return self.reply(404)
        with lock:
            b = json.dumps(counts).encode()
        self.reply(200, b)
http.server.ThreadingHTTPServer(("127.0.0.1", int(sys.argv[1])), H).serve_forever()
"""


def telemetry_mesh_config(access_log, sink_port, log_on, tracing_on):
    """Istio's mesh config (as samples/bookinfo/observability/mesh-config.yaml): a JSON access log to a file and/or
    every request traced (sampling 100) to the sink over OTLP/HTTP; what is left out is off."""
    mesh = []
    if log_on:
        mesh += [f"accessLogFile: {access_log}", "accessLogEncoding: JSON"]
    if tracing_on:
        mesh += ["enableTracing: true", "defaultConfig:", "  tracing:", "    sampling: 100", "extensionProviders:",
                 "- name: otel", "  opentelemetry:", "    service: 127.0.0.1", f"    port: {sink_port}", "    http:",
                 "      path: /v1/traces", "defaultProviders:", "  tracing: [otel]"]
    else:
        mesh += ["enableTracing: false"]
    return ("apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: istio\n  namespace: istio-system\ndata:\n"
            "  mesh: |-\n" + "".join(f"    {line}\n" for line in mesh))


def get_json(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.load(r)


def istio_requests_total(admin_port):
    with urllib.request.urlopen(f"http://127.0.0.1:{admin_port}/stats/prometheus", timeout=10) as r:
        text = r.read().decode()
    return int(sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
                   if line.startswith("istio_requests_total{")))


def measure_telemetry(bl, cfg, tmp, procs, out, env):
    """bowline-sidecar with telemetry off (BOWLINE_METRICS=off, no access log, no tracing: the mesh default), then on
    (metrics, JSON access log to a file, tracing at 100 % to a local OTLP sink, through Istio's mesh ConfigMap applied
    to the control plane), then each part alone (TELEMETRY_RUNS); same upstream and load. Counts what each run
    recorded, so that a comparison in which telemetry was not really on (or off) is caught: `telemetry_check`."""
    url = f"http://127.0.0.1:{bl.inbound_port}/1k"
    admin = bl.admin["upstream-0"]
    sink_port = free_port()
    sink = procs.start("span-sink", [sys.executable, "-c", SPAN_SINK, str(sink_port)], core=LOAD_CORE, logdir=tmp)
    wait_http(f"http://127.0.0.1:{sink_port}/count", sink, timeout=10)
    access_log = os.path.join(tmp, "access.log")
    problems = []
    runs = [r for r in TELEMETRY_RUNS if r[0] in cfg.scenarios]
    # --repeat N: N rounds, each in the order of the one before rotated by one, so no setting always goes first.
    plan = [(rnd, runs[(rnd + i) % len(runs)]) for rnd in range(cfg.repeat) for i in range(len(runs))]
    for n_run, (rnd, (name, metrics_on, log_on, tracing_on)) in enumerate(plan):
        # The first off run keeps the mesh default (nothing applied); every other run applies its own mesh config.
        if n_run > 0 or log_on or tracing_on:
            bl.apply("mesh-config.yaml", telemetry_mesh_config(access_log, sink_port, log_on, tracing_on))
        spans0 = get_json(f"http://127.0.0.1:{sink_port}/count")["spans"]
        sink_cpu0 = cpu_seconds([sink.pid])
        p, ready = bl.start_proxy("upstream-0", env if metrics_on else {**env, "BOWLINE_METRICS": "off"})
        res = measure_group([Target(name, url, pids=[p.pid], extra={"ready_ms": round(ready, 1)})], cfg, tmp, None,
                            probe=lambda: get_json(f"http://127.0.0.1:{admin}/telemetry_stats"))[name]
        res.pop("_hist", None)
        stats = get_json(f"http://127.0.0.1:{admin}/telemetry_stats")
        # What was dropped while the fixed-rate run went on (drops at max throughput are another matter).
        b, a = res["probe_before_rate"], res["probe_after_rate"]
        dropped_at_rate = {"access_log": a["accessLog"]["dropped"] - b["accessLog"]["dropped"],
                           "spans": a["tracing"]["dropped"] - b["tracing"]["dropped"]}
        metric_total = istio_requests_total(admin)
        procs.stop(p)  # SIGTERM: the proxy writes out its last log lines and spans before it exits
        lines = 0
        if os.path.exists(access_log):
            with open(access_log, "rb") as f:
                lines = f.read().count(b"\n")
            if cfg.keep_tmp:
                os.rename(access_log, f"{access_log}.{n_run}-{name}")
            else:
                # Gone before the kernel writes it back, so the next run does not pay for this one's disk writes.
                os.remove(access_log)
        spans = get_json(f"http://127.0.0.1:{sink_port}/count")["spans"] - spans0
        res["round"] = rnd
        res["telemetry"] = {"metrics": metrics_on, "access_log": log_on, "tracing_100pct": tracing_on,
                            "proxy_env": "" if metrics_on else "BOWLINE_METRICS=off",
                            "istio_requests_total": metric_total, "access_log_lines": lines,
                            "spans_received": spans, "sink_cpu_s": round(cpu_seconds([sink.pid]) - sink_cpu0, 2),
                            "proxy_telemetry_stats": stats, "dropped_during_fixed_rate": dropped_at_rate}
        # Off must record nothing, on must record something; how much of what was sent it recorded is reported (wrk
        # does not count the requests in flight when it stops, so a little over 1.0 is normal; under 1.0 is drops).
        recorded = {"istio_requests_total": (metric_total, metrics_on), "access_log_lines": (lines, log_on),
                    "spans_received": (spans, tracing_on)}
        for what, (n, on) in recorded.items():
            if not on and n != 0:
                problems.append(f"{name} (round {rnd}): {what} = {n}, expected 0")
            if on and n == 0:
                problems.append(f"{name} (round {rnd}): {what} = 0, it was not on")
            if on:
                res["telemetry"][f"{what}_per_request_sent"] = round(n / res["requests_sent"], 4)
        log(f"{name}: sent {res['requests_sent']} requests; istio_requests_total={metric_total} "
            f"access-log lines={lines} spans received={spans} (sink CPU {res['telemetry']['sink_cpu_s']} s) "
            f"proxy stats={json.dumps(stats)}, dropped during the fixed-rate run {json.dumps(dropped_at_rate)}")
        out["scenarios"].append(res)
    procs.stop(sink)
    out["telemetry_check"] = {"ok": not problems, "problems": problems}
    for problem in problems:
        log(f"TELEMETRY CHECK FAILED: {problem}")


def measure_stream(bl, cfg, tmp, procs, up_port, out):
    """One large HTTP download and iperf3, each direct and through the upstream's sidecar (its inbound HTTP listener,
    and its inbound TCP listener for the Service port `tcp-iperf`). The sidecar must be running."""
    log(f"stream: one {cfg.big_mb} MB HTTP download, direct vs bowline-sidecar")
    out["stream"]["direct_http_MBps"] = stream_mbps(f"http://127.0.0.1:{up_port}/big", None)["MBps"]
    out["stream"]["bowline_sidecar_http_MBps"] = stream_mbps(f"http://127.0.0.1:{bl.inbound_port}/big", None)["MBps"]
    out["stream"]["size_mb"] = cfg.big_mb
    if shutil.which("iperf3"):
        log(f"stream: iperf3 {cfg.iperf}s, direct vs through the sidecar's TCP listener")
        out["stream"]["direct_tcp_iperf3_Gbps"] = iperf3_gbps(cfg.iperf, tmp, procs)
        try:
            gbps = iperf3_gbps(cfg.iperf, tmp, procs, port=bl.iperf_port, via=bl.iperf_inbound_port)
        except RuntimeError as e:
            # Seen once in ~20 runs (2026-12-08, CI: "received an unknown control message" on iperf3's control
            # connection through the TCP listener; not reproduced since). Recorded and shown in the report, then
            # measured once more, so that one such failure does not void the whole run's figures.
            log(f"stream: iperf3 through the sidecar failed ({e}); once more")
            out["stream"]["bowline_sidecar_tcp_iperf3_error"] = str(e)
            gbps = iperf3_gbps(cfg.iperf, tmp, procs, port=bl.iperf_port, via=bl.iperf_inbound_port)
        out["stream"]["bowline_sidecar_tcp_iperf3_Gbps"] = gbps
    out["stream"]["note"] = ("HTTP: one large response; TCP: iperf3 through the sidecar's inbound TCP listener "
                             "(opaque byte copy) vs iperf3 direct on loopback")


def pin(pids, core):
    """Moves every thread of these processes to one core (a running .NET process keeps the CPU count it started with,
    one, so moving it from one single core to another changes nothing else)."""
    for pid in pids:
        subprocess.run(["taskset", "-a", "-p", "-c", core, str(pid)], stdout=subprocess.DEVNULL, check=True)


# Two layouts for the fixed-rate run. Split (the table's main columns, and max throughput): every proxy on a core of
# its own, client and upstream together on the other, so a proxy's CPU is measured alone — but `direct` then crosses
# no core while every proxied path crosses four times, and on this VM waking a task on an idle vCPU costs the waker
# ~10 µs (an IPI through the hypervisor, perf: `pvm_irq_enable` under `sock_def_readable`, a quarter of the proxy's
# CPU at 1000 rps) and the wakee tens of µs more. Colocated: each proxy on the core of the application it serves, as a
# sidecar is deployed (the server's sidecar, nginx and HAProxy with the upstream; the client's sidecar with the load
# generator), so `direct` and every proxied path cross between client and server cores alike, as Istio's benchmark
# (client and server pods, each with its sidecar) does.
COLOCATED_NOTE = ("split = the proxy under test alone on core 1, load generator and upstream on core 0 (main columns); "
                  "colocated = the fixed-rate run again with the upstream moved to core 1 beside the server-side proxy "
                  "(sidecar, nginx, HAProxy, a mesh's server-side proxy) and a mesh's client-side proxy moved to core 0 "
                  "beside the load generator — each proxy with the application it serves, as deployed; direct then "
                  "crosses from core 0 to core 1 like every proxied path")

# Interleaving. This VM's speed drifts by up to 2x between minutes (the same binary at 34 and 54 µs CPU per request in
# two rounds of one run): scenarios measured one after another compared different minutes. So the scenarios compared
# with one another run at the same time, taking turns: the max-throughput windows alternate between them (order
# rotated every cycle), and the fixed-rate run gives each its own connections and hands the load to them in turn, one
# slice at a time (bench/loadgen). A slow minute then lands on all of them alike.
INTERLEAVE_NOTE = ("scenarios of one group run side by side and take turns: single-hop group direct, nginx, HAProxy, "
                   "bowline-sidecar; two-hop group direct, bowline-mesh (and nginx-mesh); max throughput in alternating "
                   "wrk windows, the fixed rate in alternating 1-s slices of one open-loop run (each scenario its own "
                   "16 connections); a mesh's dp90 is its p90 minus direct's p90 of the same run")


class Target:
    """One scenario running in a group: where to send load and which processes are its own. `client_side`: the
    processes that move to the load generator's core in the colocated layout (a mesh's client-side proxy).
    `paired`: the scenario's dp90 is taken against the group's direct run (the meshes)."""

    def __init__(self, name, url, host=None, pids=(), extra=None, client_side=(), paired=False):
        self.name, self.url, self.host, self.pids = name, url, host, list(pids)
        self.extra, self.client_side, self.paired = dict(extra or {}), list(client_side), paired


def pin(pids, core):
    """Moves every thread of these processes to one core (a running .NET process keeps the CPU count it started with,
    one, so moving it from one single core to another changes nothing else)."""
    for pid in pids:
        subprocess.run(["taskset", "-a", "-p", "-c", core, str(pid)], stdout=subprocess.DEVNULL, check=True)


def rotated(items, by):
    by %= max(len(items), 1)
    return items[by:] + items[:by]


def measure_max(group, res, cfg):
    """Max throughput: a wrk warm-up per target, then `cfg.wrk_cycles` cycles of one `cfg.wrk_slice`-s wrk window
    per target (order rotated each cycle). rps_max is the median of a target's windows; CPU and core busy add up
    its windows."""
    for t in group:
        res[t.name]["requests_sent"] += wrk(t.url, t.host, cfg.warm)["requests"]
    windows = {t.name: [] for t in group}
    for cycle in range(cfg.wrk_cycles):
        for t in rotated(group, cycle):
            cpu0, t0 = cpu_seconds(t.pids), time.monotonic()
            with RssPeak(t.pids) as peak:
                w = wrk(t.url, t.host, cfg.wrk_slice)
            windows[t.name].append({**w, "cpu": cpu_seconds(t.pids) - cpu0, "elapsed": time.monotonic() - t0,
                                    "rss": peak.peak})
    for t in group:
        ws, r = windows[t.name], res[t.name]
        r["rps_max"] = round(statistics.median(w["rps"] for w in ws))
        r["rps_max_windows"] = [round(w["rps"]) for w in ws]
        requests, cpu = sum(w["requests"] for w in ws), sum(w["cpu"] for w in ws)
        r["requests_sent"] += requests
        r["wrk_errors"] = sum(w["errors"] for w in ws)
        r["rss_mb_max_load"] = round(max(w["rss"] for w in ws), 1) if t.pids else None
        # How busy the proxy's core was at max throughput, and its CPU per request there: when the proxy is well
        # below 100 %, the load generator's core was the limit, and rps_max says little about the proxy.
        r["core_busy_at_max"] = round(cpu / sum(w["elapsed"] for w in ws), 3) if t.pids and requests else None
        r["cpu_us_per_req_at_max"] = round(cpu / requests * 1e6, 2) if t.pids and requests else None


LATENCY_KEYS = ("p50_ms", "p90_ms", "p99_ms", "p999_ms", "max_ms", "service_p50_ms", "service_p99_ms")


def measure_rate(group, cfg, tmp):
    """One interleaved fixed-rate run over the group; per target its latency figures, errors, CPU over the run
    against the requests it was sent, and peak RSS."""
    cpu0 = {t.name: cpu_seconds(t.pids) for t in group}
    with contextlib.ExitStack() as stack:
        peaks = {t.name: stack.enter_context(RssPeak(t.pids)) for t in group}
        lg = loadgen([(t.url, t.host) for t in group], cfg.rate, 16, cfg.lg, cfg.lg_warm, tmp)
    out = {}
    for t, r in zip(group, lg):
        cpu = cpu_seconds(t.pids) - cpu0[t.name]
        res = {k: r[k] for k in LATENCY_KEYS}
        res["_hist"] = r["histogram_us"]
        res["achieved_rps"] = round(r["achieved_rps"], 1)
        res["requests_total"] = r["requests_total"]
        res["errors"] = r["errors"] + r["non_2xx"]
        # CPU over the whole run (warm-up included, and the slices that were another target's) against every
        # request this target was sent; vCPU at the rate follows from it.
        res["cpu_s_per_1k"] = round(cpu / r["requests_total"] * 1000, 4) if t.pids else None
        res["vcpu_at_rate"] = round(res["cpu_s_per_1k"] * cfg.rate / 1000, 3) if t.pids else None
        res["rss_mb_load"] = round(peaks[t.name].peak, 1) if t.pids else None
        out[t.name] = res
    direct = out.get("direct")
    for t in group:
        if t.paired and direct:
            out[t.name]["direct_paired_p90_ms"] = direct["p90_ms"]
            out[t.name]["dp90_ms"] = round(out[t.name]["p90_ms"] - direct["p90_ms"], 4)
            out[t.name]["_direct_hist"] = direct["_hist"]
    return out


def measure_group(group, cfg, tmp, upstream_pids, probe=None):
    """The same sequence for every group: idle RSS, max throughput (measure_max), the fixed-rate run (measure_rate),
    and with `upstream_pids` the fixed-rate run again in the colocated layout (COLOCATED_NOTE), its figures under
    "colocated". `probe` (optional) is called just before and after the split fixed-rate run."""
    res = {}
    for t in group:
        res[t.name] = {"name": t.name, **t.extra, "requests_sent": 0}
    time.sleep(cfg.settle)
    for t in group:
        r = res[t.name]
        r["rss_mb_idle"] = round(rss_mb(t.pids), 1) if t.pids else None
        if t.pids:
            # Anonymous (heaps, JIT code, stacks) vs file-backed (mapped binaries, partly shared with other processes).
            r["rss_mb_idle_anon"] = round(rss_mb(t.pids, "RssAnon:"), 1)
            r["rss_mb_idle_file"] = round(rss_mb(t.pids, "RssFile:"), 1)
    names = ", ".join(t.name for t in group)
    log(f"{names}: warm-up {cfg.warm}s each, then wrk {cfg.wrk_cycles} x {cfg.wrk_slice}s each, taking turns, 64 connections")
    measure_max(group, res, cfg)
    log(f"{names}: {cfg.rate} rps open-loop over 16 connections each, taking turns in 1-s slices, "
        f"{cfg.lg_warm}s warm-up + {cfg.lg}s each")
    if probe:
        res[group[0].name]["probe_before_rate"] = probe()
    traced = [t for t in group if t.name.startswith("bowline")] if cfg.profile else []
    tracers = [start_trace(t.name, t.pids[-1], cfg) for t in traced]
    rate = measure_rate(group, cfg, tmp)
    for tr, t in zip(tracers, traced):
        finish_trace(t.name, tr, cfg)
    if probe:
        res[group[0].name]["probe_after_rate"] = probe()
    for t in group:
        r = res[t.name]
        r["requests_sent"] += rate[t.name].pop("requests_total")
        r.update(rate[t.name])
        log(f"{t.name}: rps_max={r['rps_max']} p50={r['p50_ms']} p90={r['p90_ms']} p99={r['p99_ms']} "
            f"dp90={r.get('dp90_ms', '–')} cpu/1k={r['cpu_s_per_1k']} rss={r['rss_mb_idle']}/{r['rss_mb_load']} MB")
    if upstream_pids is not None:
        log(f"{names}: colocated layout, {cfg.rate} rps open-loop, taking turns")
        client_side = [pid for t in group for pid in t.client_side]
        pin(upstream_pids, PROXY_CORE)
        pin(client_side, LOAD_CORE)
        try:
            colo = measure_rate(group, cfg, tmp)
        finally:
            pin(upstream_pids, LOAD_CORE)
            pin(client_side, PROXY_CORE)
        for t in group:
            c = colo[t.name]
            res[t.name]["requests_sent"] += c.pop("requests_total")
            for k in ("achieved_rps", "vcpu_at_rate", "rss_mb_load"):
                c.pop(k, None)
            res[t.name]["colocated"] = c
            log(f"{t.name}: colocated p50={c['p50_ms']} p90={c['p90_ms']} p99={c['p99_ms']} "
                f"dp90={c.get('dp90_ms', '–')} cpu/1k={c['cpu_s_per_1k']}")
    return res


DOTNET_TRACE = shutil.which("dotnet-trace") or os.path.expanduser("~/.dotnet/tools/dotnet-trace")


def start_trace(name, pid, cfg):
    """CPU-samples the proxy during the fixed-rate run (--profile; figures of such a run include the tracer's cost)."""
    out = os.path.join(RESULTS, f"{cfg.out}-{name}.nettrace")
    log(f"{name}: dotnet-trace on pid {pid} for {cfg.lg} s -> {out}")
    return subprocess.Popen([DOTNET_TRACE, "collect", "-p", str(pid), "--profile", "dotnet-sampled-thread-time",
                             "--duration", f"00:00:00:{min(int(cfg.lg), 59):02d}", "-o", out],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True), out


def finish_trace(name, tracer, cfg):
    proc, out = tracer
    proc.wait(120)
    report = subprocess.run([DOTNET_TRACE, "report", out, "topN", "-n", "40", "--inclusive"],
                            capture_output=True, text=True).stdout
    report += subprocess.run([DOTNET_TRACE, "report", out, "topN", "-n", "40"], capture_output=True, text=True).stdout
    with open(out.replace(".nettrace", ".top.txt"), "w") as f:
        f.write(report)


def machine_info():
    model = "unknown"
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        mem_kb = int(f.readline().split()[1])
    return {"cores": os.cpu_count(), "cpu_model": model, "memory_gb": round(mem_kb / 1024 / 1024, 1),
            "kernel": os.uname().release, "loadavg_at_start": os.getloadavg(),
            "dotnet": subprocess.run(["dotnet", "--version"], capture_output=True, text=True).stdout.strip()}


DATAPLANE_SCENARIOS = ["direct", "nginx", "haproxy", "bowline-sidecar", "bowline-mesh"]
# Opt-in (--scenarios): the mesh's path with nginx in both places (client-side nginx → server-side nginx → upstream),
# what a lean C proxy pays for two hops on this machine.
OPTIONAL_SCENARIOS = ["nginx-mesh"]

# Figures summed over rounds rather than taken as the median.
SUMMED = ("errors", "wrk_errors", "requests_sent")


def pooled_percentiles(hists):
    """p50/p90/p99/p99.9 in ms over the merged histograms (µs → count) of several runs: every request of every round
    counts once, as if one long run had been measured (the same rank rule as bench/loadgen)."""
    merged = {}
    for h in hists:
        for k, c in h.items():
            merged[int(k)] = merged.get(int(k), 0) + c
    items, total = sorted(merged.items()), sum(merged.values())
    out = {}
    for key, p in (("p50_ms", 50), ("p90_ms", 90), ("p99_ms", 99), ("p999_ms", 99.9)):
        rank, seen = max(1, math.ceil(p / 100 * total)), 0
        for us, c in items:
            seen += c
            if seen >= rank:
                out[key] = us / 1000
                break
    return out


def pool_latency(combined, rounds):
    """Latency percentiles of a scenario (or of its colocated runs) over all its rounds' requests pooled, and the
    mesh's dp90 as the pooled p90 minus the pooled p90 of the direct runs it took turns with; the histograms are
    dropped from the results. Medians of per-round p99s threw most of the tail away: each round's p99 at 1000 rps
    hangs on the one to three VM stalls that fell in its slices."""
    if all(r.get("_hist") for r in rounds):
        combined.update(pooled_percentiles([r["_hist"] for r in rounds]))
        combined["max_ms"] = max(r["max_ms"] for r in rounds)
        if all(r.get("_direct_hist") for r in rounds):
            combined["direct_paired_p90_ms"] = pooled_percentiles([r["_direct_hist"] for r in rounds])["p90_ms"]
            combined["dp90_ms"] = round(combined["p90_ms"] - combined["direct_paired_p90_ms"], 4)
    for d in [combined, *rounds]:
        d.pop("_hist", None)
        d.pop("_direct_hist", None)


def combine_rounds(rounds):
    """One scenario's figures over its rounds: latency percentiles over all rounds' requests pooled (pool_latency),
    the median of each other figure (sums for counts); every round's own figures are kept under "rounds", and the
    spread of the figures the targets compare under "range"."""
    if len(rounds) == 1:
        only = dict(rounds[0])
        if only.get("colocated"):
            only["colocated"] = dict(only["colocated"])
            pool_latency(only["colocated"], [only["colocated"]])
        pool_latency(only, [only])
        return only
    combined = {}
    for key, first in rounds[0].items():
        values = [r.get(key) for r in rounds]
        if key == "colocated":
            combined[key] = combine_rounds([v for v in values if v])
            combined[key].pop("rounds", None)
            combined[key].pop("range", None)
        elif key in SUMMED:
            combined[key] = sum(v or 0 for v in values)
        elif isinstance(first, (int, float)) and not isinstance(first, bool) and all(isinstance(v, (int, float)) for v in values):
            median = statistics.median(values)
            combined[key] = round(median) if all(isinstance(v, int) for v in values) else round(median, 4)
        else:
            combined[key] = first
    combined.pop("round", None)
    pool_latency(combined, rounds)
    combined["range"] = {k: [min(r[k] for r in rounds), max(r[k] for r in rounds)]
                         for k in ("rps_max", "p50_ms", "p90_ms", "p99_ms", "rss_mb_load")
                         if all(isinstance(r.get(k), (int, float)) for r in rounds)}
    combined["rounds"] = rounds
    return combined


# The groups whose scenarios run side by side (INTERLEAVE_NOTE); each starts with `direct`, the mesh's paired baseline.
GROUPS = [["direct", "nginx", "haproxy", "bowline-sidecar"], ["direct", "bowline-mesh", "nginx-mesh"]]


def dataplane(cfg):
    procs = Procs()
    tmp = tempfile.mkdtemp(prefix="bowline-bench-")
    started = time.monotonic()
    out = {"when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "mode": "quick" if cfg.quick else "full", "machine": machine_info(),
           "pinning": {"load_generator_and_upstream": f"core {LOAD_CORE}", "proxy_under_test": f"core {PROXY_CORE}",
                       "colocated": COLOCATED_NOTE, "interleaving": INTERLEAVE_NOTE,
                       "note": "nginx 1 worker, HAProxy nbthread 1, Bowline process(es) pinned to one core "
                               "(both mesh sidecars share it); wrk -t1, loadgen and upstream nginx (1 worker) share "
                               "the other core in every scenario, direct included"},
           "load": {"rps_max": "wrk -t1 -c64 HTTP/1.1 keep-alive, GET 1 KB", "latency":
                    f"open-loop {cfg.rate} rps over 16 keep-alive connections, latency from each request's due time",
                    "wrk_s": cfg.wrk_cycles * cfg.wrk_slice, "wrk_windows": cfg.wrk_cycles, "latency_s": cfg.lg,
                    "latency_warmup_s": cfg.lg_warm},
           "bowline_env": cfg.env, "bowline_proxy": proxy_command(cfg.proxy, cfg.proxy_path)[1], "scenarios": [], "http2": [], "stream": {}}
    try:
        up_port, up_h2 = free_port(), free_port()
        conf = write_upstream(tmp, up_port, up_h2, cfg.big_mb)
        upstream = procs.start("upstream", ["nginx", "-p", tmp, "-c", conf], core=LOAD_CORE, logdir=tmp)
        wait_http(f"http://127.0.0.1:{up_port}/1k", upstream, timeout=10)
        direct_url = f"http://127.0.0.1:{up_port}/1k"
        selected = cfg.scenarios
        bl = None
        env = dict(cfg.env)
        if any(s.startswith("bowline") or s == "stream" for s in selected):
            bl = Bowline(tmp, procs, up_port, cfg.proxy, cfg.proxy_path)
            bl.start_control_plane()

        def start(name, running):
            """Starts what one scenario needs (its processes are added to `running` for stopping); returns its Target."""
            if name == "direct":
                return Target("direct", direct_url, extra={"ready_ms": None})
            if name in ("nginx", "haproxy"):
                port = free_port()
                argv = (["nginx", "-p", tmp, "-c", write_nginx_proxy(tmp, port, up_port)] if name == "nginx"
                        else ["haproxy", "-db", "-f", write_haproxy(tmp, port, up_port)])
                p = procs.start(f"{name}-proxy", argv, core=PROXY_CORE, logdir=tmp)
                running.append(p)
                ready = (wait_http(f"http://127.0.0.1:{port}/1k", p, interval=0.002) - p.started_at) * 1000
                return Target(name, f"http://127.0.0.1:{port}/1k", pids=process_tree(p.pid),
                              extra={"ready_ms": round(ready, 1)})
            if name == "nginx-mesh":
                server_port, client_port = free_port(), free_port()
                server = procs.start("nginx-mesh-server", ["nginx", "-p", tmp, "-c", write_nginx_proxy(
                    tmp, server_port, up_port, "nginx-mesh-server")], core=PROXY_CORE, logdir=tmp)
                running.append(server)
                client = procs.start("nginx-mesh-client", ["nginx", "-p", tmp, "-c", write_nginx_proxy(
                    tmp, client_port, server_port, "nginx-mesh-client")], core=PROXY_CORE, logdir=tmp)
                running.append(client)
                ready = (wait_http(f"http://127.0.0.1:{client_port}/1k", client, interval=0.002)
                         - server.started_at) * 1000
                client_pids = process_tree(client.pid)
                return Target(name, f"http://127.0.0.1:{client_port}/1k", pids=process_tree(server.pid) + client_pids,
                              extra={"ready_ms": round(ready, 1)}, client_side=client_pids, paired=True)
            if name == "bowline-sidecar":
                p, ready = bl.start_proxy("upstream-0", env)
                running.append(p)
                return Target(name, f"http://127.0.0.1:{bl.inbound_port}/1k", pids=[p.pid],
                              extra={"ready_ms": round(ready, 1)})
            if name == "bowline-mesh":
                server, ready_s = bl.start_proxy("upstream-0", env)
                running.append(server)
                client, ready_c = bl.start_proxy("client-0", env)
                running.append(client)
                return Target(name, f"http://127.0.0.1:{bl.client_outbound_port}/1k", MESH_HOST, [server.pid, client.pid],
                              {"ready_ms": round(max(ready_s, ready_c), 1), "mtls": False,
                               "note": "two sidecars, on one core in the split layout, the client sidecar beside the "
                                       "load generator in the colocated one; CPU and RSS are the sum of both; plaintext "
                                       "(no mTLS in Bowline yet)"},
                              client_side=[client.pid], paired=True)
            raise ValueError(name)

        def run_group(names, first_round):
            """Starts the group's scenarios, measures them side by side (measure_group), stops them; the extras
            (HTTP/2, stream) go with bowline-sidecar in the first round only."""
            running = []
            try:
                group = [start(n, running) for n in names]
                res = measure_group(group, cfg, tmp, process_tree(upstream.pid))
                if "bowline-sidecar" in names and first_round and not cfg.skip_extras:
                    url = group[names.index("bowline-sidecar")].url
                    log("HTTP/2 (h2load, h2c prior knowledge, 16 connections x 10 streams): direct vs bowline-sidecar")
                    out["http2"].append({"name": "direct", **h2load(f"http://127.0.0.1:{up_h2}/1k", cfg.h2, 1)})
                    out["http2"].append({"name": "bowline-sidecar", **h2load(url, cfg.h2, 1)})
                    measure_stream(bl, cfg, tmp, procs, up_port, out)
                return res
            finally:
                for p in reversed(running):
                    procs.stop(p)

        # Each group measures `direct` beside its proxies (a mesh's dp90 needs it); direct's own row comes from the
        # first group that has proxies selected, or from a group of its own when only direct is.
        groups = [[n for n in g if n in selected or n == "direct"] for g in GROUPS]
        groups = [g for g in groups if len(g) > 1] or ([["direct"]] if "direct" in selected else [])
        direct_row = groups[0] if groups else None
        order = [n for n in DATAPLANE_SCENARIOS + OPTIONAL_SCENARIOS if n in selected]
        per_round = {n: [] for n in order}
        # Rounds: every group once per round, in the order of the round before rotated by one; combine_rounds pools
        # the latency percentiles and takes the median of every other figure.
        for rnd in range(cfg.rounds):
            for names in rotated(groups, rnd):
                if cfg.rounds > 1:
                    log(f"round {rnd + 1}/{cfg.rounds}: {', '.join(names)}")
                for name, r in run_group(names, rnd == 0).items():
                    if name in per_round and (name != "direct" or names is direct_row):
                        r["round"] = rnd
                        per_round[name].append(r)
        out["rounds"] = cfg.rounds
        out["scenarios"] = [combine_rounds(per_round[n]) for n in order]

        if bl is not None:
            if "stream" in selected and "bowline-sidecar" not in selected:
                p, _ = bl.start_proxy("upstream-0", env)
                measure_stream(bl, cfg, tmp, procs, up_port, out)
                procs.stop(p)
            if any(s in selected for s in TELEMETRY_SCENARIOS):
                measure_telemetry(bl, cfg, tmp, procs, out, env)
    finally:
        procs.stop_all()
        if cfg.keep_tmp:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    out["duration_s"] = round(time.monotonic() - started, 1)
    return out


# ---------------------------------------------------------------------------------------------------------------
# Report


def targets(res):
    by = {s["name"]: s for s in res["scenarios"]}
    rows = []

    def check(label, ok, detail):
        rows.append((label, "n/a" if ok is None else ("met" if ok else "MISSED"), detail))

    side, ngx, hap, mesh = (by.get(n) for n in ("bowline-sidecar", "nginx", "haproxy", "bowline-mesh"))
    if side and ngx and hap:
        detail = f"{side['rps_max']} vs nginx {ngx['rps_max']}, HAProxy {hap['rps_max']} rps"
        busy = [x.get("core_busy_at_max") for x in (side, ngx, hap)]
        if all(b is not None for b in busy):
            detail += (f"; proxy core busy {', '.join(f'{100 * b:.0f} %' for b in busy)}, CPU µs per request at max "
                       f"{side['cpu_us_per_req_at_max']} vs {ngx['cpu_us_per_req_at_max']}, {hap['cpu_us_per_req_at_max']}")
            if min(busy) < 0.9:
                detail += " (a proxy below 90 % busy was not the bottleneck: the load core was)"
        check("sidecar throughput ≥ nginx and ≥ HAProxy", side["rps_max"] >= max(ngx["rps_max"], hap["rps_max"]), detail)
    if side and ngx:
        check(f"sidecar p99 ≤ nginx p99 (at {res['load'].get('rate', 1000)} rps, split layout)",
              side["p99_ms"] <= ngx["p99_ms"], f"{side['p99_ms']} vs {ngx['p99_ms']} ms")
        if "colocated" in side and "colocated" in ngx:
            check("sidecar p99 ≤ nginx p99 (colocated layout)", side["colocated"]["p99_ms"] <= ngx["colocated"]["p99_ms"],
                  f"{side['colocated']['p99_ms']} vs {ngx['colocated']['p99_ms']} ms")
    ngx_mesh = by.get("nginx-mesh")
    for layout, part in (("colocated layout, as deployed", lambda r: r.get("colocated", {})), ("split layout", lambda r: r)):
        if mesh and part(mesh).get("dp90_ms") is not None:
            d = part(mesh)["dp90_ms"]
            detail = (f"{d} ms (mesh p90 − direct p90, the two taking turns in one run, each over all rounds' requests; mesh p90 "
                      f"{part(mesh)['p90_ms']}, direct {part(mesh)['direct_paired_p90_ms']})")
            if ngx_mesh and part(ngx_mesh).get("dp90_ms") is not None:
                detail += f"; nginx-mesh (two nginx) {part(ngx_mesh)['dp90_ms']} ms"
            check(f"mesh p90 − direct p90 ≤ 0.25 ms ({layout})", d <= 0.25, detail)
    if side:
        check("sidecar ≤ 0.10 vCPU at 1000 rps", side["vcpu_at_rate"] <= 0.10, f"{side['vcpu_at_rate']} vCPU")
        check("sidecar RSS ≤ 40 MB at 1000 rps", side["rss_mb_load"] <= 40, f"{side['rss_mb_load']} MB")
        check("sidecar ready ≤ 500 ms", side["ready_ms"] <= 500, f"{side['ready_ms']} ms")
    return rows


def fmt(v, nd=2):
    if v is None:
        return "–"
    if isinstance(v, float):
        return f"{v:.{nd}f}"
    return str(v)


def markdown(res):
    m = res["machine"]
    lines = [f"# Bowline data-plane benchmark — {res['when']} ({res['mode']})", "",
             f"Machine: {m['cores']} cores, {m['cpu_model']}, {m['memory_gb']} GB, Linux {m['kernel']}, .NET SDK "
             f"{m['dotnet']}; load average at start {', '.join(f'{x:.2f}' for x in m['loadavg_at_start'])}.",
             f"Pinning: proxy under test on {res['pinning']['proxy_under_test']}; load generator and upstream on "
             f"{res['pinning']['load_generator_and_upstream']} — {res['pinning']['note']}.",
             f"Max throughput: {res['load']['rps_max']}, {res['load']['wrk_s']} s per scenario in "
             f"{res['load'].get('wrk_windows', 1)} windows (rps max: their median). Latency: {res['load']['latency']}, "
             f"{res['load']['latency_s']} s after {res['load']['latency_warmup_s']} s warm-up per scenario. "
             "Upstream: nginx, static 1 KB file.",
             f"Side by side: {res['pinning'].get('interleaving', 'no')}.",
             (f"Rounds: {res.get('rounds', 1)}, every group once per round, each round in the order of the one before "
              "rotated by one; latency percentiles are over all rounds' requests pooled, every other figure is the "
              "median over the rounds (errors: the sum)."
              if res.get("rounds", 1) > 1 else "Rounds: 1."),
             "",
             "| scenario | rps max | core busy at max | CPU µs / req at max | p50 ms | p90 ms | p99 ms | max ms | CPU s / 1k req | vCPU at rate | RSS idle MB | RSS at rate MB | RSS at max MB | ready ms | errors | colocated p50 / p90 / p99 ms |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for s in res["scenarios"]:
        busy = s.get("core_busy_at_max")
        lines.append("| " + " | ".join([s["name"], fmt(s["rps_max"]), "–" if busy is None else f"{100 * busy:.0f} %",
                                         fmt(s.get("cpu_us_per_req_at_max"), 1), fmt(s["p50_ms"], 3), fmt(s["p90_ms"], 3),
                                         fmt(s["p99_ms"], 3), fmt(s["max_ms"], 2), fmt(s["cpu_s_per_1k"], 4),
                                         fmt(s["vcpu_at_rate"], 3), fmt(s["rss_mb_idle"], 1), fmt(s["rss_mb_load"], 1),
                                         fmt(s["rss_mb_max_load"], 1), fmt(s["ready_ms"], 0),
                                         fmt(s["errors"] + s["wrk_errors"] + s.get("colocated", {}).get("errors", 0)),
                                         " / ".join(fmt(s.get("colocated", {}).get(k), 3)
                                                    for k in ("p50_ms", "p90_ms", "p99_ms"))]) + " |")
    if res.get("rounds", 1) > 1:
        lines += ["", "Per round (the spread is this machine's, between minutes):", "",
                  "| scenario | " + " | ".join(f"round {i + 1}: rps max / p99 ms" for i in range(res["rounds"])) + " |",
                  "|---|" + "---:|" * res["rounds"]]
        for s in res["scenarios"]:
            lines.append(f"| {s['name']} | " + " | ".join(f"{fmt(r['rps_max'])} / {fmt(r['p99_ms'], 3)}"
                                                         for r in s.get("rounds", [s])) + " |")
    lines += ["", "Layouts: " + COLOCATED_NOTE]
    lines += ["", "ready = process start → first 200 (Bowline: admin `/ready`, i.e. config pushed and listeners bound; "
              "nginx/HAProxy: first proxied 200). bowline-mesh: two sidecars, CPU/RSS summed, ready = the slower; "
              "plaintext between them (Bowline has no mTLS yet)."]
    if res["http2"]:
        lines += ["", "| HTTP/2 (h2load -c16 -m10) | req/s | failed |", "|---|---:|---:|"]
        lines += [f"| {h['name']} | {h['rps']:.0f} | {h['failed']} |" for h in res["http2"]]
    if res["stream"]:
        st = res["stream"]
        lines += ["", f"Stream (one {st['size_mb']} MB HTTP/1.1 download): direct {st['direct_http_MBps']} MB/s, "
                  f"bowline-sidecar {st['bowline_sidecar_http_MBps']} MB/s"
                  + (f"; raw TCP (iperf3) direct {st['direct_tcp_iperf3_Gbps']} Gbit/s" if "direct_tcp_iperf3_Gbps" in st else "")
                  + (f", through the bowline-sidecar TCP listener {st['bowline_sidecar_tcp_iperf3_Gbps']} Gbit/s"
                     if "bowline_sidecar_tcp_iperf3_Gbps" in st else "")
                  + (f" (its first attempt failed: {st['bowline_sidecar_tcp_iperf3_error']})"
                     if "bowline_sidecar_tcp_iperf3_error" in st else "")
                  + f". {st['note']}."]
    rows = targets(res)
    if rows:
        lines += ["", "| target | | figure |", "|---|---|---|"] + [f"| {a} | {b} | {c} |" for a, b, c in rows]
    if res.get("bowline_proxy"):
        lines += ["", f"Bowline proxy binary: {res['bowline_proxy']}."]
    if res.get("bowline_env"):
        lines += ["", f"Bowline proxy environment: `{' '.join(f'{k}={v}' for k, v in res['bowline_env'].items())}`"]
    lines += ["", f"Run took {res['duration_s']} s. Measured on a shared machine: compare within one run, not across runs."]
    return "\n".join(lines) + "\n"


# Runtime settings that trade memory for speed, measured rather than guessed (`bench/run --variants`).
VARIANTS = [
    ("default (Web SDK: server GC, concurrent GC, tiered PGO)", {}),
    ("workstation GC", {"DOTNET_gcServer": "0"}),
    ("workstation GC, non-concurrent", {"DOTNET_gcServer": "0", "DOTNET_gcConcurrent": "0"}),
    ("workstation GC + no thread-pool spinning", {"DOTNET_gcServer": "0", "DOTNET_ThreadPool_UnfairSemaphoreSpinLimit": "0"}),
    ("workstation GC + no spinning + inline socket completions",
     {"DOTNET_gcServer": "0", "DOTNET_ThreadPool_UnfairSemaphoreSpinLimit": "0",
      "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS": "1"}),
    ("server GC + GCHeapHardLimit 32 MB", {"DOTNET_GCHeapHardLimit": "0x2000000"}),
    ("workstation GC + GCgen0size 4 MB", {"DOTNET_gcServer": "0", "DOTNET_GCgen0size": "0x400000"}),
    ("TieredPGO off", {"DOTNET_TieredPGO": "0"}),
    ("TieredCompilation off (full JIT up front)", {"DOTNET_TieredCompilation": "0"}),
    ("W^X off", {"DOTNET_EnableWriteXorExecute": "0"}),
    ("combined: workstation GC, no spinning, inline completions, TieredPGO off, W^X off",
     {"DOTNET_gcServer": "0", "DOTNET_ThreadPool_UnfairSemaphoreSpinLimit": "0",
      "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS": "1", "DOTNET_TieredPGO": "0", "DOTNET_EnableWriteXorExecute": "0"}),
]


def variants(cfg):
    rows = []
    base_out = cfg.out
    for label, env in VARIANTS:
        log(f"variant: {label}")
        cfg.env, cfg.scenarios, cfg.skip_extras = env, ["bowline-sidecar"], True
        res = dataplane(cfg)
        s = res["scenarios"][0]
        rows.append({"variant": label, "env": env, **s})
    out = {"when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "mode": "quick" if cfg.quick else "full", "machine": machine_info(), "rows": rows}
    name = "variants" if base_out == "latest" else base_out
    with open(os.path.join(RESULTS, f"{name}.json"), "w") as f:
        json.dump(out, f, indent=2)
    lines = [f"# bowline-sidecar under runtime settings — {out['when']} ({out['mode']}, shared machine)", "",
             "| variant | rps max | p50 ms | p99 ms | CPU s / 1k req | RSS idle MB | RSS at 1000 rps MB | RSS at max MB | ready ms |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        lines.append(f"| {r['variant']} | {r['rps_max']} | {fmt(r['p50_ms'], 3)} | {fmt(r['p99_ms'], 3)} | "
                     f"{fmt(r['cpu_s_per_1k'], 4)} | {fmt(r['rss_mb_idle'], 1)} | {fmt(r['rss_mb_load'], 1)} | "
                     f"{fmt(r['rss_mb_max_load'], 1)} | {fmt(r['ready_ms'], 0)} |")
    md = "\n".join(lines) + "\n"
    with open(os.path.join(RESULTS, f"{name}.md"), "w") as f:
        f.write(md)
    print(md)


def telemetry_report(res):
    """Adds the ratios to the off run to a --telemetry run's results and returns its markdown."""
    runs = [x for x in res["scenarios"] if x["name"] in TELEMETRY_SCENARIOS]
    m = res["machine"]
    lines = [f"# bowline-sidecar, telemetry off vs on — {res['when']} ({res['mode']})", "",
             f"Machine: {m['cores']} cores, {m['cpu_model']}; load average at start "
             f"{', '.join(f'{x:.2f}' for x in m['loadavg_at_start'])}, at end "
             f"{', '.join(f'{x:.2f}' for x in res['loadavg_at_end'])}. Proxy: {res['bowline_proxy']}.",
             f"Max throughput: {res['load']['rps_max']}, {res['load']['wrk_s']} s. Latency: {res['load']['latency']}, "
             f"{res['load']['latency_s']} s after {res['load']['latency_warmup_s']} s warm-up. Off: `BOWLINE_METRICS=off`, "
             "no access log, no tracing (the mesh default). On: Istio metrics, JSON access log to a file, tracing at "
             "100 % to a local OTLP/HTTP sink (mesh ConfigMap `istio` applied to the control plane). Then each part "
             "alone; with --repeat, each round runs them in the order of the one before rotated by one.", "",
             "| scenario | round | rps max | p50 ms | p90 ms | p99 ms | max ms | CPU s / 1k req | RSS idle MB | RSS at rate MB | "
             "RSS at max MB | requests sent | istio_requests_total | access-log lines | spans received | dropped (log / spans) | "
             "of which during the fixed-rate run |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for x in runs:
        t = x["telemetry"]
        st = t["proxy_telemetry_stats"]
        lines.append("| " + " | ".join([x["name"], fmt(x.get("round", 0)), fmt(x["rps_max"]), fmt(x["p50_ms"], 3), fmt(x["p90_ms"], 3),
                                         fmt(x["p99_ms"], 3), fmt(x["max_ms"], 2), fmt(x["cpu_s_per_1k"], 4),
                                         fmt(x["rss_mb_idle"], 1), fmt(x["rss_mb_load"], 1), fmt(x["rss_mb_max_load"], 1),
                                         fmt(x["requests_sent"]), fmt(t["istio_requests_total"]),
                                         fmt(t["access_log_lines"]), fmt(t["spans_received"]),
                                         f"{st['accessLog']['dropped']} / {st['tracing']['dropped'] + st['tracing']['failed']}",
                                         "{access_log} / {spans}".format(**t.get("dropped_during_fixed_rate",
                                                                                 {"access_log": "–", "spans": "–"}))])
                     + " |")
    keys = ["rps_max", "p50_ms", "p90_ms", "p99_ms", "cpu_s_per_1k", "rss_mb_load", "rss_mb_max_load"]
    names = [n for n in TELEMETRY_SCENARIOS if any(x["name"] == n for x in runs)]
    # The median of each figure over the rounds (one round: the figure itself), and its ratio to the off run's.
    med = {n: {k: statistics.median(x[k] for x in runs if x["name"] == n) for k in keys} for n in names}
    res["medians"] = med
    rounds = max(x.get("round", 0) for x in runs) + 1 if runs else 0
    if rounds > 1:
        lines += ["", f"Median of {rounds} rounds:", "", "| scenario | " + " | ".join(keys) + " |",
                  "|---|" + "---:|" * len(keys)]
        digits = {"rps_max": 0, "cpu_s_per_1k": 4, "rss_mb_load": 1, "rss_mb_max_load": 1}
        lines += [f"| {n} | " + " | ".join(f"{v:.{digits.get(k, 3)}f}" for k, v in med[n].items()) + " |"
                  for n in names]
    off = med.get(TELEMETRY_SCENARIOS[0])
    if off and len(names) > 1:
        res["ratios_to_off"] = {n: {k: round(med[n][k] / off[k], 3) if off[k] else None for k in keys}
                                for n in names[1:]}
        lines += ["", "| ratio to telemetry-off" + (" (medians)" if rounds > 1 else "") + " | " + " | ".join(keys)
                  + " |", "|---|" + "---:|" * len(keys)]
        lines += [f"| {name} | " + " | ".join(f"{fmt(r[k], 2)}×" for k, v in r.items()) + " |"
                  for name, r in res["ratios_to_off"].items()]
    check = res.get("telemetry_check", {})
    lines += ["", "Telemetry check (off recorded nothing; each part that was on recorded metrics / log lines / spans): "
              + ("passed" if check.get("ok") else "FAILED — " + "; ".join(check.get("problems", [])))]
    lines += ["", f"Run took {res['duration_s']} s. Shared machine: compare within one run, not across runs."]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(prog="bench/run")
    ap.add_argument("--quick", action="store_true", help="~2-minute version (shorter runs)")
    ap.add_argument("--scenarios", default="direct,nginx,haproxy,bowline-sidecar,bowline-mesh")
    ap.add_argument("--rate", type=int, default=1000)
    ap.add_argument("--env", action="append", default=[], metavar="NAME=VALUE",
                    help="environment for the Bowline proxies (e.g. DOTNET_gcServer=0); repeatable")
    ap.add_argument("--out", default="latest", help="results name: bench/results/NAME.json and NAME.md")
    ap.add_argument("--proxy", choices=["auto", "jit", "aot"], default="auto",
                    help="proxy binary: auto = what `bowline up` runs (the AOT build when present and fresh), jit, aot")
    ap.add_argument("--proxy-path", metavar="EXE",
                    help="run this proxy executable instead (e.g. an AOT build published with other settings)")
    ap.add_argument("--skip-extras", action="store_true", help="no HTTP/2 / stream measurements")
    ap.add_argument("--keep-tmp", action="store_true")
    ap.add_argument("--variants", action="store_true",
                    help="bowline-sidecar (and nginx for scale) under each runtime setting in VARIANTS -> results/variants.*")
    ap.add_argument("--profile", action="store_true",
                    help="dotnet-trace each Bowline proxy during its fixed-rate run (bench/results/NAME-*.top.txt)")
    ap.add_argument("--telemetry", action="store_true",
                    help="bowline-sidecar with telemetry off, on (metrics, access log, 100 %% tracing), then each "
                         "part alone -> results/telemetry.*")
    ap.add_argument("--repeat", type=int, default=1, metavar="N", help="--telemetry: N rounds (medians reported)")
    ap.add_argument("--rounds", type=int, metavar="N",
                    help="data plane: measure every scenario N times, rotating the order (medians reported); "
                         "default 3, --quick 2")
    cfg = ap.parse_args()
    cfg.scenarios = cfg.scenarios.split(",")
    if cfg.telemetry:
        # --scenarios may pick some of the telemetry runs (e.g. only off and on); else all of them.
        picked = [x for x in cfg.scenarios if x in TELEMETRY_SCENARIOS]
        cfg.scenarios, cfg.skip_extras = picked or list(TELEMETRY_SCENARIOS), True
        if cfg.out == "latest":
            cfg.out = "telemetry"
    cfg.env = dict(e.split("=", 1) for e in cfg.env)
    # Per round; the medians of several short rounds say more on this VM than one long pass.
    if cfg.quick:
        cfg.settle, cfg.warm, cfg.wrk_cycles, cfg.lg_warm, cfg.lg, cfg.h2, cfg.big_mb, cfg.iperf = 0.5, 2, 2, 1, 5, 3, 256, 2
        cfg.rounds = cfg.rounds or 2
    else:
        cfg.settle, cfg.warm, cfg.wrk_cycles, cfg.lg_warm, cfg.lg, cfg.h2, cfg.big_mb, cfg.iperf = 1, 3, 4, 3, 15, 10, 1024, 5
        cfg.rounds = cfg.rounds or 3
    cfg.wrk_slice = 2  # seconds per max-throughput window
    if cfg.telemetry or cfg.variants:
        cfg.rounds = 1

    def on_signal(sig, _frame):
        raise KeyboardInterrupt(f"signal {sig}")

    signal.signal(signal.SIGTERM, on_signal)
    if cfg.variants:
        return variants(cfg)
    res = dataplane(cfg)
    res["load"]["rate"] = cfg.rate
    os.makedirs(RESULTS, exist_ok=True)
    res["loadavg_at_end"] = os.getloadavg()
    md = telemetry_report(res) if cfg.telemetry else markdown(res)
    with open(os.path.join(RESULTS, f"{cfg.out}.json"), "w") as f:
        json.dump(res, f, indent=2)
    with open(os.path.join(RESULTS, f"{cfg.out}.md"), "w") as f:
        f.write(md)
    print(md)
    log(f"wrote bench/results/{cfg.out}.json and .md")
    if not res.get("telemetry_check", {}).get("ok", True):
        sys.exit(1)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        log("interrupted; everything started was stopped")
        sys.exit(130)
