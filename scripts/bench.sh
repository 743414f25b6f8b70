#!/usr/bin/env bash
# Whole-process benchmark: generate N articles, ingest them (wall time, peak memory via
# /usr/bin/time -v), store size, then warm (in-process) and cold (new process) query latency.
# usage: scripts/bench.sh [ARTICLES] [SEED]     e.g. scripts/bench.sh 100000
# COLD_ONLY=1 reruns only the cold queries against the store and parameters of the last run;
# REPEATS (warm, default 20) and COLD_RUNS (default 10) set the number of runs.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-10000}; seed=${2:-7}
work=${BENCH_DIR:-target/bench}; mkdir -p "$work"
batch="$work/gen-$n.jsonl"; db="$work/bench-$n.db"
cargo build --release -q --bin diplograph --example generate --example bench
bin=target/release/diplograph
[ -f "$batch" ] || target/release/examples/generate --articles "$n" --seed "$seed" > "$batch"
facts=$(grep -o '"type":"' "$batch" | wc -l)
if [ -z "${COLD_ONLY:-}" ]; then
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
fi
echo "== cold queries (new process each: open + answer + exit), ${COLD_RUNS:-10} runs each"
params=$(grep '^params:' "$work/warm-$n.txt" | sed 's/^params: //')
param() { echo "$params" | sed -E "s/.*\\\$$1 = '([^']*)'.*/\1/"; }
args=(--param "giver=$(param giver)" --param "a=$(param a)" --param "b=$(param b)" --param "src=$(param src)" --param "far=$(param far)")
for q in a b c d e f g; do
  case $q in
    a) text='MATCH (g:Gift)-[:GIVER]->(p:Person {name: $giver}), (g)-[:RECIPIENT]->(r), (g)-[:ITEM]->(i) RETURN p.name AS giver, i.name AS item, r.name AS recipient ORDER BY item, recipient' ;;
    b) text='MATCH (a:Person {name: $a})<-[:PARTICIPANT]-(m:Meeting)-[:PARTICIPANT]->(b:Person {name: $b}) RETURN m.id AS meeting, m.date AS date, m.status AS status ORDER BY date, meeting' ;;
    c) text='MATCH (p:Person {name: $a})<-[:PARTICIPANT|GIVER|RECIPIENT|VISITOR|HOST|INVITER|INVITEE]-(e)-[:PARTICIPANT|GIVER|RECIPIENT|ITEM|VISITOR|DESTINATION|HOST|INVITER|INVITEE|PLACE]->(x) WHERE x.id <> p.id RETURN count(DISTINCT x) AS neighbours' ;;
    d) text='MATCH (a:Person {name: $src}), (b:Person {name: $far}) MATCH p = shortestPath((a)-[:PARTICIPANT|GIVER|RECIPIENT|VISITOR|HOST|INVITER|INVITEE*..12]-(b)) RETURN length(p) AS hops' ;;
    e) text='MATCH (g:Gift)-[:GIVER]->(p) RETURN p.name AS giver, count(g) AS gifts ORDER BY gifts DESC, giver LIMIT 10' ;;
    f) text='MATCH (e:Event) RETURN e.type AS type, count(*) AS n ORDER BY type' ;;
    g) text='MATCH (e:Event) RETURN e.id LIMIT 10' ;;
  esac
  times=()
  for _ in $(seq "${COLD_RUNS:-10}"); do
    start=$(date +%s%N)
    "$bin" --db "$db" query "$text" "${args[@]}" --timeout 0 --format csv > /dev/null
    times+=($(( ($(date +%s%N) - start) / 1000 )))
  done
  printf '%s\n' "${times[@]}" | sort -n | awk -v q="$q" '{a[NR]=$1} END {printf "cold (%s): median %.1f ms, min %.1f ms, max %.1f ms\n", q, a[int((NR+1)/2)]/1000, a[1]/1000, a[NR]/1000}'
done
start=$(date +%s%N); "$bin" --db "$db" stats --format json > /dev/null; echo "cold stats: $(( ($(date +%s%N) - start) / 1000000 )) ms"
