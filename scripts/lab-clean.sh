#!/usr/bin/env bash
# Removes ALL NodeLab resources on this machine, whoever created them, live or dead:
# processes in lab cgroups and namespaces, network namespaces, bridges and veths named
# nlab<pid>-<index>..., the cgroup tree <cgroup2>/netobs-nodelab, subnet leases, and the
# per-pod /etc/netns/<netns> files (resolv.conf) of `netobs demo`.
# For operators after crashed runs; tests clean up after themselves (and a new NodeLab
# removes the leftovers of dead processes on its own).
#
# Usage: sudo scripts/lab-clean.sh [--dry-run] [--owner PID]
#   --dry-run    print what would be done
#   --owner PID  only the labs created by process PID (default: every lab)
# Naming contract: Sources/NodeLab/LabNaming.swift.
set -euo pipefail

dry_run=0
owner='[0-9a-z]{1,5}'
while (( $# )); do
  case "$1" in
    --dry-run) dry_run=1 ;;
    --owner)
      [[ "${2:-}" =~ ^[0-9]+$ ]] || { echo "lab-clean: --owner needs a pid" >&2; exit 2; }
      n=$2 owner=''
      digits=0123456789abcdefghijklmnopqrstuvwxyz
      while :; do owner="${digits:n%36:1}$owner"; n=$((n / 36)); (( n > 0 )) || break; done
      shift ;;
    -h|--help) sed -n '2,14p' "$0"; exit 0 ;;
    *) echo "lab-clean: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done
[[ $EUID -eq 0 ]] || { echo "lab-clean: must run as root" >&2; exit 1; }
command -v ip >/dev/null || { echo "lab-clean: 'ip' (iproute2) not found" >&2; exit 1; }

# nlab<pid base36>-<2 base36> is a lab id (and its cgroup directory); links add br or
# v<2>; namespaces add -<2>-<pod name>.
lab_re="^nlab${owner}-[0-9a-z]{2}\$"
link_re="^nlab${owner}-[0-9a-z]{2}(br|v[0-9a-z]{2})?\$"
netns_re="^nlab${owner}-[0-9a-z]{2}-[0-9a-z]{2}-.+\$"

run() {
  echo "+ $*"
  if (( ! dry_run )); then "$@" || true; fi
}

cgroup2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
labs_cgroup=${cgroup2:+$cgroup2/netobs-nodelab}
lab_cgroups=()
if [[ -n "$labs_cgroup" && -d "$labs_cgroup" ]]; then
  for dir in "$labs_cgroup"/*/; do
    dir=${dir%/}
    [[ -d "$dir" && "$(basename "$dir")" =~ $lab_re ]] && lab_cgroups+=("$dir")
  done
fi

# 1. Kill every process in lab cgroups (cgroup.kill kills the whole subtree at once).
for dir in "${lab_cgroups[@]}"; do
  if [[ -e "$dir/cgroup.kill" ]]; then
    run sh -c "echo 1 > '$dir/cgroup.kill'"
  else
    for pid in $(find "$dir" -name cgroup.procs -exec cat {} +); do run kill -9 "$pid"; done
  fi
done

# 2. Network namespaces: kill what still lives in them, then delete (takes the pod veth ends).
for ns in $(ip netns list | awk '{ print $1 }'); do
  [[ "$ns" =~ $netns_re ]] || continue
  for pid in $(ip netns pids "$ns" 2>/dev/null); do run kill -9 "$pid"; done
  run ip netns delete "$ns"
done

# 3. Links in the root namespace: veths first, then bridges.
links=$(ip -o link show | awk -F': ' '{ sub(/@.*/, "", $2); print $2 }')
for link in $links; do
  if [[ "$link" =~ $link_re && "$link" != *br ]]; then run ip link delete "$link"; fi
done
for link in $links; do
  if [[ "$link" =~ $link_re && "$link" == *br ]]; then run ip link delete "$link"; fi
done

# 4. Cgroups, deepest first (rmdir only: their interface files cannot be unlinked).
#    Killed processes take a moment to leave, so retry briefly.
for dir in "${lab_cgroups[@]}"; do
  if (( dry_run )); then find "$dir" -depth -type d -printf '+ rmdir %p\n'; continue; fi
  for _ in $(seq 1 20); do
    find "$dir" -depth -type d -exec rmdir {} + 2>/dev/null || true
    [[ -d "$dir" ]] || break
    sleep 0.25
  done
  [[ -d "$dir" ]] && echo "lab-clean: could not remove $dir (still populated?)" >&2
done
(( dry_run )) || rmdir "$labs_cgroup" 2>/dev/null || true   # only if no lab is left

# 5. Subnet leases: symlinks <N> -> <lab id>.
for lease in /run/netobs-nodelab/subnets/*; do
  [[ -L "$lease" && "$(readlink "$lease")" =~ $lab_re ]] && run rm -f "$lease"
done

# 6. Per-pod /etc files (`ip netns exec` bind-mounts them), written by `netobs demo`.
for dir in /etc/netns/*; do
  [[ -d "$dir" && "$(basename "$dir")" =~ $netns_re ]] && run rm -rf "$dir"
done

echo "lab-clean: done"
