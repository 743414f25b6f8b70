#!/usr/bin/env bash
# Whole-process benchmark: generate N articles, ingest them (wall time, peak memory via
# /usr/bin/time -v), store size, then warm (in-process) and cold (new process) query latency.
# usage: scripts/bench.sh [ARTICLES] [SEED]     e.g. scripts/bench.sh 100000
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}; seed=${2:-7}
work=${BENCH_DIR:-target/bench}; mkdir -p "$work"
batch="$work/gen-$n.jsonl"; db="$work/bench-$n.db"
cargo build --release -q --bin diplograph --example generate --example bench
bin=target/release/diplograph
[ -f "$batch" ] || target/release/examples/generate --articles "$n" --seed "$seed" > "$batch"
facts=$(grep -o '"type":"' "$batch" | wc -l)
rm -rf "$db"
echo "== ingest $n articles ($facts facts, $(du -h "$batch" | cut -f1) of JSON Lines)"
/usr/bin/time -v "$bin" --db "$db" ingest "$batch" 2> "$work/ingest-$n.time" || true
grep -E "articles:|Elapsed|Maximum resident" "$work/ingest-$n.time"
secs=$(awk -F': ' '/Elapsed/ {split($2,t,":"); s=0; for(i=1;i<=length(t);i++) s=s*60+t[i]; print s}' "$work/ingest-$n.time")
awk -v n="$n" -v f="$facts" -v s="$secs" 'BEGIN {printf "throughput: %.0f articles/s, %.0f facts/s\n", n/s, f/s}'
size=$(du -sb "$db" | cut -f1)
awk -v b="$size" -v f="$facts" 'BEGIN {printf "store size: %.1f MB, %.0f bytes per fact\n", b/1e6, b/f}'
echo "== warm queries (in-process, median of repeats)"
target/release/examples/bench --db "$db" --repeats "${REPEATS:-20}" | tee "$work/warm-$n.txt"
echo "== cold queries (new process each: open + answer + exit), 10 runs each"
params=$(grep '^params:' "$work/warm-$n.txt" | sed 's/^params: //')
giver=$(echo "$params" | sed -E "s/.*\\\$giver = '([^']*)'.*/\1/")
for q in a g; do
  case $q in
    a) text='MATCH (g:Gift)-[:GIVER]->(p:Person {name: $giver}), (g)-[:RECIPIENT]->(r), (g)-[:ITEM]->(i) RETURN p.name AS giver, i.name AS item, r.name AS recipient ORDER BY item, recipient' ;;
    g) text='MATCH (e:Event) RETURN e.id LIMIT 10' ;;
  esac
  times=()
  for _ in $(seq 10); do
    start=$(date +%s%N)
    "$bin" --db "$db" query "$text" --param "giver=$giver" --format csv > /dev/null
    times+=($(( ($(date +%s%N) - start) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk -v q="$q" '{a[NR]=$1} END {printf "cold (%s): median %.1f ms, min %.1f ms, max %.1f ms\n", q, a[int((NR+1)/2)]/1000, a[1]/1000, a[NR]/1000}'
done
start=$(date +%s%N); "$bin" --db "$db" stats --format json > /dev/null; echo "cold stats: $(( ($(date +%s%N) - start) / 1000000 )) ms"
