#!/usr/bin/env bash
# Graph analytics benchmark: on the generated store of N articles (built as scripts/bench.sh
# builds it), each `diplograph analyze …` runs in a new process (open the store, build the
# projection, run the algorithm, print, exit) under /usr/bin/time -v (wall time, peak RSS);
# then NetworkX (target/peers/venv, scripts/setup-test-peers.sh) on the same projection,
# exported with `analyze ties --format csv`, also in a new process.
# usage: scripts/bench-analytics.sh [ARTICLES] [SEED]      e.g. scripts/bench-analytics.sh 100000
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}; seed=${2:-7}
work=${BENCH_DIR:-target/bench}; mkdir -p "$work"
batch="$work/gen-$n.jsonl"; db="$work/bench-$n.db"
cargo build --release -q --bin diplograph --example generate
bin=target/release/diplograph
python=target/peers/venv/bin/python
[ -f "$batch" ] || target/release/examples/generate --articles "$n" --seed "$seed" > "$batch"
[ -d "$db" ] || "$bin" --db "$db" ingest "$batch"
measure() { # label, then the command
  local label=$1; shift
  /usr/bin/time -v "$@" > "$work/analytics-out.txt" 2> "$work/analytics-time.txt" || { cat "$work/analytics-time.txt"; exit 1; }
  local wall rss
  wall=$(awk -F': ' '/Elapsed/ {split($2,t,":"); s=0; for(i=1;i<=length(t);i++) s=s*60+t[i]; print s}' "$work/analytics-time.txt")
  rss=$(awk -F': ' '/Maximum resident/ {printf "%.0f", $2/1024}' "$work/analytics-time.txt")
  printf '%-58s %7.2f s %6s MB\n' "$label" "$wall" "$rss"
  grep -h "^networkx" "$work/analytics-out.txt" || true
}
echo "== diplograph analyze, new process each ($n articles)"
measure "country pagerank" "$bin" --db "$db" analyze pagerank --level country --format csv
measure "country communities (louvain)" "$bin" --db "$db" analyze communities --level country --format csv
measure "country betweenness, 100 sampled sources" "$bin" --db "$db" analyze betweenness --level country --samples 100 --format csv
measure "person pagerank" "$bin" --db "$db" analyze pagerank --format csv
measure "person betweenness, 100 sampled sources" "$bin" --db "$db" analyze betweenness --samples 100 --format csv
"$bin" --db "$db" analyze ties --level country --format csv > "$work/ties-country-$n.csv"
"$bin" --db "$db" analyze ties --format csv > "$work/ties-person-$n.csv"
echo "== NetworkX on the same projections (edge lists from analyze ties), new process each"
measure "networkx country pagerank" "$python" scripts/bench_networkx.py "$work/ties-country-$n.csv" pagerank
measure "networkx country louvain" "$python" scripts/bench_networkx.py "$work/ties-country-$n.csv" louvain
measure "networkx country betweenness, 100 sampled sources" "$python" scripts/bench_networkx.py "$work/ties-country-$n.csv" betweenness --samples 100
measure "networkx person pagerank" "$python" scripts/bench_networkx.py "$work/ties-person-$n.csv" pagerank
measure "networkx person betweenness, 100 sampled sources" "$python" scripts/bench_networkx.py "$work/ties-person-$n.csv" betweenness --samples 100
