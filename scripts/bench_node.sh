#!/usr/bin/env bash
# Runs the node, process and RPC benchmarks (bench/node_bench.cpp with erl nodes running
# bench/beam_node_bench.erl) and prints each figure beside BEAM's, the ratios and whether each
# target is met. With --write it also replaces the node-bench block of docs/BENCHMARKS.md.
#
#   scripts/bench_node.sh [--write] [--quick] [--no-build] [--report-only] [--procs N] [--reps R]
#                         [--placement free|one-core|both]
#
#   --write        update docs/BENCHMARKS.md (between node-bench:begin / node-bench:end)
#   --quick        small counts, one repetition: a smoke test, not numbers to publish
#   --no-build     use the node_bench already in $EDIST_NODE_BENCH_BUILD_DIR
#   --report-only  measure nothing: print (and with --write, write) the last run's results
#   --procs N      idle processes for the memory figure (default 1,000,000)
#   --reps R       repetitions of each measurement, best kept (default 3)
#   --placement P  where the nodes run: `free` (the kernel places every thread), `one-core` (the
#                  driver, its C++ nodes and the erl nodes it starts all pinned to one CPU with
#                  taskset, so that a wake-up never crosses CPUs), or `both` (the default). The
#                  process benchmarks run in free placement only.
#
# The build goes to $EDIST_NODE_BENCH_BUILD_DIR (default build/nodebench). A private epmd is
# started on a free port and killed at the end; the erl nodes halt when the driver's control
# node goes away, whatever way the driver ends.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$root/scripts/bench_common.sh"
build=${EDIST_NODE_BENCH_BUILD_DIR:-$root/build/nodebench}
write=0 build_it=1 measure=1 quick=0 procs=1000000 reps=3 placement=both
while (($#)); do
    case $1 in
        --write) write=1 ;;
        --quick) quick=1 procs=100000 ;;
        --no-build) build_it=0 ;;
        --report-only) build_it=0 measure=0 ;;
        --procs) procs=$2; shift ;;
        --reps) reps=$2; shift ;;
        --placement)
            placement=$2; shift
            [[ $placement =~ ^(free|one-core|both)$ ]] || { echo "bench_node.sh: --placement free|one-core|both" >&2; exit 2; } ;;
        -h | --help) sed -n '2,21p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench_node.sh: unknown argument $1" >&2; exit 2 ;;
    esac
    shift
done

out=$build/node-bench-results
if [[ $measure == 1 ]]; then
    mkdir -p "$out" "$build/ebin"
    if [[ $build_it == 1 ]]; then
        cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DEDIST_BUILD_TESTS=OFF \
            -DEDIST_BUILD_CLI=OFF -DEDIST_BUILD_BENCH=ON >/dev/null
        ninja -C "$build" -j2 node_bench >/dev/null
    fi
    exe=$build/bench/node_bench
    [[ -x $exe ]] || { echo "bench_node.sh: $exe not built" >&2; exit 1; }
    erlc -o "$build/ebin" "$root/bench/beam_node_bench.erl"

    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("",0)); print(s.getsockname()[1])')
    export ERL_EPMD_PORT=$port
    epmd -port "$port" -daemon
    trap 'epmd -port "$port" -kill >/dev/null 2>&1 || true' EXIT
    for _ in $(seq 50); do epmd -port "$port" -names >/dev/null 2>&1 && break; sleep 0.1; done

    {
        bench_machine_facts "$build"
        if commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null); then
            [[ -z $(git -C "$root" status --porcelain --untracked-files=no -- src include bench/node_bench.cpp bench/beam_node_bench.erl) ]] \
                || commit="$commit with uncommitted changes"
        else
            commit=${EDIST_BENCH_COMMIT:-unknown}
        fi
        echo "commit=$commit"
        echo "load_before=$(cut -d' ' -f1-3 /proc/loadavg)"
        echo "quick=$quick"
        echo "reps=$([[ $quick == 1 ]] && echo 1 || echo "$reps")"
    } >"$out/machine.txt"

    args=(--epmd-port "$port" --ebin "$build/ebin" --reps "$reps")
    [[ $quick == 1 ]] && args+=(--quick)
    placements=(free one-core)
    [[ $placement != both ]] && placements=("$placement")
    one_core=$(cut -d, -f1 <<<"$(taskset -cp $$ | sed 's/.*: //')" | cut -d- -f1) # the first CPU this shell may use
    echo "one_core_cpu=$one_core" >>"$out/machine.txt"
    rm -f "$out"/results*.txt
    for where in "${placements[@]}"; do
        pin=()
        [[ $where == one-core ]] && pin=(taskset -c "$one_core")
        for mode in node processes rpc; do
            [[ $mode == processes && $where != free ]] && continue
            echo "== $mode ($where placement)" >&2
            extra=()
            [[ $mode == processes ]] && extra=(--procs "$procs")
            start=$(date +%s)
            # The driver's own log lines (peers closing connections at the end) go to stderr.log.
            "${pin[@]}" "$exe" "$mode" "${args[@]}" "${extra[@]}" 2>>"$out/stderr.log" \
                | tee -a "$out/results-$where.txt" >&2 \
                || { echo "bench_node.sh: $mode failed; see $out/stderr.log and /tmp/node_bench_*.log" >&2; exit 1; }
            echo "seconds_${mode}_$where=$(($(date +%s) - start))" >>"$out/machine.txt"
        done
    done
    echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/machine.txt"
