#!/usr/bin/env bash
# The shipped monitoring configuration is valid and matches what candlekeep exports:
# promtool checks and unit-tests the alert rules, every rule has severity, summary and a
# runbook link into docs/operations.md, amtool accepts the Alertmanager example and
# routes critical to PagerDuty and warnings to Slack + e-mail, and every metric the rules
# and the Grafana dashboard name is in the exposition.
. "$(dirname "$0")/lib.sh"
command -v promtool >/dev/null || fail "promtool not installed (scripts/deps.sh test)"
command -v amtool >/dev/null || fail "amtool not installed (scripts/deps.sh test)"
D="$CK_TOP/deploy"

promtool check rules "$D/prometheus/candlekeep-rules.yml" >"$T/check.out" 2>&1 ||
	{ cat "$T/check.out"; fail "promtool check rules"; }
(cd "$D/prometheus" && promtool test rules candlekeep-rules.test.yml) >"$T/test.out" 2>&1 ||
	{ cat "$T/test.out"; fail "promtool test rules"; }
amtool check-config "$D/alertmanager/alertmanager.yml" >"$T/am.out" 2>&1 ||
	{ cat "$T/am.out"; fail "amtool check-config"; }
route() { amtool config routes test --config.file="$D/alertmanager/alertmanager.yml" "$@" 2>/dev/null | tr -d ' '; }
assert_eq "$(route severity=critical alertname=SyncFailed)" "oncall-pager,team-warnings" "critical route"
assert_eq "$(route severity=warning alertname=GapsDetected)" "team-warnings" "warning route"
assert_eq "$(route severity=critical alertname=RestoreDrillFailed)" "oncall-pager,team-warnings" "restore drill route"
assert_eq "$(route severity=warning alertname=BackupUploadFailed)" "team-warnings" "upload failure route"
amtool config routes test --config.file="$D/alertmanager/alertmanager.yml" \
	--verify.receivers=oncall-pager,team-warnings severity=critical alertname=DatabaseCorruption \
	job=candlekeep >/dev/null 2>&1 || fail "amtool routes test: DatabaseCorruption must page"
# One page per alert name and job, not per symbol; every inhibition is scoped (equal:).
assert_file_match "$D/alertmanager/alertmanager.yml" '^  group_by: \[alertname, job\]$' "group_by"
ninhibit=$(sed -n '/^inhibit_rules:/,/^receivers:/p' "$D/alertmanager/alertmanager.yml" | grep -c 'source_matchers:')
nequal=$(sed -n '/^inhibit_rules:/,/^receivers:/p' "$D/alertmanager/alertmanager.yml" | grep -c 'equal: \[job, instance')
[ "$ninhibit" -ge 1 ] || fail "no inhibit rules"
assert_eq "$nequal" "$ninhibit" "inhibit rules with equal: [job, instance, ...]"
grep -q "team-warnings" "$D/alertmanager/alertmanager.yml" && grep -q "email_configs" "$D/alertmanager/alertmanager.yml" &&
	grep -q "slack_configs" "$D/alertmanager/alertmanager.yml" || fail "warnings need Slack and e-mail"

# A real exposition to compare names with.
fakex_start --data "$DATA" --now "$T_2026_03_19_18"
ck -q --symbols BTCUSDT --history-days 2 sync >/dev/null 2>&1 || fail "sync failed"
ck --symbols BTCUSDT metrics >"$T/m.prom" || fail "metrics failed"
awk '/^# TYPE /{print $3}' "$T/m.prom" | sort -u >"$T/exported"
# The weight limit is exported although [sync] weight_limit is 0: the exchange's.
assert_file_match "$T/m.prom" '^candlekeep_exchange_weight_limit\{source="exchange"\} 2400$'
assert_file_match "$T/m.prom" '^candlekeep_build_info\{version="[^"]+",sqlite="[^"]+"\} 1$'


python3 - "$D" "$T/exported" <<'EOF' || fail "rules or dashboard do not match the exported metrics"
import json, re, sys
d, exported = sys.argv[1], set(open(sys.argv[2]).read().split())
bad = []
def families(expr):
    out = set()
    for n in re.findall(r"\bcandlekeep_[a-z0-9_]+", expr):
        base = re.sub(r"_(bucket|sum|count)$", "", n)
        out.add(n if n in exported else base)
    return out

