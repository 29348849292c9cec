#!/usr/bin/env python3
"""Control plane at scale: N services, M simulated proxies speaking the real push protocol (bench/xdssim).

Run through `bench/run controlplane` (see bench/README.md). Writes bench/results/controlplane.{json,md}.
"""
import argparse
import datetime
import json
import os
import shutil
import signal
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench import BIN, CP_DLL, RESULTS, Procs, free_port, log, machine_info, wait_http  # noqa: E402

SIM_DLL = os.path.join(BIN, "Bowline.Bench.XdsSim", "release", "Bowline.Bench.XdsSim.dll")
NS = "bench"
CP_CORE, SIM_CORE = "1", "0"


def registry(services, proxies):
    pods = []
    for i in range(proxies):
        svc = i % services
        pods.append({"name": f"svc-{svc}-{i // services}", "namespace": NS, "workload": f"svc-{svc}",
                     "labels": {"app": f"svc-{svc}"},
                     # Never bound: the simulated proxies only speak the push protocol.
                     "ports": [{"containerPort": 8080, "name": "http", "appPort": 20000 + i, "inboundPort": 40000 + i}],
                     "outboundPort": 1024 + i, "adminPort": 60000 + (i % 5000)})
    return {"pods": pods}


def services_yaml(services):
    docs = [f"""apiVersion: v1
kind: Service
metadata:
  name: svc-{i}
  namespace: {NS}
spec:
  selector:
    app: svc-{i}
  ports:
  - name: http
    port: 8080
    targetPort: 8080
""" for i in range(services)]
    return "---\n".join(docs)


def markdown(r):
    m = r["machine"]
    one, all_, churn = r["one_service_change"], r["all_services_change"], r["churn"]
    return f"""# Bowline control-plane benchmark — {r['when']} ({r['mode']})

Machine: {m['cores']} cores, {m['cpu_model']}; load average at start {', '.join(f'{x:.2f}' for x in m['loadavg_at_start'])}.
Control plane pinned to core {CP_CORE}, the simulator (all proxies, one process) to core {SIM_CORE}.

{r['services']} services, {r['proxies']} simulated proxies (every sidecar gets every service, as Istio without a
`Sidecar` resource); initial sync of all proxies {r['initial_sync_s']} s, {r['config_kb_per_proxy']} KB of config each.
Push latency = apply request sent → the last proxy's ACK of a config carrying the change.

| change | n | p50 ms | p99 ms | max ms | pushes / change | MB pushed / change | CP CPU s / change |
|---|---:|---:|---:|---:|---:|---:|---:|
| one service (its VirtualService) | {one['changes']} | {one['p50_ms']} | {one['p99_ms']} | {one['max_ms']} | {one['pushes_per_change']} | {one['mb_pushed_per_change']} | {one['cp_cpu_s_per_change']} |
| all services (wildcard VirtualService) | {all_['changes']} | {all_['p50_ms']} | {all_['p99_ms']} | {all_['max_ms']} | {all_['pushes_per_change']} | {all_['mb_pushed_per_change']} | {all_['cp_cpu_s_per_change']} |
| churn at {churn['achieved_changes_per_s']}/s | {churn['changes']} | {churn['p50_ms']} | {churn['p99_ms']} | {churn['max_ms']} | – | – | {churn['cp_cpu_s']} s total, {churn['cp_vcpu']} vCPU |

Control plane RSS: {r['rss_mb_after_sync']} MB after the initial sync, peak {r['rss_mb']} MB (per phase: sync
{r.get('rss_mb_peak_sync', '–')}, one {one.get('rss_mb_peak', '–')}, all {all_.get('rss_mb_peak', '–')}, churn
{churn.get('rss_mb_peak', '–')}); CPU {r['cpu_s']} s over the whole run. Missed ACKs: {one['missed_acks']} / {all_['missed_acks']} / {churn['missed_acks']}; deltas NACKed for another base
(then sent whole): {r.get('delta_nacks', '–')}.

| target | | figure |
|---|---|---|
| push p99 ≤ 1 s | {'met' if r['push_p99_ms'] <= 1000 else 'MISSED'} | {r['push_p99_ms']} ms |
| RSS ≤ 1 GB | {'met' if r['rss_mb'] <= 1024 else 'MISSED'} | {r['rss_mb']} MB |

Run took {r['duration_s']} s on a shared machine.
"""


def main():
    ap = argparse.ArgumentParser(prog="bench/run controlplane")
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--services", type=int, default=1000)
    ap.add_argument("--proxies", type=int, default=2000)
    ap.add_argument("--keep-tmp", action="store_true")
    cfg = ap.parse_args()
    changes, churn_s = (5, 5) if cfg.quick else (20, 20)

    def on_signal(sig, _frame):
        raise KeyboardInterrupt(f"signal {sig}")

    signal.signal(signal.SIGTERM, on_signal)
    procs = Procs()
    tmp = tempfile.mkdtemp(prefix="bowline-cpbench-")
    started = time.monotonic()
    out = {"when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "mode": "quick" if cfg.quick else "full", "machine": machine_info()}
    try:
        state = os.path.join(tmp, "state")
        os.makedirs(state)
        with open(os.path.join(state, "registry.json"), "w") as f:
            json.dump(registry(cfg.services, cfg.proxies), f)
        port = free_port()
        cp = procs.start("controlplane", ["dotnet", CP_DLL, "--listen", f"127.0.0.1:{port}", "--state-dir", state],
                         core=CP_CORE, logdir=tmp)
        wait_http(f"http://127.0.0.1:{port}/healthz/ready", cp, timeout=120)
        log(f"applying {cfg.services} Services")
        body = json.dumps({"files": [{"name": "services.yaml", "content": services_yaml(cfg.services)}]}).encode()
        req = urllib.request.Request(f"http://127.0.0.1:{port}/api/v1/apply", data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=300) as r:
            if json.load(r).get("errors"):
                raise RuntimeError("Services refused")
        sim_out = os.path.join(tmp, "sim.json")
        log(f"simulating {cfg.proxies} proxies")
        sim = procs.start("xdssim", ["dotnet", SIM_DLL, "--cp", f"http://127.0.0.1:{port}",
                                     "--registry", os.path.join(state, "registry.json"), "--cp-pid", str(cp.pid),
                                     "--changes", str(changes), "--churn-seconds", str(churn_s), "--out", sim_out],
                          core=SIM_CORE, inherit=True)
        rc = sim.wait()
        if rc != 0 or cp.poll() is not None:
            raise RuntimeError(f"simulator exited {rc}; control plane {'running' if cp.poll() is None else 'exited'}"
                               f" (logs in {tmp})")
        with open(sim_out) as f:
            out.update(json.load(f))
    finally:
        procs.stop_all()
        if cfg.keep_tmp:
            log(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    out["duration_s"] = round(time.monotonic() - started, 1)
    os.makedirs(RESULTS, exist_ok=True)
    with open(os.path.join(RESULTS, "controlplane.json"), "w") as f:
        json.dump(out, f, indent=2)
    md = markdown(out)
    with open(os.path.join(RESULTS, "controlplane.md"), "w") as f:
        f.write(md)
    print(md)


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        log("interrupted; everything started was stopped")
        sys.exit(130)
