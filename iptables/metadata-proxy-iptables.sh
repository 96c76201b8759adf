#!/usr/bin/env bash
# Node interception for MetadataProxy: pods' requests to 169.254.169.254:80 (and [fd20:ce::254]:80) are
# DNATed to the server on a link-local address on lo; optionally the host's own requests too. Run
# `metadata-proxy-iptables.sh help` for the interface.
set -euo pipefail
# Byte semantics for the hosts file edits; every message is English anyway.
export LC_ALL=C

readonly PROG=metadata-proxy-iptables
readonly CHAIN=METADATA-PROXY
readonly JUMP_COMMENT="metadata-proxy: pod metadata traffic"
readonly DNAT_COMMENT="metadata-proxy: to the node metadata server"
readonly HOST_CHAIN=METADATA-PROXY-HOST
readonly HOST_JUMP_COMMENT="metadata-proxy: host metadata traffic"
readonly HOST_DNAT_COMMENT="metadata-proxy: host processes to the node metadata server"
readonly HOSTS_MARKER="# metadata-proxy"
readonly HOSTS_NAMES="metadata.google.internal metadata.google.internal."
readonly METADATA_IP4=169.254.169.254
readonly METADATA_IP6=fd20:ce::254
readonly METADATA_PORT=80
readonly XTABLES_WAIT=30
# A path the real GCE metadata server answers 404; MetadataProxy answers it before any caller resolution, with no
# identity in it (README: Node interception, the datapath probe).
readonly CANARY_PATH=/metadata-proxy-canary/
# HOST_BOOT=systemd: the host's copy of this script, its settings and a oneshot unit that runs it before the kubelet.
readonly BOOT_UNIT=metadata-proxy-interception.service
readonly BOOT_UNIT_DIR=/etc/systemd/system
readonly BOOT_WANTS_DIR=/etc/systemd/system/kubelet.service.wants
readonly BOOT_LIB_DIR=/usr/local/lib/metadata-proxy
readonly BOOT_MARKER="# metadata-proxy: installed by metadata-proxy-iptables install (HOST_BOOT=systemd); uninstall removes it"