# Rules: the required alerts, each with severity, summary and runbook into the docs.
# (The rules file is read as text, one block per "- alert:", to need no YAML module.)
text = open(d + "/prometheus/candlekeep-rules.yml").read()
docs = open(d + "/../docs/operations.md").read()
names = set()
for block in re.split(r"\n\s*- alert: ", text)[1:]:
    a = block.split("\n", 1)[0].strip()
    names.add(a)
    if not re.search(r"\n\s+severity: (critical|warning)\n", block):
        bad.append(a + ": severity")
    if not re.search(r"\n\s+summary: \S", block):
        bad.append(a + ": summary")
    m = re.search(r'\n\s+runbook_url: "docs/operations\.md#([a-z0-9-]+)"(\n|$)', block)
    if not m:
        bad.append(a + ": runbook_url")
    elif 'id="%s"' % m.group(1) not in docs:
        bad.append(a + ": docs/operations.md has no anchor " + m.group(1))
    expr = block.split("expr:", 1)[1].split("\n        for:")[0].split("\n        labels:")[0]
    for f in families(expr):
        if f not in exported:
            bad.append(a + ": unknown metric " + f)
need = {"SyncFailed", "SyncTimeout", "DataStaleCritical", "DataStaleWarning", "DatabaseCorruption",
        "RateLimitAbuse", "IPBanned", "BackupStale", "BackupVerificationFailed", "MissingSymbols",
        "GapsDetected", "DiskSpaceLow", "ExporterDown", "BackupUploadFailed", "RestoreDrillFailed",
        "MetricsCollectFailed"}
# Rules that join series are tested with two targets (two job/instance label sets).
for block in re.split(r"\n\s*- alert: ", text)[1:]:
    a = block.split("\n", 1)[0].strip()
    expr = block.split("expr:", 1)[1].split("\n        for:")[0].split("\n        labels:")[0]
    if re.search(r"\b(and|unless|group_left|group_right|ignoring|on)\b", expr):
        two = [t for t in re.split(r"\n  - name: ", open(d + "/prometheus/candlekeep-rules.test.yml").read())
               if t.startswith("two targets") and ("alertname: " + a + "\n") in t]
        if not two:
            bad.append(a + ": joins series but has no two-target rule test")
    if re.search(r"\bon\(\)", expr):
        bad.append(a + ": on() joins every target's series with one (many-to-many with two targets)")
bad += ["missing rule " + n for n in sorted(need - names)]
tests = open(d + "/prometheus/candlekeep-rules.test.yml").read()
bad += ["rule without a unit test: " + n for n in sorted(names) if "alertname: " + n + "\n" not in tests]

# Dashboard: valid JSON; every panel queries, every query names exported metrics.
dash = json.load(open(d + "/grafana/candlekeep.json"))
panels = [p for p in dash["panels"] if p["type"] != "row"]
if len(panels) < 10:
    bad.append("dashboard has only %d panels" % len(panels))
for p in panels:
    exprs = [t.get("expr", "") for t in p.get("targets", [])]
    if not exprs or not all(exprs):
        bad.append("panel %r has no query" % p["title"])
    for e in exprs:
        fams = families(e)
        if not fams:
            bad.append("panel %r: query names no candlekeep metric: %s" % (p["title"], e))
        for f in fams:
            if f not in exported:
                bad.append("panel %r: unknown metric %s" % (p["title"], f))
for v in dash.get("templating", {}).get("list", []):
    for f in families(json.dumps(v.get("query", ""))):
        if f not in exported:
            bad.append("variable %s: unknown metric %s" % (v["name"], f))
titles = " ".join(p["title"].lower() for p in panels)
for topic in ("candle", "sync duration", "success rate", "missing", "429", "backup"):
    if topic not in titles:
        bad.append("dashboard lacks a panel about " + topic)
for b in bad:
    print(b)
sys.exit(1 if bad else 0)
EOF
echo ok