fi
compgen -G "$out/results-*.txt" >/dev/null || { echo "bench_node.sh: no results in $out" >&2; exit 1; }

python3 - "$out" "$root/docs/BENCHMARKS.md" "$write" <<'EOF'
import pathlib, re, sys

out, doc_path, write = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3] == "1"
machine = dict(l.split("=", 1) for l in (out / "machine.txt").read_text().splitlines() if "=" in l)
res, info = {}, ""
placements = [w for w in ("free", "one-core") if (out / f"results-{w}.txt").exists()]
for where in placements:
    for line in (out / f"results-{where}.txt").read_text().splitlines():
        f = line.split()
        if f[:1] == ["result"]:
            res[(where, f[1], f[2], f[3])] = (float(f[4]), f[5])
        elif f[:2] == ["info", "beam"]:
            kv = dict(x.split("=", 1) for x in f[2:])
            info = f"OTP {kv['otp']} (erts {kv['erts']}, {kv['flavor']}, {kv['schedulers']} scheduler)"

def v(where, group, metric, pair):
    return res.get((where, group, metric, pair), (None, ""))[0]

def fmt(x):
    if x is None:
        return "—"
    if x >= 100:
        return f"{x:,.0f}"
    return f"{x:.2f}" if x < 10 else f"{x:.1f}"

def cap(text):
    return text[0].upper() + text[1:]

title = {"free": "free placement", "one-core": f"all nodes on one core (CPU {machine.get('one_core_cpu', '0')})"}
pairs = ["cpp_cpp", "cpp_beam", "beam_cpp", "beam_beam"]
lines = [
    f"Measured {machine['date']} at commit {machine['commit']} on {machine['cpu']} "
    f"({machine['cores']} cores), {machine['kernel']}, {machine['cxx']}, {info}.",
    "",
    f"Load average {machine['load_before']} before, {machine['load_after']} after (other engineers' "
    "builds and tests share the machine). Wall-clock times; each figure is the best of "
    f"{machine['reps']} repetitions, C++ and BEAM interleaved. Every node has one thread: "
    "`threads = 1` for edist, `+S 1` for erl.",
    "",
    "Node and RPC figures are taken twice. In *free placement* the kernel puts every thread where "
    "it likes, so a message often wakes a thread on the other CPU. With *all nodes on one core* "
    "the driver, its C++ nodes and the erl nodes it starts are pinned to one CPU (`taskset`), so "
    "no wake-up crosses CPUs: on this VM a cross-CPU wake-up costs tens of microseconds, which "
    "the kernel-floor line of each placement shows.",
    "",
]
if machine.get("quick") == "1":
    lines += ["**Quick run (--quick): small counts, one repetition; a smoke test, not results.**", ""]
checks = {w: [] for w in placements}

def target_rows(targets, ratio_of):
    """One row per target, one column per placement: the ratio and met / not met."""
    rows = ["| target | " + " | ".join(title[w] for w in placements) + " |",
            "|---|" + "---|" * len(placements)]
    for t in targets:
        cells = []
        for w in placements:
            r = ratio_of(w, t)
            if r is None:
                cells.append("—")
                continue
            ok = t[-1](r)
            checks[w].append(ok)
            cells.append(f"{r:.2f} {'met' if ok else '**not met**'}")
        rows.append(f"| {t[0]} | " + " | ".join(cells) + " |")
    return rows

# 1. node core
lines += ["### Node core"]
for w in placements:
    lines += ["", f"{cap(title[w])}:", "",
              "| | C++→C++ | C++→BEAM | BEAM→C++ | BEAM→BEAM |", "|---|--:|--:|--:|--:|"]
    for metric, label in [("oneway", "one-way small messages (msg/s)"), ("rtt", "ping-pong round trip (µs)"),
                          ("bandwidth_1mb", "1 MB binaries, one way (MB/s)"), ("setup", "connection setup (µs)")]:
        lines.append(f"| {label} | " + " | ".join(fmt(v(w, "node", metric, p)) for p in pairs) + " |")
    floor, beam_rtt = v(w, "node", "rtt_floor", "kernel"), v(w, "node", "rtt", "beam_beam")
    if floor is not None and beam_rtt is not None:
        lines += ["", f"Kernel floor for a round trip in this placement (two threads ping-ponging 32 bytes "
                  f"over loopback TCP with blocking calls, no runtime): {fmt(floor)} µs; a third of "
                  f"BEAM↔BEAM's round trip is {fmt(beam_rtt / 3)} µs."]
