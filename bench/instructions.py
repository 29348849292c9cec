#!/usr/bin/env python3
"""User-space instructions per proxied request, counted by valgrind (callgrind): Bowline's sidecar, nginx and HAProxy
behind the same upstream, the same requests. Run through `bench/run instructions`; see bench/README.md.

Why: CPU time per request on a shared VM swings ~50 % between minutes, and a VM without a PMU has no `perf stat -e
instructions`. Callgrind counts every instruction the process executes in user space (all threads; the kernel's share,
the same for all three proxies, is not counted), so two runs of one binary agree within ~0.1–1 % and a 2 % change is
visible. The counts are taken between `callgrind_control --zero` and `--dump` around N requests, after a warm-up.
"""
import argparse
import collections
import datetime
import http.client
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time

import bench as b

SYMBOLS_DIR = os.path.join(b.ROOT, "artifacts", "instructions")


def drive(port, requests, connections=8, host=None):
    """`requests` GET /1k over `connections` keep-alive connections; returns how many answered 200."""
    ok = [0] * connections
    headers = {"Host": host} if host else {}

    def worker(k):
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        for _ in range(requests // connections):
            c.request("GET", "/1k", headers=headers)
            r = c.getresponse()
            r.read()
            ok[k] += r.status == 200
        c.close()

    threads = [threading.Thread(target=worker, args=(k,)) for k in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(ok)


def symbol_proxy():
    """The AOT proxy with a symbol table valgrind can read: published unstripped, then its DWARF 5 debug sections
    (which valgrind 3.19 cannot parse) removed."""
    art = os.path.join(SYMBOLS_DIR, "publish-tmp")
    b.log("publishing the Native AOT proxy with symbols (~1-2 min)")
    subprocess.run(["dotnet", "publish", os.path.join(b.ROOT, "src", "Bowline.Proxy"), "-c", "Release",
                    "-p:BowlineAot=true", "-p:StripSymbols=false", f"-p:ArtifactsPath={art}", "--nologo", "-v", "q",
                    "-clp:ErrorsOnly"], check=True)
    exe = os.path.join(SYMBOLS_DIR, "Bowline.Proxy")
    subprocess.run(["objcopy", "--strip-debug",
                    os.path.join(art, "publish", "Bowline.Proxy", "release_linux-x64", "Bowline.Proxy"), exe], check=True)
    subprocess.run(["rm", "-rf", art], check=True)
    return exe


def valgrind_argv(out_file):
    return ["valgrind", "--tool=callgrind", f"--callgrind-out-file={out_file}", "--dump-instr=no"]


def measure(name, pid, port, cfg, out_file, host=None):
    """Warm-up, zero the counters, N requests, dump; returns the dump's path."""
    if drive(port, cfg.warmup, host=host) != cfg.warmup:
        raise RuntimeError(f"{name}: warm-up requests failed")
    subprocess.run(["callgrind_control", "--zero", str(pid)], check=True, capture_output=True)
    t = time.monotonic()
    answered = drive(port, cfg.requests, host=host)
    if answered != cfg.requests:
        raise RuntimeError(f"{name}: {cfg.requests - answered} of {cfg.requests} requests failed")
    subprocess.run(["callgrind_control", "--dump=measured", str(pid)], check=True, capture_output=True)
    b.log(f"{name}: {cfg.requests} requests in {time.monotonic() - t:.1f} s under callgrind")
    # The dump is written as <file>.<n>; the measured one is the newest.
    base = os.path.basename(out_file)
    dumps = [os.path.join(os.path.dirname(out_file), f) for f in os.listdir(os.path.dirname(out_file))
             if f.startswith(base + ".")]
    return max(dumps, key=os.path.getmtime)


def parse(path):
    """Self cost per function and caller→callee inclusive costs from a callgrind file (name compression resolved)."""
    names, self_cost, calls = {}, collections.Counter(), collections.Counter()
    fn = cfn = None
    skip = False

    def resolve(tok):
        m = re.match(r"\((\d+)\)(?: (.*))?", tok)
        if not m:
            return tok
        if m.group(2) is not None:
            names[m.group(1)] = m.group(2)
        return names.get(m.group(1), tok)

    with open(path, errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if line.startswith("fn="):
                fn = resolve(line[3:])
            elif line.startswith("cfn="):
                cfn = resolve(line[4:])
            elif line.startswith("calls="):
                skip = True
            elif line and (line[0].isdigit() or line[0] in "+-*"):
                parts = line.split()
                if len(parts) < 2:
                    continue
                if skip:
                    skip = False
                    if cfn != fn:
                        calls[(fn, cfn)] += int(parts[1])
                else:
                    self_cost[fn] += int(parts[1])
    return self_cost, calls


# Bowline's request path in parts: inclusive instructions of the frames that own each part.
PARTS = [
    ("upstream response head parse", "Http1ResponseHead__Parse"),
    ("upstream request head build", "Http1Client__BuildHead"),
    ("response body copy + flush", "Http1Connection__CopyBodyAsync"),
    ("Kestrel request parse", "Http1Connection__TryParseRequest"),
    ("Kestrel response head write", "HttpProtocol__InitializeResponseAsync"),
    ("telemetry (metrics, logs, traces)", "CompositeRequestObserver__OnRequestCompleted"),
    ("allocation (GC alloc slow path)", "RhpGcAlloc"),
]


def shorten(name):
    name = re.sub(r"^(S_P_CoreLib_|Microsoft_AspNetCore_Server_Kestrel_Core_Microsoft_AspNetCore_Server_Kestrel_Core_Internal_"
                  r"|Bowline_Proxy_Bowline_Proxy_|System_Net_Sockets_System_Net_Sockets_|System_IO_Pipelines_System_IO_Pipelines_)",
                  "", name)
    return name[:110]


def summarize(name, path, requests, top):
    self_cost, calls = parse(path)
    total = sum(self_cost.values())
    inclusive = collections.Counter(self_cost)
    for (caller, _), c in calls.items():
        inclusive[caller] += c
    res = {"name": name, "instructions_per_request": round(total / requests),
           "top_self": [{"function": shorten(f), "per_request": round(c / requests), "share": round(c / total, 4)}
                        for f, c in self_cost.most_common(top)]}
    if name.startswith("bowline"):
        parts = []
        for label, frame in PARTS:
            best = max((c for f, c in inclusive.items() if frame in f), default=0)
            parts.append({"part": label, "frame": frame, "per_request": round(best / requests)})
        res["parts"] = parts
    return res


def markdown(out):
    lines = [f"# User instructions per proxied request — {out['when']}", "",
             f"callgrind ({out['valgrind']}), {out['requests']} GET /1k after {out['warmup']} warm-up, "
             f"{out['connections']} keep-alive connections, same upstream nginx. Counts are user space only, all "
             "threads of the proxy process; repeat within ~1 % for one binary (timing-dependent work such as a changed Date or service-time line remains).", "",
             "| proxy | instructions / request | × nginx |", "|---|---:|---:|"]
    nginx = next((r["instructions_per_request"] for r in out["proxies"] if r["name"] == "nginx"), None)
    for r in out["proxies"]:
        ratio = f"{r['instructions_per_request'] / nginx:.2f}" if nginx else "–"
        lines.append(f"| {r['name']} | {r['instructions_per_request']:,} | {ratio} |")
    for r in out["proxies"]:
        if r.get("parts"):
            lines += ["", f"{r['name']}: parts of the request path (inclusive, overlapping frames not subtracted)", "",
                      "| part | instructions / request |", "|---|---:|"]
            lines += [f"| {p['part']} (`{p['frame']}`) | {p['per_request']:,} |" for p in r["parts"]]
        lines += ["", f"{r['name']}: top functions by own instructions", "", "| function | / request | share |",
                  "|---|---:|---:|"]
        lines += [f"| `{t['function']}` | {t['per_request']:,} | {100 * t['share']:.1f} % |" for t in r["top_self"]]
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(prog="bench/run instructions")
    ap.add_argument("--requests", type=int, default=4000)
    ap.add_argument("--warmup", type=int, default=2000)
    ap.add_argument("--proxies", default="bowline-sidecar,bowline-outbound,nginx,haproxy",
                    help="bowline-sidecar (inbound), bowline-outbound (the mesh client's sidecar), nginx, haproxy")
    ap.add_argument("--proxy-path", metavar="EXE", help="this Bowline proxy executable (needs a symbol table)")
    ap.add_argument("--top", type=int, default=25)
    ap.add_argument("--out", default="instructions")
    ap.add_argument("--keep-dumps", action="store_true",
                    help="keep each proxy's callgrind dump as bench/results/OUT-NAME.callgrind (for callgrind_annotate)")
    cfg = ap.parse_args()
    connections = 8
    cfg.requests -= cfg.requests % connections
    wanted = cfg.proxies.split(",")
    procs = b.Procs()
    tmp = tempfile.mkdtemp(prefix="bowline-instructions-")
    out = {"when": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
           "machine": b.machine_info(), "requests": cfg.requests, "warmup": cfg.warmup, "connections": connections,
           "valgrind": subprocess.run(["valgrind", "--version"], capture_output=True, text=True).stdout.strip(),
           "proxies": []}
    try:
        exe = cfg.proxy_path or (symbol_proxy() if any(w.startswith("bowline") for w in wanted) else None)
        up_port, up_h2 = b.free_port(), b.free_port()
        conf = b.write_upstream(tmp, up_port, up_h2, 1)
        upstream = procs.start("upstream", ["nginx", "-p", tmp, "-c", conf], core=b.LOAD_CORE, logdir=tmp)
        b.wait_http(f"http://127.0.0.1:{up_port}/1k", upstream, timeout=10)
        for name in wanted:
            out_file = os.path.join(tmp, f"{name}.callgrind")
            host = None
            # What the measured proxy needs (control plane, the mesh's server sidecar): stopped with it.
            helpers = []
            if name.startswith("bowline"):
                # NativeAOT reserves 256 GB of address space for its GC, more than valgrind allows: cap the heap
                # (hex without 0x, as NativeAOT's config parser wants it).
                wrap = os.path.join(tmp, "valgrind-proxy.sh")
                with open(wrap, "w") as f:
                    f.write("#!/bin/sh\nexport DOTNET_GCHeapHardLimit=20000000\nexec "
                            + " ".join(valgrind_argv(out_file)) + f" {os.path.abspath(exe)} \"$@\"\n")
                os.chmod(wrap, 0o755)
                bl = b.Bowline(tmp, procs, up_port, proxy_path=wrap)
                bl.start_control_plane()
                helpers.append(bl.cp)
                if name == "bowline-sidecar":
                    p, _ = bl.start_proxy("upstream-0", {})
                    port = bl.inbound_port
                elif name == "bowline-outbound":
                    # The client's sidecar of the mesh scenario (outbound listener, route by Host) under callgrind;
                    # the server's sidecar runs as it is.
                    counted = bl.proxy_argv
                    bl.proxy_argv = [os.path.abspath(exe)]
                    helpers.append(bl.start_proxy("upstream-0", {})[0])
                    bl.proxy_argv = counted
                    p, _ = bl.start_proxy("client-0", {})
                    port, host = bl.client_outbound_port, b.MESH_HOST
                else:
                    raise SystemExit(f"unknown proxy {name}")
            elif name in ("nginx", "haproxy"):
                port = b.free_port()
                if name == "nginx":
                    conf = b.write_nginx_proxy(tmp, port, up_port)
                    with open(conf) as f:
                        text = f.read()
                    # One process, so that the counted process is the one serving.
                    with open(conf, "w") as f:
                        f.write("master_process off;\n" + text)
                    argv = ["nginx", "-p", tmp, "-c", conf]
                else:
                    argv = ["haproxy", "-db", "-f", b.write_haproxy(tmp, port, up_port)]
                p = procs.start(f"{name}-proxy", valgrind_argv(out_file) + argv, core=b.PROXY_CORE, logdir=tmp)
                b.wait_http(f"http://127.0.0.1:{port}/1k", p, timeout=60, interval=0.05)
            else:
                raise SystemExit(f"unknown proxy {name}")
            try:
                dump = measure(name, p.pid, port, cfg, out_file, host)
            finally:
                for q in [p, *helpers]:
                    procs.stop(q, grace=20)
            if cfg.keep_dumps:
                os.makedirs(b.RESULTS, exist_ok=True)
                shutil.copy(dump, os.path.join(b.RESULTS, f"{cfg.out}-{name}.callgrind"))
            r = summarize(name, dump, cfg.requests, cfg.top)
            b.log(f"{name}: {r['instructions_per_request']:,} user instructions per request")
            out["proxies"].append(r)
    finally:
        procs.stop_all()
    os.makedirs(b.RESULTS, exist_ok=True)
    md = markdown(out)
    with open(os.path.join(b.RESULTS, f"{cfg.out}.json"), "w") as f:
        json.dump(out, f, indent=2)
    with open(os.path.join(b.RESULTS, f"{cfg.out}.md"), "w") as f:
        f.write(md)
    print(md)
    b.log(f"wrote bench/results/{cfg.out}.json and .md")


if __name__ == "__main__":
    try:
        main()
    except KeyboardInterrupt:
        sys.exit(130)
