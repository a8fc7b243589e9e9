#!/usr/bin/env bash
# Runs the ETF benchmarks of edist, erl_interface (libei) and BEAM in one go and prints ns/op and
# the ratios against the targets. With --write it also regenerates the measured part of
# docs/BENCHMARKS.md (between the bench:begin/bench:end markers; the prose around it is kept).
#
#   scripts/bench.sh [--write] [--quick] [--cpu-time] [--no-build] [--report-only]
#
#   --write     update docs/BENCHMARKS.md
#   --quick     short runs (0.1 s x 3 instead of 0.5 s x 5): a smoke test, not numbers to publish
#   --cpu-time  compare CPU time instead of wall-clock time, for a machine that is not quiet
#               (time spent preempted drops out; cache and frequency effects of the load do not)
#   --no-build  use the etf_bench already in $EDIST_BENCH_BUILD_DIR
#   --report-only  measure nothing: print (and with --write, write) the last run's results again
#
# The build goes to $EDIST_BENCH_BUILD_DIR (default build/bench). Run it on a quiet machine:
# the load average before and after is recorded with the results.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
. "$root/scripts/bench_common.sh"
build=${EDIST_BENCH_BUILD_DIR:-$root/build/bench}
write=0 build_it=1 measure=1 min_time=0.5 reps=5 clock=wall
for arg in "$@"; do
    case $arg in
        --write) write=1 ;;
        --quick) min_time=0.1 reps=3 ;;
        --cpu-time) clock=cpu ;;
        --no-build) build_it=0 ;;
        --report-only) build_it=0 measure=0 ;;
        -h | --help) sed -n '2,16p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench.sh: unknown argument $arg" >&2; exit 2 ;;
    esac
done

out=$build/bench-results
if [[ $measure == 1 ]]; then
    mkdir -p "$out"
    if [[ $build_it == 1 ]]; then
        cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DEDIST_BUILD_TESTS=OFF \
            -DEDIST_BUILD_CLI=OFF -DEDIST_BUILD_BENCH=ON >/dev/null
        ninja -C "$build" -j2 etf_bench >/dev/null
    fi
    bench_exe=$build/bench/etf_bench
    [[ -x $bench_exe ]] || { echo "bench.sh: $bench_exe not built" >&2; exit 1; }

    {
        bench_machine_facts "$build"
        if commit=$(git -C "$root" rev-parse --short HEAD 2>/dev/null); then
            # Only the codec and the public headers go into these numbers.
            [[ -z $(git -C "$root" status --porcelain -- src/etf include/edist/{atom,bigint,error,etf,term}.hpp) ]] || commit="$commit with uncommitted codec changes"
        else
            commit=${EDIST_BENCH_COMMIT:-unknown} # e.g. when run from a `git archive` snapshot
        fi
        echo "commit=$commit"
        echo "load_before=$(cut -d' ' -f1-3 /proc/loadavg)"
    } >"$out/machine.txt"

    echo "== edist / ei terms" >&2
    "$bench_exe" --print-terms >"$out/terms.txt"
    echo "== BEAM term_to_binary / binary_to_term (${min_time} s x ${reps})" >&2
    escript "$root/bench/beam_etf_bench.escript" --min-time "$min_time" --reps "$reps" >"$out/beam.txt"
    echo "== edist and ei (${min_time} s x ${reps})" >&2
    "$bench_exe" --benchmark_min_time="$min_time" --benchmark_repetitions="$reps" \
        --benchmark_report_aggregates_only=true --benchmark_format=json \
        --benchmark_out="$out/etf_bench.json" --benchmark_out_format=json >/dev/null
    echo "load_after=$(cut -d' ' -f1-3 /proc/loadavg)" >>"$out/machine.txt"
    printf "min_time=%s\nreps=%s\nclock=%s\n" "$min_time" "$reps" "$clock" >>"$out/machine.txt"
fi
[[ -f $out/etf_bench.json ]] || { echo "bench.sh: no results in $out" >&2; exit 1; }

python3 - "$out" "$root/docs/BENCHMARKS.md" "$write" <<'EOF'
import json, pathlib, re, sys

out, doc_path, write = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2]), sys.argv[3] == "1"
terms = ["small_tuple", "atom_map10", "int_list200", "document4k", "binary1m"]
machine = dict(l.split("=", 1) for l in (out / "machine.txt").read_text().splitlines() if "=" in l)

# term <name> <side> size <n> crc32 <c>, from both programs.
encoded, beam, otp = {}, {}, ""
for line in (out / "terms.txt").read_text().splitlines() + (out / "beam.txt").read_text().splitlines():
    f = line.split()
    if f[:1] == ["term"]:
        encoded.setdefault(f[1], {})[f[2]] = (int(f[4]), int(f[6]))
    elif f[:2] == ["beam", "otp"]:
        otp = f"OTP {f[2]} (erts {f[4]}, {f[5]})"
    elif f[:1] == ["beam"]:
        cpu = machine["clock"] == "cpu"
        beam[f[1]] = {"encode": float(f[7 if cpu else 3]), "decode": float(f[9 if cpu else 5]),
                      "iovec": float(f[13 if cpu else 11])}

ns = {}
for b in json.loads((out / "etf_bench.json").read_text())["benchmarks"]:
    if b.get("aggregate_name") != "median":
        continue
    if b.get("error_occurred"):
        sys.exit(f"bench.sh: {b['run_name']}: {b.get('error_message')}")
    scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}[b["time_unit"]]
    op, side, term = b["run_name"].split("/")
    ns[(op, side, term)] = b["cpu_time" if machine["clock"] == "cpu" else "real_time"] * scale

