#!/usr/bin/env bash
# Node interception for MetadataProxy: pods' requests to 169.254.169.254:80 (and [fd20:ce::254]:80) are
# DNATed to the server on a link-local address on lo. Run `metadata-proxy-iptables.sh help` for the interface.
set -euo pipefail

readonly PROG=metadata-proxy-iptables
readonly CHAIN=METADATA-PROXY
readonly JUMP_COMMENT="metadata-proxy: pod metadata traffic"
readonly DNAT_COMMENT="metadata-proxy: to the node metadata server"
readonly METADATA_IP4=169.254.169.254
readonly METADATA_IP6=fd20:ce::254
readonly METADATA_PORT=80
readonly XTABLES_WAIT=30

usage() {
  cat <<EOF
Usage: ${0##*/} install|uninstall|verify|help

Sends pods' metadata traffic (TCP 169.254.169.254:80, and [fd20:ce::254]:80 with IPv6) to MetadataProxy on
this node: an address on lo plus a DNAT rule in the nat chain $CHAIN, jumped to from PREROUTING at
position 1. Host processes and hostNetwork pods (OUTPUT) are never intercepted.

Commands
  install    add the lo address(es) and the rules, delete conntrack entries for the metadata address, then
             verify. Idempotent; concurrent runs are serialised by a lock file.
  uninstall  remove exactly what install adds (the jump rules, the chain, the lo addresses), from every
             backend that has the chain. Never touches other chains. Succeeds when nothing is installed.
  verify     check every piece; print one line per missing or wrong piece and exit 1.

Environment
  METADATA_PROXY_ADDRESS    IPv4 address the server listens on, added to lo as /32 scope host
                            (default 169.254.169.252; never 127.0.0.0/8)
  METADATA_PROXY_ADDRESS6   IPv6 address the server listens on, added to lo as /128 (default fd20:ce::252)
  METADATA_PROXY_PORT       port the server listens on (default 988)
  UPLINK_INTERFACE          intercept traffic arriving on any interface but this one (iptables wildcards
                            such as eth+ work); default: the interface of the default route
  POD_CIDRS                 comma-separated pod ranges (IPv4 and/or IPv6); when set, intercept traffic from
                            these sources instead of using the uplink exclusion
  IPV6                      auto (default: when the host has an IPv6 default route or global address, and
                            ip6tables), on, or off
  IPTABLES_BACKEND          auto (default: the backend the host's rules are in), nft, or legacy
  METADATA_PROXY_LOCK_FILE  lock serialising install and uninstall (default /run/metadata-proxy-iptables.lock)

verify needs the same environment as install (it recomputes the expected rules).

Exit status
  0  done (verify: everything in place)
  1  verify found missing or wrong pieces, or a command failed
  2  usage or configuration error (nothing was changed)
  3  a prerequisite is missing (a tool, IPv6 when IPV6=on, an uplink to exclude)
EOF
}

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { local status=$1; shift; log "$*"; exit "$status"; }
have() { command -v "$1" >/dev/null 2>&1; }

# ---------------------------------------------------------------- configuration

ADDRESS4=${METADATA_PROXY_ADDRESS:-169.254.169.252}
ADDRESS6=${METADATA_PROXY_ADDRESS6:-fd20:ce::252}
PORT=${METADATA_PROXY_PORT:-988}
UPLINK=${UPLINK_INTERFACE:-}
POD_CIDRS_RAW=${POD_CIDRS:-}
IPV6_MODE=${IPV6:-auto}
BACKEND_MODE=${IPTABLES_BACKEND:-auto}
LOCK_FILE=${METADATA_PROXY_LOCK_FILE:-/run/metadata-proxy-iptables.lock}

CIDRS4=()
CIDRS6=()

is_ipv4() {
  local IFS=. octet
  [[ $1 =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || return 1
  for octet in $1; do ((10#$octet <= 255)) || return 1; done
}
is_ipv6() { [[ $1 =~ ^[0-9A-Fa-f:]+$ && $1 == *:*:* && $1 != *:::* ]]; }
is_prefix() { [[ $1 =~ ^[0-9]{1,3}$ ]] && ((10#$1 <= $2)); }

# Every problem is reported before anything changes, one line each.
read_configuration() {
  local problems=() cidr
  if ! is_ipv4 "$ADDRESS4"; then
    problems+=("METADATA_PROXY_ADDRESS='$ADDRESS4' is not an IPv4 address")
  elif [[ $ADDRESS4 == 127.* ]]; then
    # DNAT to loopback needs route_localnet, which CVE-2020-8558 taught everyone to keep off.
    problems+=("METADATA_PROXY_ADDRESS='$ADDRESS4' is a loopback address; use a link-local one such as 169.254.169.252")
  fi
  if ! is_ipv6 "$ADDRESS6"; then
    problems+=("METADATA_PROXY_ADDRESS6='$ADDRESS6' is not an IPv6 address")
  elif [[ $ADDRESS6 == ::1 || $ADDRESS6 == 0:0:0:0:0:0:0:1 ]]; then
    problems+=("METADATA_PROXY_ADDRESS6='$ADDRESS6' is the loopback address; use one such as fd20:ce::252")
  fi
  if ! [[ $PORT =~ ^[0-9]{1,5}$ ]] || ((10#$PORT < 1 || 10#$PORT > 65535)); then
    problems+=("METADATA_PROXY_PORT='$PORT' is not a port (1-65535)")
  fi
  if [[ -n $UPLINK && ! $UPLINK =~ ^[A-Za-z0-9_.:@-]{1,15}\+?$ ]]; then
    problems+=("UPLINK_INTERFACE='$UPLINK' is not an interface name")
  fi
  for cidr in ${POD_CIDRS_RAW//,/ }; do
    if [[ $cidr == */* ]] && is_ipv4 "${cidr%/*}" && is_prefix "${cidr#*/}" 32; then
      CIDRS4+=("$cidr")
    elif [[ $cidr == */* ]] && is_ipv6 "${cidr%/*}" && is_prefix "${cidr#*/}" 128; then
      CIDRS6+=("$cidr")
    else
      problems+=("POD_CIDRS: '$cidr' is not an address range such as 10.4.0.0/14 or fd00:10:4::/56")
    fi
  done
  if [[ -n $POD_CIDRS_RAW && ${#CIDRS4[@]} -eq 0 && ${#CIDRS6[@]} -gt 0 ]]; then
    problems+=("POD_CIDRS='$POD_CIDRS_RAW' has no IPv4 range; IPv4 pods would not be intercepted")
  fi
  case $IPV6_MODE in auto | on | off) ;; *) problems+=("IPV6='$IPV6_MODE' is not auto, on or off") ;; esac
  case $BACKEND_MODE in auto | nft | legacy) ;; *) problems+=("IPTABLES_BACKEND='$BACKEND_MODE' is not auto, nft or legacy") ;; esac
  if ((${#problems[@]} > 0)); then
    for cidr in "${problems[@]}"; do log "configuration: $cidr"; done
    exit 2
  fi
}

# ---------------------------------------------------------------- backends

# Which iptables the host's rules live in: the one with more rules (like kube-proxy's iptables-wrapper),
# else the one plain `iptables` is. The save commands only list tables that exist, so looking creates nothing.
rule_count() {
  local family count=0
  for family in 4 6; do
    BACKEND=$1
    [[ $family == 6 ]] && ! have "$(tool 6 -save)" && continue
    read_tables "$family"
    count=$((count + $(printf '%s\n' "$TABLES" | grep -c '^-' || true)))
  done
  echo "$count"
}

detect_backend() {
  if [[ $BACKEND_MODE != auto ]]; then
    have "iptables-$BACKEND_MODE" || die 3 "IPTABLES_BACKEND=$BACKEND_MODE but iptables-$BACKEND_MODE is not installed"
    BACKEND=$BACKEND_MODE
  elif have iptables-nft && have iptables-legacy; then
    local nft legacy
    nft=$(rule_count nft)
    legacy=$(rule_count legacy)
    if ((legacy > nft)); then BACKEND=legacy
    elif ((nft > 0)); then BACKEND=nft
    elif iptables -V 2>/dev/null | grep legacy >/dev/null; then BACKEND=legacy
    else BACKEND=nft
    fi
  elif have iptables; then
    BACKEND=default
  else
    die 3 "iptables is not installed"
  fi
}

# tool FAMILY [SUFFIX]: the iptables binary of the chosen backend, e.g. `tool 6 -save` → ip6tables-nft-save.
tool() {
  local base=iptables
  [[ $1 == 6 ]] && base=ip6tables
  if [[ $BACKEND == default ]]; then echo "$base${2:-}"; else echo "$base-$BACKEND${2:-}"; fi
}

ipt() { local family=$1; shift; "$(tool "$family")" -w "$XTABLES_WAIT" "$@"; }

# TABLES: every table of one family as iptables-save prints it; NAT: its nat table, empty when there is
# none. The save commands only list tables that exist, so reading creates nothing. A failure ends the script:
# guessing "no rules" would install into the wrong backend or leave rules behind. (Tables can be megabytes on a
# big cluster: they go through pipes, never here-strings, which bash spills to $TMPDIR.)
read_tables() {
  local save
  save=$(tool "$1" -save)
  if ! TABLES=$("$save" 2>&1); then
    die 3 "cannot read the IPv$1 tables with $save: ${TABLES##*$'\n'} (legacy iptables needs CAP_NET_RAW as well as CAP_NET_ADMIN)"
  fi
  NAT=$(printf '%s\n' "$TABLES" | sed -n '/^\*nat$/,/^COMMIT$/p')
}

ipv6_available() {
  [[ -r /proc/sys/net/ipv6/conf/lo/disable_ipv6 && $(cat /proc/sys/net/ipv6/conf/lo/disable_ipv6) == 0 ]] &&
    have "$(tool 6)" && have "$(tool 6 -save)" && have "$(tool 6 -restore)"
}

# IPV6=auto intercepts IPv6 only where pods could use it: the node has an IPv6 default route or a global IPv6
# address (not counting lo, where our own address may already be). Kernel support alone is everywhere.
ipv6_in_use() {
  [[ -n $(ip -6 route show default 2>/dev/null) ]] ||
    ip -6 -o addr show scope global 2>/dev/null | awk '$2 != "lo" { found = 1 } END { exit !found }'
}

# ---------------------------------------------------------------- the rules

FAMILIES=()

choose_families() {
  FAMILIES=(4)
  case $IPV6_MODE in
    off) return ;;
    on) ipv6_available || die 3 "IPV6=on but the host has no IPv6 on lo or no $(tool 6)" ;;
    auto) ipv6_available && ipv6_in_use || return 0 ;;
  esac
  if [[ -n $POD_CIDRS_RAW && ${#CIDRS6[@]} -eq 0 ]]; then
    [[ $IPV6_MODE == on ]] && die 2 "configuration: IPV6=on but POD_CIDRS='$POD_CIDRS_RAW' has no IPv6 range"
    log "IPv6: POD_CIDRS has no IPv6 range; IPv6 is not intercepted"
    return
  fi
  FAMILIES+=(6)
}

detect_uplink() {
  [[ -n $POD_CIDRS_RAW || -n $UPLINK ]] && return
  local devices
  devices=$({ ip -4 route show default; ip -6 route show default; } 2>/dev/null |
    awk '{ for (i = 1; i < NF; i++) if ($i == "dev") print $(i + 1) }' | sort -u)
  [[ -n $devices ]] || die 3 "cannot find the uplink: no default route; set UPLINK_INTERFACE or POD_CIDRS"
  if (($(wc -l <<<"$devices") > 1)); then
    die 3 "several default-route interfaces ($(paste -sd, <<<"$devices")); set UPLINK_INTERFACE (e.g. eth+) or POD_CIDRS"
  fi
  UPLINK=$devices
}

metadata_ip() { if [[ $1 == 4 ]]; then echo "$METADATA_IP4/32"; else echo "$METADATA_IP6/128"; fi; }
proxy_address() { if [[ $1 == 4 ]]; then echo "$ADDRESS4/32"; else echo "$ADDRESS6/128"; fi; }
proxy_endpoint() { if [[ $1 == 4 ]]; then echo "$ADDRESS4:$PORT"; else echo "[$ADDRESS6]:$PORT"; fi; }

# The DNAT rules of one family, one per line, in iptables-restore syntax without the leading "-A CHAIN".
dnat_rules() {
  local family=$1 sources=() source
  if [[ -n $POD_CIDRS_RAW ]]; then
    if [[ $family == 4 ]]; then sources=("${CIDRS4[@]}"); else sources=("${CIDRS6[@]}"); fi
    for source in "${sources[@]}"; do
      echo "-s $source -d $(metadata_ip "$family") -p tcp -m tcp --dport $METADATA_PORT -m comment --comment \"$DNAT_COMMENT\" -j DNAT --to-destination $(proxy_endpoint "$family")"
    done
  else
    echo "! -i $UPLINK -d $(metadata_ip "$family") -p tcp -m tcp --dport $METADATA_PORT -m comment --comment \"$DNAT_COMMENT\" -j DNAT --to-destination $(proxy_endpoint "$family")"
  fi
}

jump_rule() { echo "-m comment --comment \"$JUMP_COMMENT\" -j $CHAIN"; }

# Rules of the last read nat table that jump to our chain from CHAIN_NAME (a regex), as "-A ..." lines.
jumps_from() { printf '%s\n' "$NAT" | grep -E -- "^-A $1 .*-j $CHAIN\$" || true; }

# One iptables-restore transaction: the chain is declared (so replaced whole), every existing jump removed
# and one inserted at position 1, so there is never a moment without interception and never two jumps.
install_family() {
  local family=$1 rule existing
  read_tables "$family"
  {
    echo "*nat"
    echo ":$CHAIN - [0:0]"
    while IFS= read -r rule; do echo "-A $CHAIN $rule"; done < <(dnat_rules "$family")
    while IFS= read -r existing; do
      [[ -n $existing ]] && echo "-D ${existing#-A }"
    done < <(jumps_from PREROUTING)
    echo "-I PREROUTING 1 $(jump_rule)"
    echo "COMMIT"
  } | "$(tool "$family" -restore)" -w "$XTABLES_WAIT" --noflush
}

add_address() {
  local family=$1
  if [[ $family == 4 ]]; then
    ip -4 addr replace "$(proxy_address 4)" dev lo scope host
  else
    ip -6 addr replace "$(proxy_address 6)" dev lo
  fi
}

has_address() { ip -o "-$1" addr show dev lo 2>/dev/null | grep -F " $(proxy_address "$1") " >/dev/null; }

# Connections opened before the rule keep their conntrack entry and so keep bypassing it: delete them.
flush_conntrack() {
  local family=$1 output status=0 name=ipv4 address=$METADATA_IP4
  [[ $family == 6 ]] && name=ipv6 address=$METADATA_IP6
  output=$(conntrack -D -f "$name" -p tcp --orig-dst "$address" --orig-port-dst "$METADATA_PORT" 2>&1) || status=$?
  # conntrack exits 1 when nothing matched.
  if ((status != 0)) && [[ $output != *" 0 flow entries have been deleted"* ]]; then
    log "IPv$family: deleting conntrack entries for $address:$METADATA_PORT failed: $output"
    return 1
  fi
  output=$(grep -o '[0-9]* flow entries have been deleted' <<<"$output" || true)
  log "IPv$family: conntrack entries for $address:$METADATA_PORT: ${output:-none deleted}"
}

# ---------------------------------------------------------------- verify

PROBLEMS=()
problem() { PROBLEMS+=("$*"); }

verify_family() {
  local family=$1 v="IPv$1" rule position expected actual
  has_address "$family" || problem "$v: address $(proxy_address "$family") is not on lo"
  read_tables "$family"
  if ! printf '%s\n' "$NAT" | grep -x ":$CHAIN - \[[0-9]*:[0-9]*\]" >/dev/null; then
    problem "$v: chain $CHAIN is missing from the nat table"
    return
  fi
  expected=0
  while IFS= read -r rule; do
    expected=$((expected + 1))
    eval "set -- $rule"
    ipt "$family" -t nat -C "$CHAIN" "$@" 2>/dev/null || problem "$v: rule missing from $CHAIN: $rule"
  done < <(dnat_rules "$family")
  actual=$(printf '%s\n' "$NAT" | grep -c -- "^-A $CHAIN " || true)
  ((actual <= expected)) || problem "$v: $CHAIN has $actual rules, expected $expected (a different configuration was installed?)"
  actual=$(jumps_from PREROUTING | grep -c . || true)
  if ((actual == 0)); then
    problem "$v: no jump from nat PREROUTING to $CHAIN"
  else
    ((actual == 1)) || problem "$v: $actual jumps from nat PREROUTING to $CHAIN, expected 1"
    position=$(printf '%s\n' "$NAT" | awk -v chain="$CHAIN" '
      /^-A PREROUTING / { n++; if (!found && $(NF - 1) == "-j" && $NF == chain) found = n }
      END { print found }')
    ((position == 1)) || problem "$v: the jump to $CHAIN is rule $position of nat PREROUTING, not 1"
    eval "set -- $(jump_rule)"
    ipt "$family" -t nat -C PREROUTING "$@" 2>/dev/null || problem "$v: the jump to $CHAIN lacks the comment \"$JUMP_COMMENT\""
  fi
}

run_verify() {
  local family
  PROBLEMS=()
  for family in "${FAMILIES[@]}"; do verify_family "$family"; done
  if ((${#PROBLEMS[@]} > 0)); then
    for family in "${PROBLEMS[@]}"; do log "verify: $family"; done
    return 1
  fi
  local families; families=$(printf "IPv%s+" "${FAMILIES[@]}")
  echo "$PROG: verify: ok (backend $BACKEND, ${families%+}, $(describe_match))"
}

describe_match() { if [[ -n $POD_CIDRS_RAW ]]; then echo "sources $POD_CIDRS_RAW"; else echo "all interfaces but $UPLINK"; fi; }

# ---------------------------------------------------------------- commands

take_lock() {
  # exec would end the script on a redirection error before `|| die` could say why.
  : 2>/dev/null >>"$LOCK_FILE" || die 3 "cannot open the lock file $LOCK_FILE (METADATA_PROXY_LOCK_FILE)"
  exec 9>>"$LOCK_FILE"
  flock -w 60 9 || die 1 "another install or uninstall held $LOCK_FILE for 60 s"
}

check_tools() {
  local missing=() name
  for name in "$@"; do have "$name" || missing+=("$name"); done
  ((${#missing[@]} == 0)) || die 3 "missing tools: ${missing[*]} (install iptables, iproute2, conntrack, util-linux)"
}

cmd_install() {
  check_tools ip flock conntrack
  detect_backend
  choose_families
  detect_uplink
  take_lock
  local family
  for family in "${FAMILIES[@]}"; do
    add_address "$family"
    install_family "$family" || die 1 "IPv$family: $(tool "$family" -restore) failed; nothing of this family was changed"
    log "IPv$family: $(metadata_ip "$family"):$METADATA_PORT -> $(proxy_endpoint "$family") for $(describe_match) (backend $BACKEND)"
  done
  for family in "${FAMILIES[@]}"; do flush_conntrack "$family" || exit 1; done
  run_verify
}

remove_from_backend() {
  local family=$1 existing
  have "$(tool "$family" -save)" || return 0
  read_tables "$family"
  printf '%s\n' "$NAT" | grep "^:$CHAIN " >/dev/null || return 0
  {
    echo "*nat"
    while IFS= read -r existing; do
      [[ -n $existing ]] && echo "-D ${existing#-A }"
    done < <(jumps_from '[^ ]+')
    echo "-F $CHAIN"
    echo "-X $CHAIN"
    echo "COMMIT"
  } | "$(tool "$family" -restore)" -w "$XTABLES_WAIT" --noflush || die 1 "IPv$family: removing $CHAIN ($BACKEND) failed"
  log "IPv$family: removed $CHAIN and the jumps to it (backend $BACKEND)"
}

cmd_uninstall() {
  check_tools ip flock
  take_lock
  local backends=() backend family
  if [[ $BACKEND_MODE != auto ]]; then backends=("$BACKEND_MODE")
  elif have iptables-nft && have iptables-legacy; then backends=(nft legacy)
  else backends=(default)
  fi
  for backend in "${backends[@]}"; do
    BACKEND=$backend
    for family in 4 6; do remove_from_backend "$family"; done
  done
  if has_address 4; then ip -4 addr del "$(proxy_address 4)" dev lo && log "IPv4: removed $(proxy_address 4) from lo"; fi
  if [[ -e /proc/net/if_inet6 ]] && has_address 6; then
    ip -6 addr del "$(proxy_address 6)" dev lo && log "IPv6: removed $(proxy_address 6) from lo"
  fi
  log "uninstall: done"
}

cmd_verify() {
  check_tools ip
  detect_backend
  choose_families
  detect_uplink
  run_verify
}

main() {
  case ${1:-} in
    help | -h | --help) usage; exit 0 ;;
    install | uninstall | verify) ;;
    *) usage >&2; exit 2 ;;
  esac
  (($# == 1)) || { usage >&2; exit 2; }
  read_configuration
  "cmd_$1"
}

main "$@"