usage() {
  cat <<EOF
Usage: ${0##*/} install|uninstall|verify [--probe]|help

Sends pods' metadata traffic (TCP 169.254.169.254:80, and [fd20:ce::254]:80 with IPv6) to MetadataProxy on
this node: an address on lo plus a DNAT rule in the nat chain $CHAIN, jumped to from PREROUTING at
position 1. Host processes and hostNetwork pods (OUTPUT) are intercepted only with HOST_INTERCEPTION: a DNAT
rule in the nat chain $HOST_CHAIN, jumped to from OUTPUT at position 1.

Commands
  install    add the lo address(es) and the rules, delete conntrack entries for the metadata address, then
             verify. Idempotent; concurrent runs are serialised by a lock file. With HOST_INTERCEPTION=off it
             removes a $HOST_CHAIN chain left from an earlier install, with HOST_DNS=off the hosts line.
  uninstall  remove exactly what install adds (the jump rules, both chains, the lo addresses, the hosts
             line), from every backend that has the chains, whatever HOST_INTERCEPTION and HOST_DNS say now.
             Never touches other chains. Succeeds when nothing is installed.
  verify     check every piece; print one line per missing, wrong or left-over piece and exit 1.
  verify --probe
             verify, then prove the datapath: from a throwaway network namespace wired like a pod (veth pair,
             PROBE_ADDRESS, default route to the node) send GET $CANARY_PATH<nonce> to $METADATA_IP4:$METADATA_PORT
             and require the answer that only this node's target can give: the nonce, and the probe's own source
             address, echoed by a responder the script runs on METADATA_PROXY_ADDRESS:METADATA_PROXY_PORT for the
             probe (or, when a MetadataProxy server already listens there, by the server's canary path). IPv4 only.
             The namespace, veth pair, route and responder are removed on every exit. Needs CAP_SYS_ADMIN (a network
             namespace), unshare, nsenter, socat and timeout. Writes PROBE_MARKER_FILE when it passes.

Environment
  METADATA_PROXY_ADDRESS    IPv4 address the server listens on, added to lo as /32 scope host
                            (default 169.254.169.252; never 127.0.0.0/8)
  METADATA_PROXY_ADDRESS6   IPv6 address the server listens on, added to lo as /128 (default fd20:ce::252)
  METADATA_PROXY_PORT       port the server listens on (default 8988)
  UPLINK_INTERFACE          intercept traffic arriving on any interface but this one (iptables wildcards
                            such as eth+ work); default: the interface of the default route
  POD_CIDRS                 comma-separated pod ranges (IPv4 and/or IPv6); when set, intercept traffic from
                            these sources instead of using the uplink exclusion
  IPV6                      auto (default: when the host has an IPv6 default route or global address, and
                            ip6tables), on, or off
  IPTABLES_BACKEND          auto (default: the backend the host's rules are in), nft, or legacy
  METADATA_PROXY_LOCK_FILE  lock serialising install and uninstall (default /run/metadata-proxy-iptables.lock)
  HOST_INTERCEPTION         off (default), on, or force: also send the host network namespace's own requests
                            (host processes, hostNetwork pods) to the server, in every family intercepted.
                            install refuses "on" on a Google Compute Engine VM, whose own metadata server
                            must keep answering the host; "force" skips that check
  METADATA_PROXY_UID        user whose requests are never intercepted on the host, so the server's own
                            requests to the VM's metadata server cannot loop back to it (default 1654, the
                            server image's user; never 0, which would exempt every root process)
  DMI_PRODUCT_NAME_FILE     where the Google Compute Engine check reads the machine's product name
                            (default /sys/class/dmi/id/product_name; "Google Compute Engine" or "Google")
  HOST_DNS                  off (default) or on: add the line
                              $METADATA_IP4 $HOSTS_NAMES $HOSTS_MARKER
                            to the hosts file, so that host processes resolve metadata.google.internal
  HOSTS_FILE                the host's hosts file (default /etc/hosts; in a container, mount the host's file
                            and name it here). Replaced atomically, or rewritten in place when it is a mount
                            point; its other lines are kept byte for byte

  HOST_BOOT                 off (default) or systemd: install also puts onto the host (under HOST_ROOT) a copy of
                            this script with this install's settings ($BOOT_LIB_DIR/) and a oneshot unit
                            $BOOT_UNIT_DIR/$BOOT_UNIT, wanted by and ordered before kubelet.service, that
                            runs install at boot, so that the interception exists before any pod starts. No
                            systemctl is run: the unit takes effect from the next boot. install with off, and
                            uninstall, remove them. (The unit runs the script with HOST_BOOT=boot-unit: it leaves
                            the unit alone, and needs no conntrack)
  HOST_ROOT                 where the host's root is, for HOST_BOOT (default /host; its etc/systemd/system and
                            usr/local/lib must exist: the init container mounts those two)
  PROBE_ADDRESS             IPv4 source address of the probe's namespace, routed to its veth for the probe's
                            few seconds (default: 169.254.99.2 with the uplink exclusion; with POD_CIDRS the
                            last-but-one address of the first IPv4 range, as the rules match pod sources only).
                            Must not be an address in use on this node
  PROBE_TIMEOUT             seconds the probe's request may take (default 5)
  PROBE_MARKER_FILE         written (atomically) when verify --probe passes: the target it reached, for the
                            server's readiness (Operations:DatapathProbeFile); default: none

verify needs the same environment as install (it recomputes the expected rules).

Exit status
  0  done (verify: everything in place)
  1  verify found missing, wrong or left-over pieces, or a command failed
  2  usage or configuration error, or HOST_INTERCEPTION=on on Google Compute Engine (nothing was changed)
  3  a prerequisite is missing (a tool, IPv6 when IPV6=on, an uplink to exclude, the hosts file for HOST_DNS,
     the privileges or a free PROBE_ADDRESS for the probe's namespace)
  4  verify --probe: the rules are in place, but a pod's request to $METADATA_IP4:$METADATA_PORT does not reach
     them (no answer, or an answer without the nonce): something before netfilter's nat PREROUTING takes pod
     traffic, typically Cilium's kube-proxy replacement with eBPF host routing or socket load balancing
EOF
}

log() { printf '%s: %s\n' "$PROG" "$*" >&2; }
die() { local status=$1; shift; log "$*"; exit "$status"; }
have() { command -v "$1" >/dev/null 2>&1; }

# ---------------------------------------------------------------- configuration

ADDRESS4=${METADATA_PROXY_ADDRESS:-169.254.169.252}
ADDRESS6=${METADATA_PROXY_ADDRESS6:-fd20:ce::252}
PORT=${METADATA_PROXY_PORT:-8988}
UPLINK=${UPLINK_INTERFACE:-}
POD_CIDRS_RAW=${POD_CIDRS:-}
IPV6_MODE=${IPV6:-auto}
BACKEND_MODE=${IPTABLES_BACKEND:-auto}
LOCK_FILE=${METADATA_PROXY_LOCK_FILE:-/run/metadata-proxy-iptables.lock}
HOST_MODE=${HOST_INTERCEPTION:-off}
SERVER_UID=${METADATA_PROXY_UID:-1654}
DMI_FILE=${DMI_PRODUCT_NAME_FILE:-/sys/class/dmi/id/product_name}
HOST_DNS_MODE=${HOST_DNS:-off}
HOSTS_PATH=${HOSTS_FILE:-/etc/hosts}
PROBE_SOURCE=${PROBE_ADDRESS:-}
BOOT_MODE=${HOST_BOOT:-off}
HOST_ROOT_DIR=${HOST_ROOT:-/host}
PROBE_SECONDS=${PROBE_TIMEOUT:-5}
PROBE_MARKER=${PROBE_MARKER_FILE:-}

CIDRS4=()
CIDRS6=()

is_ipv4() {
  local IFS=. octet
  [[ $1 =~ ^[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}\.[0-9]{1,3}$ ]] || return 1
  for octet in $1; do ((10#$octet <= 255)) || return 1; done
}
is_ipv6() { [[ $1 =~ ^[0-9A-Fa-f:]+$ && $1 == *:*:* && $1 != *:::* ]]; }
is_prefix() { [[ $1 =~ ^[0-9]{1,3}$ ]] && ((10#$1 <= $2)); }

host_intercepted() { [[ $HOST_MODE != off ]]; }

# The machine's DMI product name when it names a Google Compute Engine VM; nothing otherwise (also when the
# file is missing, as on machines without DMI).
google_product_name() {
  local name
  [[ -r $DMI_FILE ]] || return 0
  name=$(tr -d '\n' <"$DMI_FILE" 2>/dev/null) || return 0
  name=${name%"${name##*[![:space:]]}"}
  if [[ $name == "Google Compute Engine" || $name == Google ]]; then echo "$name"; fi
}

# Every problem is reported before anything changes, one line each. COMMAND: what will run.
read_configuration() {
  local command=$1 problems=() cidr product
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
  case $HOST_MODE in off | on | force) ;; *) problems+=("HOST_INTERCEPTION='$HOST_MODE' is not off, on or force") ;; esac
  if ! [[ $SERVER_UID =~ ^[0-9]{1,10}$ ]] || ((10#$SERVER_UID > 4294967294)); then
    problems+=("METADATA_PROXY_UID='$SERVER_UID' is not a numeric user id")
  elif ((10#$SERVER_UID == 0)); then
    problems+=("METADATA_PROXY_UID=0 would exempt every root process (the kubelet among them) from host interception")
  fi
  case $HOST_DNS_MODE in off | on) ;; *) problems+=("HOST_DNS='$HOST_DNS_MODE' is not off or on") ;; esac
  if [[ -n $PROBE_SOURCE ]] && { ! is_ipv4 "$PROBE_SOURCE" || [[ $PROBE_SOURCE == 127.* || $PROBE_SOURCE == 0.* ]]; }; then
    problems+=("PROBE_ADDRESS='$PROBE_SOURCE' is not a usable IPv4 address")
  fi
  case $BOOT_MODE in off | systemd | boot-unit) ;; *) problems+=("HOST_BOOT='$BOOT_MODE' is not off or systemd") ;; esac
  if [[ $HOST_ROOT_DIR != /* ]]; then problems+=("HOST_ROOT='$HOST_ROOT_DIR' is not an absolute path"); fi
  if ! [[ $PROBE_SECONDS =~ ^[0-9]{1,3}$ ]] || ((10#$PROBE_SECONDS < 1)); then
    problems+=("PROBE_TIMEOUT='$PROBE_SECONDS' is not a number of seconds (1-999)")
  fi
  # Here, so that the refusal comes before anything changes, like any other configuration error.
  if [[ $command == install && $HOST_MODE == on ]]; then
    product=$(google_product_name)
    if [[ -n $product ]]; then
      problems+=("HOST_INTERCEPTION=on refused: this is a Google Compute Engine VM (DMI product name '$product' in $DMI_FILE), whose own metadata server must keep answering the host; set HOST_INTERCEPTION=force to intercept anyway")
    fi
  fi
  if ((${#problems[@]} > 0)); then
    for cidr in "${problems[@]}"; do log "configuration: $cidr"; done
    exit 2
  fi
}

# ---------------------------------------------------------------- backends

# Memory and time: a node's tables can hold tens of thousands of kube-proxy rules, and the init container has a small
# memory limit. So the script never reads a whole table: it lists only the chains it needs (`-S CHAIN`: with the nft
# backend iptables then fetches that chain alone) and checks its own rules with -C. Legacy iptables always reads
# the whole table from the kernel, whatever is asked; nothing smaller exists there.

# Which iptables the host's rules live in: the one with more rules in the built-in chains of nat and filter (where
# every other chain is jumped to from; like kube-proxy's iptables-wrapper, but without reading whole tables), else
# the one plain `iptables` is. Looking creates nothing (see table_exists).
rule_count() {
  local family table chain count=0
  BACKEND=$1
  for family in 4 6; do
    have "$(tool "$family")" || continue
    for table in nat filter; do
      table_exists "$family" "$table" || continue
      for chain in $(builtin_chains "$table"); do
        list_chain "$family" "$table" "$chain" || continue
        count=$((count + $(printf '%s\n' "$LISTED" | grep -c '^-A ' || true)))
      done
    done
  done
  echo "$count"
}

builtin_chains() { if [[ $1 == nat ]]; then echo PREROUTING INPUT OUTPUT POSTROUTING; else echo INPUT FORWARD OUTPUT; fi; }

detect_backend() {
  if [[ $BACKEND_MODE != auto ]]; then
    have "iptables-$BACKEND_MODE" || die 3 "IPTABLES_BACKEND=$BACKEND_MODE but iptables-$BACKEND_MODE is not installed"
    BACKEND=$BACKEND_MODE
  elif have iptables-nft && have iptables-legacy; then
    local nft legacy
    # A failure ends the script with its reason (rule_count's subshell said it): never "no rules".
    nft=$(rule_count nft) || exit
    legacy=$(rule_count legacy) || exit
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

# tool FAMILY [SUFFIX]: the iptables binary of the chosen backend, e.g. `tool 6 -restore` → ip6tables-nft-restore.
tool() {
  local base=iptables
  [[ $1 == 6 ]] && base=ip6tables
  if [[ $BACKEND == default ]]; then echo "$base${2:-}"; else echo "$base-$BACKEND${2:-}"; fi
}

ipt() { local family=$1; shift; "$(tool "$family")" -w "$XTABLES_WAIT" "$@"; }

is_legacy() { [[ $BACKEND == legacy ]] || { [[ $BACKEND == default ]] && iptables -V 2>/dev/null | grep legacy >/dev/null; }; }

# Whether TABLE exists in FAMILY. Legacy iptables creates any table it is asked about, so that one is looked up in
# the kernel's list; the nft backend creates nothing by listing.
table_exists() {
  local names=/proc/net/ip_tables_names
  is_legacy || return 0
  [[ $1 == 6 ]] && names=/proc/net/ip6_tables_names
  [[ -r $names ]] && grep -x -- "$2" "$names" >/dev/null
}

# Ends the script with what really went wrong with iptables command NAME (exit STATUS, OUTPUT): killed (the memory
# limit, usually), permissions, a backend this kernel lacks, or anything else, with its last line.
tool_failed() {
  local name=$1 status=$2 output=$3 last
  last=$(printf '%s\n' "$output" | grep -v '^Perhaps iptables or your kernel needs to be upgraded' | grep . | tail -n 1 || true)
  if ((status == 137)); then
    die 1 "$name was killed (SIGKILL, exit 137): most likely out of memory; raise the container's memory limit (this is not a missing capability)"
  elif ((status > 128)); then
    die 1 "$name was killed by signal $((status - 128)) (exit $status)"
  elif [[ $output == *"Permission denied"* || $output == *"Operation not permitted"* ]]; then
    if is_legacy; then die 3 "$name: permission denied: ${last:-exit $status} (legacy iptables needs CAP_NET_RAW as well as CAP_NET_ADMIN)"; fi
    die 3 "$name: permission denied: ${last:-exit $status} (iptables needs CAP_NET_ADMIN)"
  elif backend_missing "$output"; then
    die 3 "$name: the $BACKEND iptables backend does not work on this node: ${last:-exit $status} (set IPTABLES_BACKEND to the node's backend, nft or legacy)"
  fi
  die 1 "$name failed (exit $status): ${last:-no message}"
}

# Whether iptables OUTPUT says its backend does not work in this kernel (no nf_tables, no ip_tables).
backend_missing() {
  [[ $1 == *"Could not fetch rule set generation id"* || $1 == *"Protocol not supported"* || $1 == *"can't initialize"* ||
    $1 == *"Failed to initialize nft"* || $1 == *"Address family not supported"* ]]
}

# list_chain FAMILY TABLE CHAIN: the chain as `iptables -S` prints it, in LISTED; returns 1 when the chain or the
# table does not exist. Any other failure ends the script: guessing "absent" would install into the wrong backend or
# leave rules behind.
list_chain() {
  local family=$1 table=$2 chain=$3 status=0
  LISTED=
  table_exists "$family" "$table" || return 1
  LISTED=$(ipt "$family" -t "$table" -S "$chain" 2>&1) || status=$?
  ((status == 0)) && return 0
  if ((status == 1)) && [[ $LISTED == *"No chain/target/match by that name"* || $LISTED == *"in table \`$table' is incompatible"* ]]; then
    LISTED=
    return 1
  fi
  tool_failed "$(tool "$family") -t $table -S $chain" "$status" "$LISTED"
}

# restore FAMILY TRANSACTION: applies the iptables-restore TRANSACTION (all or nothing, without flushing anything
# else); returns its status with its output in RESTORED, or ends the script when it was killed, lacks permissions or
# its backend does not work here.
restore() {
  local family=$1 status=0
  RESTORED=$(printf '%s\n' "$2" | "$(tool "$family" -restore)" -w "$XTABLES_WAIT" --noflush 2>&1) || status=$?
  ((status == 0)) && return 0
  if ((status > 128)) || [[ $RESTORED == *"Permission denied"* || $RESTORED == *"Operation not permitted"* ]] || backend_missing "$RESTORED"; then
    tool_failed "$(tool "$family" -restore)" "$status" "$RESTORED"
  fi
  return "$status"
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

# The host rule: everything the host network namespace sends to the metadata address but what the server's
# own user sends, which must reach the VM's real metadata server (a passthrough) and never loop back here.
host_dnat_rules() {
  local family=$1
  echo "-d $(metadata_ip "$family") -p tcp -m tcp --dport $METADATA_PORT -m owner ! --uid-owner $SERVER_UID -m comment --comment \"$HOST_DNAT_COMMENT\" -j DNAT --to-destination $(proxy_endpoint "$family")"
}

host_jump_rule() { echo "-m comment --comment \"$HOST_JUMP_COMMENT\" -j $HOST_CHAIN"; }

# The rules of LISTED (one chain as list_chain read it) that jump to TARGET (default $CHAIN), as "-A ..." lines.
jumps_in() { printf '%s\n' "$1" | grep -E -- "^-A [^ ]+ .*-j ${2:-$CHAIN}\$" || true; }

# "-D ..." lines for the "-A ..." lines on stdin.
deletions() { local existing; while IFS= read -r existing; do [[ -n $existing ]] && echo "-D ${existing#-A }"; done; }

# Lines that declare CHAIN (so replace it whole) with the rules of RULES_FUNCTION, remove every jump to it from
# PARENT (listed in PARENT_RULES) and insert one at position 1, so there is never a moment without interception
# and never two jumps.
chain_lines() {
  local family=$1 chain=$2 parent=$3 rules=$4 jump=$5 parent_rules=$6 rule
  echo ":$chain - [0:0]"
  while IFS= read -r rule; do echo "-A $chain $rule"; done < <("$rules" "$family")
  jumps_in "$parent_rules" "$chain" | deletions
  echo "-I $parent 1 $("$jump")"
}

# Our jumps come from PREROUTING and OUTPUT only: the two chains listed, never the whole table.
list_parents() {
  local family=$1
  list_chain "$family" nat PREROUTING || true
  PREROUTING_RULES=$LISTED
  list_chain "$family" nat OUTPUT || true
  OUTPUT_RULES=$LISTED
}

# One iptables-restore transaction per family: the pod chain, and the host chain added or (when
# HOST_INTERCEPTION is off) removed, all or nothing.
install_family() {
  local family=$1 transaction
  list_parents "$family"
  transaction=$(
    echo "*nat"
    chain_lines "$family" "$CHAIN" PREROUTING dnat_rules jump_rule "$PREROUTING_RULES"
    if host_intercepted; then
      chain_lines "$family" "$HOST_CHAIN" OUTPUT host_dnat_rules host_jump_rule "$OUTPUT_RULES"
    elif list_chain "$family" nat "$HOST_CHAIN"; then
      { jumps_in "$PREROUTING_RULES" "$HOST_CHAIN"; jumps_in "$OUTPUT_RULES" "$HOST_CHAIN"; } | deletions
      echo "-F $HOST_CHAIN"
      echo "-X $HOST_CHAIN"
      log "IPv$family: HOST_INTERCEPTION is off: removing $HOST_CHAIN"
    fi
    echo "COMMIT"
  ) || exit
  restore "$family" "$transaction" ||
    die 1 "IPv$family: $(tool "$family" -restore) failed: ${RESTORED##*$'\n'}; nothing of this family was changed"
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

# ---------------------------------------------------------------- the hosts file

hosts_line() { echo "$METADATA_IP4 $HOSTS_NAMES $HOSTS_MARKER"; }

# Ours: a line that ends with the marker after a blank, not a comment line (an admin's "# metadata-proxy" note).
is_ours() { [[ $1 != '#'* && $1 =~ [[:space:]]"$HOSTS_MARKER"[[:space:]]*$ ]]; }

hosts_has_ours() {
  local line
  while IFS= read -r line || [[ -n $line ]]; do is_ours "$line" && return 0; done <"$1"
  return 1
}

# Adds (WANT=on) or removes (off) our line. Other lines are kept byte for byte, the file is rewritten only
# when it changes, and a last line without a newline keeps having none, so that removing after adding gives
# back the very same bytes. Returns 1 when there was nothing to do.
update_hosts_file() {
  local want=$1 path old new line lines=() kept=()
  # Through a symlink (some distributions link /etc/hosts) to the file itself, which the rename must replace.
  path=$(readlink -f -- "$HOSTS_PATH") || path=$HOSTS_PATH
  if [[ ! -e $path ]]; then
    [[ $want == off ]] && return 1
    die 3 "HOST_DNS=on but the hosts file $HOSTS_PATH does not exist (mount the host's /etc/hosts and set HOSTS_FILE)"
  fi
  old=$(cat -- "$path" && printf x) || die 1 "cannot read the hosts file $HOSTS_PATH"
  old=${old%x}
  mapfile -t lines < <(printf '%s' "$old")
  for line in "${lines[@]}"; do is_ours "$line" || kept+=("$line"); done
  new=
  if ((${#kept[@]} > 0)); then
    new=$(printf '%s\n' "${kept[@]}" && printf x)
    new=${new%x}
    [[ $old == *$'\n' ]] || new=${new%$'\n'}
  fi
  if [[ $want == on && -n $new && $new != *$'\n' ]]; then
    # Before a last line without a newline, which stays last: ours always ends in one, so nothing that
    # appends to the file later can run into it.
    new=${new%"${kept[-1]}"}$(hosts_line)$'\n'${kept[-1]}
  elif [[ $want == on ]]; then
    new+=$(hosts_line)$'\n'
  fi
  [[ $new != "$old" ]] || return 1
  write_hosts_file "$path" "$old" "$new"
}

# Atomically when possible: a new file beside the old one, renamed over it. A file that is a mount point (a
# container's /etc/hosts, or the host's mounted into one) cannot be renamed over (EBUSY) and its directory may
# be read-only: then it is rewritten in place, by appending when only our line is added, so that the other
# lines are readable throughout.
write_hosts_file() {
  local path=$1 old=$2 new=$3 temporary
  if ! { have mountpoint && mountpoint -q -- "$path"; } &&
    temporary=$(mktemp -- "${path%/*}/.${path##*/}.metadata-proxy.XXXXXX" 2>/dev/null); then
    if printf '%s' "$new" >"$temporary" && chmod --reference="$path" -- "$temporary" &&
      { chown --reference="$path" -- "$temporary" 2>/dev/null || true; } && mv -f -- "$temporary" "$path" 2>/dev/null; then
      return 0
    fi
    rm -f -- "$temporary"
  fi
  if [[ $new == "$old"* ]]; then
    printf '%s' "${new#"$old"}" >>"$path" || die 1 "cannot write the hosts file $HOSTS_PATH"
  else
    printf '%s' "$new" >"$path" || die 1 "cannot write the hosts file $HOSTS_PATH"
  fi
}

# ---------------------------------------------------------------- the boot unit (HOST_BOOT=systemd)

# The interception lives in the kernel only: after a reboot, pods that start before the init container would reach the
# cloud's own metadata server. The unit re-creates it before the kubelet starts any pod. Everything it needs is on the
# host (the container image is not there at boot): a copy of this script, and the settings of this install.

boot_lib() { echo "$HOST_ROOT_DIR$BOOT_LIB_DIR"; }
boot_unit_file() { echo "$HOST_ROOT_DIR$BOOT_UNIT_DIR/$BOOT_UNIT"; }
boot_link() { echo "$HOST_ROOT_DIR$BOOT_WANTS_DIR/$BOOT_UNIT"; }
this_script() { readlink -f -- "${BASH_SOURCE[0]}"; }

boot_unit_text() {
  cat <<EOF
$BOOT_MARKER
[Unit]
Description=MetadataProxy node interception: requests of pods to 169.254.169.254 go to this node's MetadataProxy
# Before the kubelet starts any pod; the uplink is found from the default route, so after the network is up.
Before=kubelet.service
Wants=network-online.target
After=network-online.target

[Service]
Type=oneshot
RemainAfterExit=yes
EnvironmentFile=$BOOT_LIB_DIR/interception.env
ExecStart=$BOOT_LIB_DIR/metadata-proxy-iptables install

[Install]
WantedBy=kubelet.service
EOF
}

# This install's settings, for the unit's EnvironmentFile; the host's own paths for its hosts file and lock.
boot_settings_text() {
  cat <<EOF
$BOOT_MARKER
METADATA_PROXY_ADDRESS=$ADDRESS4
METADATA_PROXY_ADDRESS6=$ADDRESS6
METADATA_PROXY_PORT=$PORT
UPLINK_INTERFACE=${UPLINK_INTERFACE:-}
POD_CIDRS=$POD_CIDRS_RAW
IPV6=$IPV6_MODE
IPTABLES_BACKEND=$BACKEND_MODE
HOST_INTERCEPTION=$HOST_MODE
METADATA_PROXY_UID=$SERVER_UID
HOST_DNS=$HOST_DNS_MODE
HOSTS_FILE=/etc/hosts
METADATA_PROXY_LOCK_FILE=/run/metadata-proxy-iptables.lock
HOST_BOOT=boot-unit
EOF
}

# write_boot_file PATH MODE: stdin to PATH, atomically (a new file renamed over the old one).
write_boot_file() {
  local path=$1 mode=$2 temporary
  temporary=$(mktemp -- "${path%/*}/.${path##*/}.XXXXXX") || die 1 "HOST_BOOT: cannot write in ${path%/*}"
  if ! { cat >"$temporary" && chmod "$mode" -- "$temporary" && mv -f -- "$temporary" "$path"; }; then
    rm -f -- "$temporary"
    die 1 "HOST_BOOT: cannot write $path"
  fi
}

# mkdir that remembers what it created (in the library directory's list), so that uninstall leaves the host's tree
# as it was.
make_boot_directory() {
  local directory=$1
  [[ -d $directory ]] && return 0
  mkdir -m 0755 -- "$directory" || die 1 "HOST_BOOT: cannot create $directory"
  CREATED_DIRECTORIES+=("${directory#"$HOST_ROOT_DIR"}")
}

install_boot_unit() {
  local lib list
  lib=$(boot_lib)
  [[ -d $HOST_ROOT_DIR$BOOT_UNIT_DIR && -d ${lib%/*} ]] ||
    die 3 "HOST_BOOT=systemd but $HOST_ROOT_DIR$BOOT_UNIT_DIR or ${lib%/*} does not exist (mount the host's $BOOT_UNIT_DIR and ${BOOT_LIB_DIR%/*} under HOST_ROOT=$HOST_ROOT_DIR)"
  CREATED_DIRECTORIES=()
  make_boot_directory "$lib"
  make_boot_directory "$HOST_ROOT_DIR$BOOT_WANTS_DIR"
  list=$lib/created-directories
  if ((${#CREATED_DIRECTORIES[@]} > 0)); then
    { if [[ -f $list ]]; then cat -- "$list"; fi; printf '%s\n' "${CREATED_DIRECTORIES[@]}"; } | write_boot_file "$list" 0644
  fi
  write_boot_file "$lib/metadata-proxy-iptables" 0755 <"$(this_script)"
  boot_settings_text | write_boot_file "$lib/interception.env" 0644
  boot_unit_text | write_boot_file "$(boot_unit_file)" 0644
  # The symlink `systemctl enable` would make, made directly: there is no systemctl in the container.
  ln -sfn -- "$BOOT_UNIT_DIR/$BOOT_UNIT" "$(boot_link)" || die 1 "HOST_BOOT: cannot link $(boot_link)"
  log "HOST_BOOT=systemd: $BOOT_UNIT_DIR/$BOOT_UNIT runs $BOOT_LIB_DIR/metadata-proxy-iptables install before kubelet.service from the next boot on (host root $HOST_ROOT_DIR)"
}

is_our_unit() { [[ -f $1 ]] && [[ $(head -n 1 -- "$1") == "$BOOT_MARKER" ]]; }

# Removes the unit, its link, the library directory and the directories install created: only what is ours.
# Returns 1 when there was nothing to remove.
remove_boot_unit() {
  local lib unit link removed=no index directories=()
  lib=$(boot_lib) unit=$(boot_unit_file) link=$(boot_link)
  if [[ -L $link && $(readlink -- "$link") == "$BOOT_UNIT_DIR/$BOOT_UNIT" ]]; then rm -f -- "$link" && removed=yes; fi
  if is_our_unit "$unit"; then rm -f -- "$unit" && removed=yes; fi
  if [[ -d $lib ]]; then
    if [[ -f $lib/created-directories ]]; then mapfile -t directories <"$lib/created-directories"; fi
    rm -f -- "$lib/metadata-proxy-iptables" "$lib/interception.env" "$lib/created-directories"
    removed=yes
    # The last created first; a directory that holds something else now stays.
    for ((index = ${#directories[@]} - 1; index >= 0; index--)); do
      rmdir -- "$HOST_ROOT_DIR${directories[index]}" 2>/dev/null || true
    done
  fi
  [[ $removed == yes ]]
}

verify_boot_unit() {
  local lib unit link
  lib=$(boot_lib) unit=$(boot_unit_file) link=$(boot_link)
  if [[ $BOOT_MODE == systemd ]]; then
    [[ -f $unit && $(cat -- "$unit") == "$(boot_unit_text)" ]] || problem "HOST_BOOT: $unit is missing or differs from this install's"
    [[ -L $link && $(readlink -- "$link") == "$BOOT_UNIT_DIR/$BOOT_UNIT" ]] || problem "HOST_BOOT: $link does not link to $BOOT_UNIT_DIR/$BOOT_UNIT"
    cmp -s -- "$lib/metadata-proxy-iptables" "$(this_script)" || problem "HOST_BOOT: $lib/metadata-proxy-iptables is missing or not this script"
    [[ -f $lib/interception.env && $(cat -- "$lib/interception.env") == "$(boot_settings_text)" ]] ||
      problem "HOST_BOOT: $lib/interception.env is missing or holds other settings than these"
  elif [[ $BOOT_MODE == off ]] && { [[ -L $link ]] || is_our_unit "$unit"; }; then
    problem "HOST_BOOT: $unit is left over while HOST_BOOT is off (install or uninstall removes it)"
  fi
}

# ---------------------------------------------------------------- verify

PROBLEMS=()
problem() { PROBLEMS+=("$*"); }

# Checks CHAIN (rules from RULES_FUNCTION) and its one jump at position 1 of PARENT (JUMP_FUNCTION, PARENT_RULES as
# list_chain read it) in the nat table of FAMILY.
verify_chain() {
  local family=$1 chain=$2 parent=$3 rules=$4 jump=$5 parent_rules=$6 v="IPv$1" rule position expected actual comment
  if ! list_chain "$family" nat "$chain"; then
    problem "$v: chain $chain is missing from the nat table"
    return
  fi
  expected=0
  while IFS= read -r rule; do
    expected=$((expected + 1))
    eval "set -- $rule"
    ipt "$family" -t nat -C "$chain" "$@" 2>/dev/null || problem "$v: rule missing from $chain: $rule"
  done < <("$rules" "$family")
  actual=$(printf '%s\n' "$LISTED" | grep -c -- "^-A $chain " || true)
  ((actual <= expected)) || problem "$v: $chain has $actual rules, expected $expected (a different configuration was installed?)"
  actual=$(jumps_in "$parent_rules" "$chain" | grep -c . || true)
  if ((actual == 0)); then
    problem "$v: no jump from nat $parent to $chain"
  else
    ((actual == 1)) || problem "$v: $actual jumps from nat $parent to $chain, expected 1"
    position=$(printf '%s\n' "$parent_rules" | awk -v chain="$chain" -v parent="-A $parent " '
      index($0, parent) == 1 { n++; if (!found && $(NF - 1) == "-j" && $NF == chain) found = n }
      END { print found }')
    ((position == 1)) || problem "$v: the jump to $chain is rule $position of nat $parent, not 1"
    rule=$("$jump")
    eval "set -- $rule"
    comment=${rule#*--comment \"}
    ipt "$family" -t nat -C "$parent" "$@" 2>/dev/null || problem "$v: the jump to $chain lacks the comment \"${comment%%\"*}\""
  fi
}

verify_family() {
  local family=$1 v="IPv$1"
  has_address "$family" || problem "$v: address $(proxy_address "$family") is not on lo"
  list_parents "$family"
  verify_chain "$family" "$CHAIN" PREROUTING dnat_rules jump_rule "$PREROUTING_RULES"
  if host_intercepted; then
    verify_chain "$family" "$HOST_CHAIN" OUTPUT host_dnat_rules host_jump_rule "$OUTPUT_RULES"
  elif list_chain "$family" nat "$HOST_CHAIN"; then
    problem "$v: chain $HOST_CHAIN is left over while HOST_INTERCEPTION is off (install or uninstall removes it)"
  fi
}

verify_hosts_file() {
  local present=no
  if [[ -r $HOSTS_PATH ]] && grep -F -x -- "$(hosts_line)" "$HOSTS_PATH" >/dev/null; then present=yes; fi
  if [[ $HOST_DNS_MODE == on && $present == no ]]; then
    problem "hosts file $HOSTS_PATH lacks the line \"$(hosts_line)\""
  elif [[ $HOST_DNS_MODE == off ]] && [[ -r $HOSTS_PATH ]] && hosts_has_ours "$HOSTS_PATH"; then
    problem "hosts file $HOSTS_PATH still has a line marked \"$HOSTS_MARKER\" while HOST_DNS is off (install or uninstall removes it)"
  fi
}

run_verify() {
  local family
  PROBLEMS=()
  for family in "${FAMILIES[@]}"; do verify_family "$family"; done
  verify_hosts_file
  verify_boot_unit
  if ((${#PROBLEMS[@]} > 0)); then
    for family in "${PROBLEMS[@]}"; do log "verify: $family"; done
    return 1
  fi
  local families; families=$(printf "IPv%s+" "${FAMILIES[@]}")
  echo "$PROG: verify: ok (backend $BACKEND, ${families%+}, $(describe_match)$(describe_host))"
}

describe_match() { if [[ -n $POD_CIDRS_RAW ]]; then echo "sources $POD_CIDRS_RAW"; else echo "all interfaces but $UPLINK"; fi; }

describe_host() {
  if host_intercepted; then printf ', host processes but uid %s' "$SERVER_UID"; fi
  if [[ $HOST_DNS_MODE == on ]]; then printf ', hosts file %s' "$HOSTS_PATH"; fi
  if [[ $BOOT_MODE == systemd ]]; then printf ', boot unit under %s' "$HOST_ROOT_DIR"; fi
}

# ---------------------------------------------------------------- the datapath probe

# What the rules say proves nothing when pod traffic never meets them: Cilium's kube-proxy replacement with eBPF host
# routing, or its socket load balancing, hands a pod's packets on before netfilter's nat PREROUTING. So the probe
# sends what a pod sends, from a namespace wired like a pod, and accepts only an answer that nothing but the DNAT
# target on this node can give: a fresh nonce and the probe's own source address, echoed back.

PROBE_PID=
PROBE_RESPONDER=
PROBE_VETH=
PROBE_DIRECTORY=
PROBE_TARGET_TAKEN=no

# The throwaway namespace (held by a sleeping process: it dies with it), the veth pair, the route and the responder.
# Runs on every exit of the script once the probe has started.
probe_cleanup() {
  if [[ -n $PROBE_RESPONDER ]]; then kill "$PROBE_RESPONDER" 2>/dev/null || true; wait "$PROBE_RESPONDER" 2>/dev/null || true; fi
  if [[ -n $PROBE_VETH ]]; then ip link del "$PROBE_VETH" 2>/dev/null || true; fi
  if [[ -n $PROBE_PID ]]; then kill "$PROBE_PID" 2>/dev/null || true; wait "$PROBE_PID" 2>/dev/null || true; fi
  if [[ -n $PROBE_DIRECTORY ]]; then rm -rf -- "$PROBE_DIRECTORY" || true; fi
  PROBE_RESPONDER='' PROBE_VETH='' PROBE_PID='' PROBE_DIRECTORY=''
  return 0
}

ipv4_to_int() { local IFS=. a b c d; read -r a b c d <<<"$1"; echo $(((10#$a << 24) | (10#$b << 16) | (10#$c << 8) | 10#$d)); }
int_to_ipv4() { echo "$((($1 >> 24) & 255)).$((($1 >> 16) & 255)).$((($1 >> 8) & 255)).$(($1 & 255))"; }

# The probe's source: PROBE_ADDRESS; else, when the rules match POD_CIDRS, an address they match (the last but one of
# the first IPv4 range, so the broadcast address is never used); else a link-local one.
probe_source() {
  if [[ -n $PROBE_SOURCE ]]; then echo "$PROBE_SOURCE"; return; fi
  if [[ -n $POD_CIDRS_RAW ]]; then
    local cidr=${CIDRS4[0]} base bits
    base=$(ipv4_to_int "${cidr%/*}")
    bits=$((32 - 10#${cidr#*/}))
    ((bits >= 2)) || die 2 "configuration: POD_CIDRS range $cidr is too small for the probe; set PROBE_ADDRESS"
    int_to_ipv4 $(((base & ~((1 << bits) - 1) & 0xFFFFFFFF) + (1 << bits) - 2))
    return
  fi
  echo 169.254.99.2
}

probe_fail() {
  local detail=$1
  die 4 "verify --probe: the rules are in place, but a pod's request to $METADATA_IP4:$METADATA_PORT did not reach $(proxy_endpoint 4): $detail. Something takes pod traffic before netfilter's nat PREROUTING: with Cilium, kube-proxy replacement with eBPF host routing (bpf.hostLegacyRouting=false) or socket load balancing (socketLB) bypasses iptables; run Cilium with bpf.hostLegacyRouting=true and socketLB.hostNamespaceOnly=true, or redirect 169.254.169.254 with a Cilium Local Redirect Policy instead (README: Troubleshooting)"
}

# The responder for the probe: socat on the DNAT target, answering each connection with the nonce and the peer's
# address once the request's head has been read. Not started when something listens there already: then that must
# be a MetadataProxy server, whose canary path gives the same answer.
start_responder() {
  local nonce=$1 waited=0
  if listening_on_target; then
    log "verify --probe: something listens on $(proxy_endpoint 4) already; expecting MetadataProxy's canary answer"
    PROBE_TARGET_TAKEN=yes
    return
  fi
  # The handler in a file: socat's address syntax would take quotes, commas and colons in a command apart.
  PROBE_DIRECTORY=$(mktemp -d "${TMPDIR:-/tmp}/metadata-proxy-probe.XXXXXX") ||
    die 3 "verify --probe: cannot create a directory in ${TMPDIR:-/tmp} for the probe's responder"
  cat >"$PROBE_DIRECTORY/respond" <<'HANDLER'
# Reads the request's head, then answers with the nonce and the address the connection came from.
sed -n '/^\r*$/q'
body="metadata-proxy canary $PROBE_NONCE from $SOCAT_PEERADDR"
printf 'HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %s\r\nConnection: close\r\n\r\n%s\n' $((${#body} + 1)) "$body"
HANDLER
  PROBE_NONCE=$nonce socat -T "$PROBE_SECONDS" "TCP4-LISTEN:$PORT,bind=$ADDRESS4,reuseaddr,fork" "SYSTEM:sh $PROBE_DIRECTORY/respond" 2>/dev/null &
  PROBE_RESPONDER=$!
  until listening_on_target; do
    kill -0 "$PROBE_RESPONDER" 2>/dev/null || die 3 "verify --probe: cannot listen on $(proxy_endpoint 4) for the probe (socat exited)"
    ((waited++ < 100)) || die 3 "verify --probe: the probe's responder did not listen on $(proxy_endpoint 4) within 5 s"
    sleep 0.05
  done
}

# Whether a TCP socket listens on the DNAT target, on its address or on a wildcard.
listening_on_target() {
  ss -Hltn 2>/dev/null | awk -v a="$ADDRESS4:$PORT" -v p=":$PORT" '
    $4 == a || $4 == "0.0.0.0" p || $4 == "*" p || $4 == "[::]" p { found = 1 } END { exit !found }'
}

# link_address COMMAND... DEVICE: the MAC address of DEVICE as `COMMAND... -o link show DEVICE` prints it.
link_address() { "${@:1:$#-1}" -o link show "${!#}" | grep -o 'link/ether [0-9a-f:]*' | cut -d' ' -f2; }

# nsenter into the probe's namespace.
in_probe() { nsenter -t "$PROBE_PID" -n "$@"; }

run_probe() {
  local source nonce veth_mac pod_mac answer status=0 expected
  source=$(probe_source)
  nonce=$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
  PROBE_VETH=mpxprobe$(printf '%04x' $((RANDOM & 0xFFFF)))
  trap probe_cleanup EXIT
  trap 'exit 143' TERM
  trap 'exit 130' INT
  # The route below would take this address's traffic from its real owner for the probe's few seconds.
  if ip -4 -o addr show 2>/dev/null | grep -F " $source/" >/dev/null || [[ -n $(ip -4 route show exact "$source/32" 2>/dev/null) ]]; then
    die 3 "verify --probe: PROBE_ADDRESS $source is in use on this node (an address or a /32 route); set another"
  fi
  unshare --net sleep 600 &
  PROBE_PID=$!
  # The namespace exists once the process is asleep in it (its network namespace differs from ours).
  local waited=0
  until [[ $(readlink "/proc/$PROBE_PID/ns/net" 2>/dev/null) != "$(readlink /proc/self/ns/net)" ]]; do
    kill -0 "$PROBE_PID" 2>/dev/null || die 3 "verify --probe: cannot create a network namespace (unshare --net needs CAP_SYS_ADMIN)"
    ((waited++ < 100)) || die 3 "verify --probe: the probe's network namespace did not appear within 5 s"
    sleep 0.05
  done
  ip link add "$PROBE_VETH" type veth peer name eth0 netns "/proc/$PROBE_PID/ns/net" 2>/dev/null ||
    die 3 "verify --probe: cannot create the veth pair $PROBE_VETH (needs CAP_NET_ADMIN and CAP_SYS_ADMIN)"
  ip link set "$PROBE_VETH" up
  veth_mac=$(link_address ip "$PROBE_VETH")
  in_probe ip link set lo up
  in_probe ip -4 addr add "$source/32" dev eth0
  in_probe ip link set eth0 up
  pod_mac=$(link_address in_probe ip eth0)
  # Like a CNI's pod: everything through the node's end of the veth. Static neighbours, so no ARP is needed either way.
  in_probe ip -4 route add default dev eth0
  in_probe ip neigh replace "$METADATA_IP4" lladdr "$veth_mac" dev eth0 nud permanent
  ip -4 route add "$source/32" dev "$PROBE_VETH"
  ip neigh replace "$source" lladdr "$pod_mac" dev "$PROBE_VETH" nud permanent
  start_responder "$nonce"
  # What a pod's client library sends; bash's /dev/tcp, so the pod side needs nothing but bash.
  answer=$(in_probe timeout "$PROBE_SECONDS" bash -c '
    exec 3<>"/dev/tcp/$1/$2" || exit 7
    printf "GET %s%s HTTP/1.1\r\nHost: %s\r\nMetadata-Flavor: Google\r\nConnection: close\r\n\r\n" "$3" "$4" "$1" >&3
    cat <&3' probe "$METADATA_IP4" "$METADATA_PORT" "$CANARY_PATH" "$nonce" 2>&1) || status=$?
  expected="metadata-proxy canary $nonce from $source"
  if ((status == 0)) && [[ $answer == "HTTP/1.1 200 "* && $answer == *$'\r\n\r\n'"$expected"* ]]; then
    probe_cleanup
    write_probe_marker "$nonce" "$source"
    echo "$PROG: verify --probe: ok (a request to $METADATA_IP4:$METADATA_PORT from $source in a pod-like namespace reached $(proxy_endpoint 4))"
    return 0
  fi
  probe_cleanup
  if ((status == 124)); then probe_fail "no answer within $PROBE_SECONDS s"
  elif [[ -z $answer || $answer == *"Connection refused"* || $answer == *"No route"* || $answer == *"unreachable"* ]]; then
    probe_fail "$(printf '%s' "${answer:-no answer}" | grep . | tail -n 1 | sed 's/^probe: line [0-9]*: //')"
  fi
  if [[ $PROBE_TARGET_TAKEN == yes ]]; then
    # The listener that was there before may be the one that answered: a MetadataProxy older than the canary path.
    die 4 "verify --probe: the answer to a pod's request to $METADATA_IP4:$METADATA_PORT lacks the nonce: \"$(printf '%s' "$answer" | head -n 1 | tr -d '\r')\". The process listening on $(proxy_endpoint 4) does not answer $CANARY_PATH (a MetadataProxy without the canary path, or another program), or the request went elsewhere; stop that process and run the probe again"
  fi
  probe_fail "something else answered: \"$(printf '%s' "$answer" | head -n 1 | tr -d '\r')\" (without the nonce: the cloud's own metadata server?)"
}

# For the server's readiness (Operations:DatapathProbeFile): which target the probe proved, replaced atomically.
write_probe_marker() {
  [[ -n $PROBE_MARKER ]] || return 0
  local temporary
  temporary=$(mktemp -- "${PROBE_MARKER%/*}/.${PROBE_MARKER##*/}.XXXXXX") || die 1 "cannot write PROBE_MARKER_FILE $PROBE_MARKER"
  printf 'target=%s\nsource=%s\nnonce=%s\ntime=%s\n' "$(proxy_endpoint 4)" "$2" "$1" "$(date -u +%Y-%m-%dT%H:%M:%SZ)" >"$temporary" &&
    chmod 0644 -- "$temporary" && mv -f -- "$temporary" "$PROBE_MARKER" || { rm -f -- "$temporary"; die 1 "cannot write PROBE_MARKER_FILE $PROBE_MARKER"; }
}

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
  # At boot (HOST_BOOT=boot-unit) no connection predates the rules: a host without conntrack is no reason to fail.
  if [[ $BOOT_MODE == boot-unit ]]; then check_tools ip flock; else check_tools ip flock conntrack; fi
  if [[ $HOST_DNS_MODE == on && ! -e $HOSTS_PATH ]]; then
    die 3 "HOST_DNS=on but the hosts file $HOSTS_PATH does not exist (mount the host's /etc/hosts and set HOSTS_FILE)"
  fi
  detect_backend
  choose_families
  detect_uplink
  take_lock
  local family product
  if [[ $HOST_MODE == on && ! -r $DMI_FILE ]]; then
    # A runtime that masks /sys/class/dmi would hide a Google Compute Engine VM: say so rather than pass quietly.
    log "HOST_INTERCEPTION=on: cannot read $DMI_FILE (DMI_PRODUCT_NAME_FILE); assuming this is not a Google Compute Engine VM"
  fi
  if [[ $HOST_MODE == force ]]; then
    product=$(google_product_name)
    [[ -z $product ]] || log "HOST_INTERCEPTION=force on a Google Compute Engine VM ('$product'): the host's requests go to MetadataProxy, not to the VM's metadata server (uid $SERVER_UID still reaches it)"
  fi
  for family in "${FAMILIES[@]}"; do
    add_address "$family"
    install_family "$family"
    log "IPv$family: $(metadata_ip "$family"):$METADATA_PORT -> $(proxy_endpoint "$family") for $(describe_match)$(describe_host_rule) (backend $BACKEND)"
  done
  if update_hosts_file "$HOST_DNS_MODE"; then
    if [[ $HOST_DNS_MODE == on ]]; then log "hosts file $HOSTS_PATH: added \"$(hosts_line)\""; else log "hosts file $HOSTS_PATH: HOST_DNS is off: removed the line marked \"$HOSTS_MARKER\""; fi
  fi
  case $BOOT_MODE in
    systemd) install_boot_unit ;;
    off) if remove_boot_unit; then log "HOST_BOOT is off: removed $BOOT_UNIT and $BOOT_LIB_DIR (host root $HOST_ROOT_DIR)"; fi ;;
  esac
  if [[ $BOOT_MODE != boot-unit ]] || have conntrack; then
    for family in "${FAMILIES[@]}"; do flush_conntrack "$family" || exit 1; done
  fi
  run_verify
}

describe_host_rule() { if host_intercepted; then printf ' and host processes but uid %s' "$SERVER_UID"; fi; }

# Removes our chains and every jump to them from one family of the current backend. The jumps are looked for in
# PREROUTING and OUTPUT, where install puts them; only when the chains still cannot go (someone jumps to them from
# elsewhere) is the whole nat table read, streamed through grep, to find the other jumps.
remove_from_backend() {
  local family=$1 chain removed=() transaction others
  have "$(tool "$family")" && have "$(tool "$family" -restore)" || return 0
  for chain in "$CHAIN" "$HOST_CHAIN"; do list_chain "$family" nat "$chain" && removed+=("$chain"); done
  ((${#removed[@]} > 0)) || return 0
  list_parents "$family"
  transaction=$(
    echo "*nat"
    for chain in "${removed[@]}"; do
      { jumps_in "$PREROUTING_RULES" "$chain"; jumps_in "$OUTPUT_RULES" "$chain"; } | deletions
      echo "-F $chain"
      echo "-X $chain"
    done
    echo "COMMIT"
  )
  if ! restore "$family" "$transaction"; then
    log "IPv$family: removing ${removed[*]} ($BACKEND) failed (${RESTORED##*$'\n'}); looking for jumps to them in the whole nat table"
    others=$(other_jumps "$family" "${removed[@]}") || exit
    transaction=$(
      echo "*nat"
      printf '%s\n' "$others" | deletions
      for chain in "${removed[@]}"; do echo "-F $chain"; echo "-X $chain"; done
      echo "COMMIT"
    )
    restore "$family" "$transaction" ||
      die 1 "IPv$family: removing ${removed[*]} ($BACKEND) failed: ${RESTORED##*$'\n'}"
  fi
  log "IPv$family: removed ${removed[*]} and the jumps to them (backend $BACKEND)"
}

# Every rule of the nat table of FAMILY that jumps to one of CHAINS, from iptables-save streamed through awk: only
# those rules and the save's own messages are kept, never the table.
other_jumps() {
  local family=$1 save pattern output status
  shift
  save=$(tool "$family" -save)
  pattern=$(IFS='|'; echo "$*")
  output=$({ "$save" -t nat 2>&1 || echo "metadata-proxy: exit $?"; } | awk -v jump="-j ($pattern)\$" '
    /^-A / { if ($0 ~ jump) print; next }
    /^[:*#]/ || $0 == "COMMIT" { next }
    { print }')
  if [[ $output =~ metadata-proxy:\ exit\ ([0-9]+) ]]; then
    status=${BASH_REMATCH[1]}
    tool_failed "$save -t nat" "$status" "$(printf '%s\n' "$output" | grep -v '^metadata-proxy: exit ' || true)"
  fi
  printf '%s\n' "$output" | grep -E -- '^-A ' || true
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
  # Whatever HOST_DNS says now: an admin who turned it off and uninstalls is clean too.
  if update_hosts_file off; then log "hosts file $HOSTS_PATH: removed the line marked \"$HOSTS_MARKER\""; fi
  # Whatever HOST_BOOT says now, as for the hosts line.
  if remove_boot_unit; then log "removed $BOOT_UNIT and $BOOT_LIB_DIR (host root $HOST_ROOT_DIR)"; fi
  log "uninstall: done"
}

cmd_verify() {
  check_tools ip
  [[ ${1:-} != --probe ]] || check_tools unshare nsenter socat timeout
  detect_backend
  choose_families
  detect_uplink
  run_verify
  [[ ${1:-} != --probe ]] || run_probe
}

main() {
  case ${1:-} in
    help | -h | --help) usage; exit 0 ;;
    install | uninstall | verify) ;;
    *) usage >&2; exit 2 ;;
  esac
  if [[ $1 == verify && $# == 2 && $2 == --probe ]]; then :
  elif (($# != 1)); then usage >&2; exit 2
  fi
  read_configuration "$1"
  "cmd_$1" "${@:2}"
}

main "$@"