# rtt: C++ time ÷ BEAM time; setup: BEAM time ÷ C++ time (≥ 1: C++ not slower); others: C++ ÷ BEAM rate
node_targets = [
    ("one-way C++→C++ ≥ 5× BEAM→BEAM (C++ ÷ BEAM rate)", "oneway", "cpp_cpp", True, lambda r: r >= 5),
    ("one-way C++→BEAM ≥ BEAM→BEAM (C++ ÷ BEAM rate)", "oneway", "cpp_beam", True, lambda r: r >= 1),
    ("round trip C++↔C++ ≤ 1/3 of BEAM↔BEAM (C++ ÷ BEAM time)", "rtt", "cpp_cpp", True, lambda r: r <= 1 / 3),
    ("1 MB bandwidth C++→C++ ≥ BEAM→BEAM (C++ ÷ BEAM rate)", "bandwidth_1mb", "cpp_cpp", True, lambda r: r >= 1),
    ("setup C++→C++ no slower than BEAM→BEAM (BEAM ÷ C++ time)", "setup", "cpp_cpp", False, lambda r: r >= 1),
]
def node_ratio(w, t):
    _, metric, a, num_first, _ = t
    va, vb = v(w, "node", metric, a), v(w, "node", metric, "beam_beam")
    if va is None or vb is None:
        return None
    return va / vb if num_first else vb / va
lines += [""] + target_rows(node_targets, node_ratio)

# 2. processes (free placement)
if "free" in placements:
    lines += ["", "### Processes", "",
              "| | edist | BEAM | edist ÷ BEAM |", "|---|--:|--:|--:|"]
    n = v("free", "processes", "idle_count", "cpp")
    for metric, label in [("spawn_rate", "spawn until running (processes/s)"),
                          ("memory_per_idle", f"memory per idle process, {fmt(n)} processes (bytes)"),
                          ("local_send", "local one-way messages (msg/s)"),
                          ("local_rtt", "local ping-pong round trip (ns)")]:
        c, b = v("free", "processes", metric, "cpp"), v("free", "processes", metric, "beam")
        r = None if c is None or b is None else c / b
        lines.append(f"| {label} | {fmt(c)} | {fmt(b)} | {fmt(r)} |")
    mem = v("free", "processes", "memory_per_idle", "cpp")
    lines += ["", "| target | value | |", "|---|--:|---|"]
    if mem is not None:
        checks["free"].append(mem <= 1024)
        lines.append(f"| memory per idle process ≤ 1 KB with {fmt(n)} processes on one node | {mem:.0f} bytes | "
                     f"{'met' if mem <= 1024 else '**not met**'} |")
    lines += ["", "edist's memory is the growth of the process's resident set (`/proc/self/statm`, after "
              "`malloc_trim`) over the idle processes; BEAM's is the growth of `erlang:memory(processes)` "
              f"(`erlang:memory(total)` grew by {fmt(v('free', 'processes', 'memory_total_per_idle', 'beam'))} "
              "bytes per process)."]

# 3. RPC
lines += ["", "### RPC (erpc:call of an identity function, calls/s)"]
for w in placements:
    lines += ["", f"{cap(title[w])}:", "",
              "| callers | C++→C++ | C++→BEAM | BEAM→C++ | BEAM→BEAM |", "|---|--:|--:|--:|--:|"]
    for c in ("1", "100"):
        lines.append(f"| {c} | " + " | ".join(fmt(v(w, "rpc", f"calls_{c}", p)) for p in pairs) + " |")
rpc_targets = [(f"{name}, {c} caller{'s' if c != '1' else ''}", a, c, lambda r, limit=limit: r >= limit)
               for name, a, limit in [("BEAM→C++ ≥ 1.5× BEAM→BEAM", "beam_cpp", 1.5),
                                      ("C++→BEAM ≥ BEAM→BEAM", "cpp_beam", 1.0)]
               for c in ("1", "100")]
def rpc_ratio(w, t):
    _, a, c, _ = t
    va, vb = v(w, "rpc", f"calls_{c}", a), v(w, "rpc", f"calls_{c}", "beam_beam")
    return None if va is None or vb is None else va / vb
lines += [""] + target_rows(rpc_targets, rpc_ratio)
lines += [""] + [f"{cap(title[w])}: {sum(checks[w])} of {len(checks[w])} targets met." for w in placements]
text = "\n".join(lines)
print(text)

if write:
    begin, end = "<!-- node-bench:begin (generated by scripts/bench_node.sh --write) -->", "<!-- node-bench:end -->"
    doc = doc_path.read_text() if doc_path.exists() else "# Benchmarks\n"
    m = re.search(r"<!-- node-bench:begin.*?-->.*?" + re.escape(end), doc, flags=re.S)
    if m:
        prose_begin = doc.find("<!-- node-bench:results -->", m.start(), m.end())
        head = doc[m.start():prose_begin] if prose_begin != -1 else begin + "\n"
        block = head + "<!-- node-bench:results -->\n" + text + "\n" + end
        doc = doc[:m.start()] + block + doc[m.end():]
    else:
        doc = doc.rstrip("\n") + "\n\n" + begin + "\n<!-- node-bench:results -->\n" + text + "\n" + end + "\n"
    doc_path.write_text(doc)
    print(f"\nwrote {doc_path}", file=sys.stderr)
EOF