problems = []
for t in terms:
    sides = encoded.get(t, {})
    sizes = {s: v[0] for s, v in sides.items()}
    if len(set(sizes.values())) != 1 or "beam" not in sizes:
        problems.append(f"{t}: encoded sizes differ between sides: {sizes}")
    elif len({v[1] for v in sides.values()}) != 1:
        problems.append(f"{t}: same size but different bytes (CRC-32) between sides: "
                        + ", ".join(f"{s} {v[1]}" for s, v in sides.items()))
if any("sizes differ" in p for p in problems):
    sys.exit("bench.sh: the terms are not the same on every side:\n  " + "\n  ".join(problems))

def fmt_ns(v):
    if v is None:
        return "—"
    return f"{v:,.0f}" if v >= 100 else f"{v:.1f}"

def ratio(num, den):
    return None if num is None or den is None else num / den

rows, checks, iovec_rows = [], [], []
for t in terms:
    g = lambda op, side: ns.get((op, side, t))
    e_enc, e_span, e_bin = g("encode", "edist"), g("decode", "edist_span"), g("decode", "edist_binary")
    x_enc, x_skip = g("encode", "ei"), g("decode", "ei_skip_term")
    b_enc, b_dec = beam[t]["encode"], beam[t]["decode"]
    size = encoded[t]["beam"][0]
    rows.append(f"| {t} | {size:,} | {fmt_ns(e_enc)} | {fmt_ns(x_enc)} | {fmt_ns(b_enc)} | "
                f"{fmt_ns(e_span)} | {fmt_ns(e_bin)} | {fmt_ns(x_skip)} | {fmt_ns(b_dec)} |")
    e_shared, b_iov = g("encode", "edist_shared"), beam[t]["iovec"]
    r_iov = ratio(b_iov, e_shared)
    iovec_rows.append(f"| {t} | {fmt_ns(e_shared)} | {fmt_ns(b_iov)} | {'—' if r_iov is None else f'{r_iov:.2f}'} |")
    targets = [
        ("decode ≥ 5× faster than binary_to_term", ratio(b_dec, e_span), ratio(b_dec, e_bin), lambda r: r >= 5),
        ("encode ≥ 2× faster than term_to_binary", ratio(b_enc, e_enc), None, lambda r: r >= 2),
        ("decode ≤ 1.5× ei_skip_term's time", ratio(e_span, x_skip), ratio(e_bin, x_skip), lambda r: r <= 1.5),
        ("encode at least as fast as ei", ratio(x_enc, e_enc), None, lambda r: r >= 1),
    ]
    for name, span_r, bin_r, ok in targets:
        checks.append((t, name, span_r, bin_r, ok))

lines = [
    f"Measured {machine['date']} at commit {machine['commit']} on {machine['cpu']} "
    f"({machine['cores']} cores), {machine['kernel']}, {machine['cxx']}, {otp}.",
    "",
    f"Each figure is the median of {machine['reps']} runs of at least {machine['min_time']} s, "
    + ("in CPU time (thread CPU time for edist and ei, the VM's runtime for BEAM)"
       if machine["clock"] == "cpu" else "in wall-clock time")
    + f"; load average {machine['load_before']} before, {machine['load_after']} after.",
    "",
    "Nanoseconds per operation (lower is better):",
    "",
    "| term | bytes | edist encode | ei encode | BEAM term_to_binary | edist decode (span) "
    "| edist decode (binary) | ei_skip_term | BEAM binary_to_term |",
    "|---|--:|--:|--:|--:|--:|--:|--:|--:|",
    *rows,
    "",
    "Ratios against the targets, each marked met or **not met**. Decode is shown for both "
    "overloads: from a span (binaries copied out) / from a binary Term (large binaries shared).",
    "",
    "| term | decode: BEAM ÷ edist (target ≥ 5) | encode: BEAM ÷ edist (target ≥ 2) "
    "| decode: edist ÷ ei_skip_term (target ≤ 1.5) | encode: ei ÷ edist (target ≥ 1) |",
    "|---|---|---|---|---|",
]
met = total = 0
for t in terms:
    cells = []
    for name, span_r, bin_r, ok in [c[1:] for c in checks if c[0] == t]:
        vals = [r for r in (span_r, bin_r) if r is not None]
        if not vals:
            cells.append("—")
            continue
        total += 1
        met += all(ok(r) for r in vals)
        cells.append(" / ".join(f"{r:.2f} {'met' if ok(r) else '**not met**'}" for r in vals))
    lines.append(f"| {t} | " + " | ".join(cells) + " |")
lines += ["", f"{met} of {total} targets met (for decode: from both a span and a binary)."]
lines += ["",
          "Encoding with large binaries referred to instead of copied, as a connection sends them: "
          "`etf::encode_to` with binaries over 64 bytes listed (`SharedBinary`) against BEAM's "
          "`term_to_iovec`, which refers to its off-heap binaries (over 64 bytes) the same way. "
          "Nanoseconds per operation; the targets above are for the copying encoders.",
          "",
          "| term | edist encode (shared) | BEAM term_to_iovec | BEAM ÷ edist |",
          "|---|--:|--:|--:|",
          *iovec_rows]
if problems:
    lines += ["", *("Note: " + p for p in problems)]
table = "\n".join(lines)
print(table)

if write:
    begin, end = "<!-- bench:begin (generated by scripts/bench.sh --write) -->", "<!-- bench:end -->"
    block = f"{begin}\n{table}\n{end}"
    if doc_path.exists() and begin in doc_path.read_text():
        text = re.sub(re.escape(begin) + ".*?" + re.escape(end), lambda _: block,
                      doc_path.read_text(), flags=re.S)
    else:
        text = f"# Benchmarks\n\n{block}\n"
    doc_path.parent.mkdir(parents=True, exist_ok=True)
    doc_path.write_text(text)
    print(f"\nwrote {doc_path}", file=sys.stderr)
EOF
