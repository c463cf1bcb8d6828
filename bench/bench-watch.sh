#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-or-later
#
# bench-watch.sh — what `vigil watch` costs the workloads it watches, side
# by side with the peers of docs/benchmarks.md: libbpf-tools execsnoop and
# opensnoop, bpftrace tracepoint one-liners and auditd syscall rules.
#
#   bench/bench-watch.sh [VIGIL_BINARY] [ROUNDS=3]
#
# Workloads (bench/storm.c, built here; ops with QUICK=1 in brackets):
#   exec     fork + exec /bin/true + wait              2,000   (200)
#   open     open + close of one file on tmpfs       200,000 (20,000)
#   connect  TCP connect/accept/close on 127.0.0.1    20,000  (2,000)
#   getppid  getppid(), a syscall nobody watches   1,000,000 (100,000)
# Tools, attached while the workload runs, output to a file:
#   vigil      `VIGIL watch --output json > FILE`            all four
#   vigil-audit `VIGIL watch --source audit --output json -e WORKLOAD`:
#              the same from Linux audit's records, no eBPF   exec, open,
#              (vigil registers as the audit daemon)          connect
#   execsnoop  libbpf-tools                                  exec
#   opensnoop  libbpf-tools                                  open, getppid
#   bpftrace   printf one-liner on sched:sched_process_exec,
#              syscalls:sys_enter_openat, syscalls:sys_enter_connect
#   auditd     the rules vigil's audit source loads for the    exec, open,
#              workload (exec, fork, exit, and the workload's  connect
#              calls; see audit_rules), auditd writing its log
#   tp-empty   bench/floor.c: a BPF program on syscalls:sys_exit_openat  open, getppid
#              that does nothing: what the tracepoint alone costs
#   tp-min     bench/floor.c: pid, time, result and path of each open   open
#              to a ring buffer, read in batches, one line each to the
#              file: the least a tracepoint tool can do and deliver
#              every open (none of vigil's process, user, cgroup,
#              namespace or absolute-path fields). The two tp- columns
#              are the floor the others are measured against.
#
# Environment:
#   ROUNDS            rounds, at least 3 (default 3; the argument wins)
#   QUICK=1           one tenth of the operations
#   WORKLOADS         subset of "exec open connect getppid" to run
#   TOOLS             subset of "vigil vigil-audit execsnoop opensnoop
#                     bpftrace auditd tp-empty tp-min"
#   VIGIL_BEFORE=BIN  another vigil build, run as the column "vigil-before"
#                     beside vigil, the same way: a change's cost, side
#                     by side in one run
#   BENCH_KEEP=DIR    keep each attached run's output and stderr there
#   BENCH_INSTALL=1   apt-get install the peers that are missing (without
#                     it, a missing peer's column is skipped, with why)
#   BUILD_DIR, CC     where and with what storm.c is built (temp dir, cc)
#   WORKLOAD_TIMEOUT  seconds one workload run may take (default 300)
#
# Method (docs/benchmarks.md): for each workload and tool, each round is
# one run without the tool (A) and one with it (B), A B in even rounds and
# B A in odd ones. The tool is attached before its run and detached after
# it; its start-up and shut-down are not timed. A tool's ratio is the
# median over rounds of B / A; the baseline shown is the median of all A
# runs. Events are counted as well, since a tool that drops events has not
# kept up whatever its ratio: for vigil, the "N events, M lost" line it
# prints on stderr when stopped, plus the lines of its JSON output that
# mention the workload's file, /bin/true or port (and name the operation
# in a "type" field, when there is one); for the peers, the lines of their
# output that do. Agent CPU per event is the utime + stime the tool's
# process used between attachment and just before it is stopped, divided
# by the events it delivered; peak RSS is its VmHWM.
#
# vigil watch must print a line starting with "vigil: watching" on stderr
# once attached (awaited for 30 s), and "vigil: N events, M lost" when
# stopped with SIGINT. If `VIGIL watch --help` fails, the vigil column is
# skipped and the peers still run.
#
# Audit: once audit has been enabled, the kernel gives every new task a
# per-syscall audit hook until reboot (about 15 ns per getppid here), even
# with no rules. So when no audit daemon runs and no rules are loaded, a
# "-a never,task" rule is kept loaded for the whole run, except during
# auditd's own runs, and every baseline measures the unhooked path. The
# auditd column then starts its own auditd (configuration and log in the
# temporary directory) for each of its runs and stops it after, so that
# the vigil-audit runs have the audit stream to themselves, and restores
# audit's enabled flag afterwards; if the host runs an audit daemon, that
# one is used (and vigil-audit reads beside it, paying for it too). Only rules added here
# (key vigil_bench, and that task rule) are ever removed. If rules are
# loaded with no daemon, or audit is locked, the column is skipped.
#
# The peers need bpftool (to see when they have attached) besides their
# own packages: libbpf-tools, bpftrace, auditd. The tp- columns are built
# here with vigil's build tools (clang, bpftool, libbpf).
#
# Only loopback is used (storm connect listens and connects on 127.0.0.1).
#
# Exit status: 0 when the benchmark ran (PASS or MISS alike, columns
# skipped for a missing tool included); 1 when a command failed (storm,
# vigil or a peer exited with an error, crashed, timed out, or did not
# attach); 2 on usage or set-up errors. Without root, it prints why it is
# skipped and exits 0.

set -u
set -o pipefail
export LC_ALL=C
export PATH=$PATH:/usr/sbin:/sbin

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
vigil=${1:-$here/../build/vigil}
rounds=${2:-${ROUNDS:-3}}
workload_timeout=${WORKLOAD_TIMEOUT:-300}
attach_timeout=30
stop_timeout=30
audit_key=vigil_bench

# shellcheck source=lib.sh
. "$here/lib.sh" bench-watch
bench_check_rounds
bench_check_workload_timeout
bench_check_vigil

all_workloads=(exec open connect getppid)
all_tools=(vigil vigil-audit execsnoop opensnoop bpftrace auditd tp-empty tp-min)
vigil_before=
if [[ -n ${VIGIL_BEFORE:-} ]]; then
        [[ -x $VIGIL_BEFORE ]] || die "VIGIL_BEFORE is not an executable: $VIGIL_BEFORE"
        vigil_before=$(realpath -- "$VIGIL_BEFORE")
        all_tools=(vigil vigil-before "${all_tools[@]:1}")
fi
read -r -a workloads <<<"${WORKLOADS:-${all_workloads[*]}}"
read -r -a tools_wanted <<<"${TOOLS:-${all_tools[*]}}"
for w in "${workloads[@]}"; do
        [[ " ${all_workloads[*]} " == *" $w "* ]] || die "unknown workload '$w' in WORKLOADS"
done
for t in "${tools_wanted[@]}"; do
        [[ " ${all_tools[*]} " == *" $t "* ]] || die "unknown tool '$t' in TOOLS"
done
(( ${#workloads[@]} )) || die "WORKLOADS is empty"

if (( EUID != 0 )); then
        echo "bench-watch: needs root (eBPF programs and audit rules); skipped"
        exit 0
fi
for c in cc timeout env awk; do
        [[ $c == cc ]] && c=${CC:-cc}
        command -v "$c" >/dev/null || die "$c is not installed"
done

declare -A ops=([exec]=2000 [open]=200000 [connect]=20000 [getppid]=1000000)
declare -A what=([exec]="fork + exec /bin/true + wait"
        [open]="open + close of one file on tmpfs"
        [connect]="TCP connect + accept + close on 127.0.0.1"
        [getppid]="getppid(), not watched")
declare -A applies=([exec]="vigil vigil-audit execsnoop bpftrace auditd"
        [open]="vigil vigil-audit opensnoop bpftrace auditd tp-empty tp-min"
        [connect]="vigil vigil-audit bpftrace auditd"
        [getppid]="vigil opensnoop tp-empty")
if [[ -n $vigil_before ]]; then
        for w in "${!applies[@]}"; do applies[$w]="vigil vigil-before ${applies[$w]#vigil }"; done
fi
declare -A target=([exec]=1.02 [open]=1.30 [connect]=1.10 [getppid]=1.01)
if [[ ${QUICK:-0} == 1 ]]; then
        for w in "${!ops[@]}"; do ops[$w]=$(( ops[$w] / 10 )); done
fi

wall0=$EPOCHREALTIME

# --- clean-up: nothing started here outlives the script --------------------
tmp=$(mktemp -d /tmp/bench-watch.XXXXXX) || die "mktemp failed"
tool_pid=          # the tool attached right now, if any
auditd_pid=        # the auditd started here, if any
audit_touched=0    # rules with our key may be loaded
audit_never=0      # our "-a never,task" rule is loaded
audit_enabled0=    # audit's enabled flag before we started an auditd
storm_file=
tmpfs_dir=

# shellcheck disable=SC2317  # reached through the EXIT trap
cleanup() {
        trap '' INT TERM HUP
        if [[ -n $tool_pid ]]; then
                stop_pid "$tool_pid" INT 50
                tool_pid=
        fi
        if (( audit_touched )); then
                auditctl -D -k "$audit_key" >/dev/null 2>&1
        fi
        if (( audit_never )); then
                auditctl -d never,task >/dev/null 2>&1
        fi
        [[ -n $auditd_pid ]] && stop_own_auditd
        [[ -n $storm_file ]] && rm -f -- "$storm_file"
        [[ -n $tmpfs_dir ]] && umount "$tmpfs_dir" 2>/dev/null
        rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
trap 'exit 129' HUP

# --- /proc helpers ------------------------------------------------------
proc_state() { # pid -> state letter, X when gone
        local s
        s=$(cat "/proc/$1/stat" 2>/dev/null) || { echo X; return; }
        s=${s##*) }
        echo "${s%% *}"
}
alive() { local s; s=$(proc_state "$1"); [[ $s != X && $s != Z ]]; }
# stop_pid PID SIGNAL TENTHS: SIGNAL, up to TENTHS tenths of a second to
# go, then SIGKILL; reaped.
stop_pid() {
        local i
        kill -"$2" "$1" 2>/dev/null
        for (( i = 0; i < $3; i++ )); do
                alive "$1" || break
                sleep 0.1
        done
        kill -KILL "$1" 2>/dev/null
        wait "$1" 2>/dev/null
}
cpu_ticks() { # pid -> utime + stime in clock ticks, empty when gone
        local s
        local -a f
        s=$(cat "/proc/$1/stat" 2>/dev/null) || return
        s=${s##*) }
        read -r -a f <<<"$s"
        echo $(( f[11] + f[12] ))
}
hwm_kb() { awk '/^VmHWM:/ { print $2 }' "/proc/$1/status" 2>/dev/null; }
clk_tck=$(getconf CLK_TCK 2>/dev/null) || clk_tck=100

describe_status() {
        if (( $1 > 128 )); then
                echo "killed by signal $(( $1 - 128 )) ($(kill -l $(( $1 - 128 )) 2>/dev/null))"
        else
                echo "exit status $1"
        fi
}

# wait_gone PID SECONDS: until PID has exited (a zombie counts as exited).
wait_gone() {
        local end=$(( SECONDS + $2 ))
        while alive "$1"; do
                (( SECONDS <= end )) || return 1
                sleep 0.05
        done
}

# wait_quiet FILE: until FILE has stopped growing for 0.3 s (at most 10 s),
# so that a tool has written what it had received before it is stopped.
wait_quiet() {
        local i last=-1 size same=0
        for (( i = 0; i < 100 && same < 3; i++ )); do
                size=$(stat -c %s -- "$1" 2>/dev/null || echo 0)
                if [[ $size == "$last" ]]; then
                        same=$(( same + 1 ))
                else
                        same=0
                fi
                last=$size
                sleep 0.1
        done
}

# --- the tools available here ------------------------------------------
declare -A skip=()   # tool -> why its column is skipped
declare -A bin=()

find_libbpf_tool() { # name -> path of the libbpf-tools binary
        local p
        p=$(dpkg -L libbpf-tools 2>/dev/null | grep -m1 -E "/(s?bin|libbpf-tools)/$1\$")
        [[ -n $p && -x $p ]] || p=$(command -v "$1" 2>/dev/null)
        [[ -n $p && -x $p ]] && echo "$p"
}

locate_tools() {
        bin[execsnoop]=$(find_libbpf_tool execsnoop)
        bin[opensnoop]=$(find_libbpf_tool opensnoop)
        bin[bpftrace]=$(command -v bpftrace 2>/dev/null)
        bin[bpftool]=$(command -v bpftool 2>/dev/null)
        bin[auditd]=$(command -v auditd 2>/dev/null)
        bin[auditctl]=$(command -v auditctl 2>/dev/null)
}

wanted() { [[ " ${tools_wanted[*]} " == *" $1 "* ]]; }
used() { # tool -> true when it applies to one of the workloads run
        local w
        wanted "$1" || return 1
        for w in "${workloads[@]}"; do
                [[ " ${applies[$w]} " == *" $1 "* ]] && return 0
        done
        return 1
}

# Which package provides what each used peer needs.
missing_pkgs() {
        local -A need=()
        { used execsnoop && [[ -z ${bin[execsnoop]} ]]; } && need[libbpf-tools]=1
        { used opensnoop && [[ -z ${bin[opensnoop]} ]]; } && need[libbpf-tools]=1
        { used bpftrace && [[ -z ${bin[bpftrace]} ]]; } && need[bpftrace]=1
        if { used execsnoop || used opensnoop || used bpftrace; } &&
           [[ -z ${bin[bpftool]} ]]; then
                need[bpftool]=1
        fi
        { used auditd && [[ -z ${bin[auditd]} || -z ${bin[auditctl]} ]]; } && need[auditd]=1
        echo "${!need[@]}"
}

locate_tools
read -r -a pkgs <<<"$(missing_pkgs)"
if (( ${#pkgs[@]} )); then
        if [[ ${BENCH_INSTALL:-0} == 1 ]]; then
                say "installing ${pkgs[*]} (BENCH_INSTALL=1)"
                if ! { DEBIAN_FRONTEND=noninteractive timeout 600 apt-get update -qq &&
                       DEBIAN_FRONTEND=noninteractive timeout 900 apt-get install -y -qq \
                               --no-install-recommends "${pkgs[@]}"; } >"$tmp/apt.log" 2>&1; then
                        tail -n 5 "$tmp/apt.log" >&2
                        say "apt-get install ${pkgs[*]} failed; those columns are skipped"
                fi
                locate_tools
        else
                say "not installed: ${pkgs[*]} (BENCH_INSTALL=1 installs them); their columns are skipped"
        fi
fi

if ! timeout 10 "$vigil" watch --help >/dev/null 2>&1; then
        echo "bench-watch: vigil watch not available; vigil column skipped"
        skip[vigil]="vigil watch not available ('$vigil watch --help' fails)"
fi
for t in execsnoop opensnoop bpftrace; do
        if [[ -z ${bin[$t]} ]]; then
                case $t in
                bpftrace) skip[$t]="bpftrace is not installed" ;;
                *) skip[$t]="$t (package libbpf-tools) is not installed" ;;
                esac
        elif [[ -z ${bin[bpftool]} ]]; then
                skip[$t]="bpftool (to see when $t has attached) is not installed"
        fi
done
for t in "${all_tools[@]}"; do
        wanted "$t" || skip[$t]="not in TOOLS"
done

# --- audit set-up ---------------------------------------------------------
audit_own=0      # 1: auditd started here, log in $tmp; 0: the host's daemon
audit_log=
audit_host_pid=

audit_field() { auditctl -s 2>/dev/null | awk -v k="$1" '$1 == k { print $2; exit }'; }

# audit_free: no audit daemon and no rules loaded, so nothing is being
# audited and audit may be used here: new tasks are unhooked for the whole
# run (see the header), and the auditd column starts its own daemon.
audit_free=0
en='' apid=''
if [[ -n ${bin[auditctl]} ]] && auditctl -s >/dev/null 2>&1; then
        auditctl -D -k "$audit_key" >/dev/null 2>&1   # left by a killed run
        en=$(audit_field enabled)
        apid=$(audit_field pid)
        if [[ $en != 2 && ${apid:-0} == 0 && $(auditctl -l 2>/dev/null) == "No rules" ]]; then
                audit_free=1
                audit_touched=1
                auditctl -a never,task >/dev/null 2>&1 && audit_never=1
        fi
fi

if used auditd && [[ -z ${skip[auditd]:-} ]]; then
        if [[ -z ${bin[auditd]} || -z ${bin[auditctl]} ]]; then
                skip[auditd]="auditd/auditctl (package auditd) is not installed"
        elif ! auditctl -s >/dev/null 2>&1; then
                skip[auditd]="auditctl -s fails (no audit support?)"
        elif [[ $en == 2 ]]; then
                skip[auditd]="audit is locked (enabled 2); rules cannot be changed"
        elif [[ ${apid:-0} != 0 ]]; then
                # The host's daemon: use it, and count in its log.
                audit_host_pid=$apid
                audit_touched=1
                audit_log=$(awk -F' *= *' '$1 == "log_file" { print $2 }' \
                        /etc/audit/auditd.conf 2>/dev/null)
                audit_log=${audit_log:-/var/log/audit/audit.log}
                if [[ $(cat "/proc/$apid/comm" 2>/dev/null) != auditd || ! -r $audit_log ]]; then
                        audit_log=
                fi
                say "using the running audit daemon (pid $apid); its rules also weigh on the baselines"
        elif (( ! audit_free )); then
                skip[auditd]="audit rules are loaded but no audit daemon runs; not touching them"
        elif (( ! audit_never )); then
                skip[auditd]="auditctl -a never,task fails"
        else
                audit_own=1
                audit_log=$tmp/audit/audit.log
        fi
fi

# --- build storm and make the file of the open storm ---------------------
build_dir=${BUILD_DIR:-$tmp}
mkdir -p "$build_dir" || die "cannot create $build_dir"
storm_bin=$build_dir/storm
${CC:-cc} -std=gnu11 -Wall -Wextra -Werror -O2 -o "$storm_bin" "$here/storm.c" ||
        die "building storm.c failed"

# The floor columns: bench/floor.{bpf.,}c, with the kernel types vigil
# builds with.
floor_bin=$build_dir/floor
build_floor() {
        local arch vm c
        arch=$(uname -m)
        vm=$here/../src/source/bpf/vmlinux/$arch
        for c in clang bpftool pkg-config; do
                command -v "$c" >/dev/null || { echo "$c is not installed"; return 1; }
        done
        [[ -f $vm/vmlinux.h ]] || { echo "no $vm/vmlinux.h for $arch"; return 1; }
        case $arch in x86_64) arch=x86 ;; aarch64) arch=arm64 ;; esac
        { clang -g -O2 -target bpf -D__TARGET_ARCH_"$arch" -I"$vm" \
                -c "$here/floor.bpf.c" -o "$build_dir/floor.bpf.o" &&
          bpftool gen skeleton "$build_dir/floor.bpf.o" name floor_bpf >"$build_dir/floor.skel.h" &&
          ${CC:-cc} -std=gnu11 -Wall -Wextra -Werror -O2 -I"$build_dir" -o "$floor_bin" \
                "$here/floor.c" $(pkg-config --cflags --libs libbpf); } >"$tmp/floor-build.log" 2>&1 ||
                { echo "building bench/floor.c failed: $(tail -n 3 "$tmp/floor-build.log" | tr '\n' ' ')"; return 1; }
}
if used tp-empty || used tp-min; then
        if ! why=$(build_floor); then
                [[ -z ${skip[tp-empty]:-} ]] && skip[tp-empty]=$why
                [[ -z ${skip[tp-min]:-} ]] && skip[tp-min]=$why
                say "tp- columns skipped: $why"
        fi
fi

if [[ $(stat -f -c %T /dev/shm 2>/dev/null) == tmpfs ]]; then
        storm_file=$(mktemp /dev/shm/vigil-bench-storm.XXXXXX) || die "mktemp in /dev/shm failed"
else
        if ! { mkdir -p "$tmp/tmpfs" &&
               mount -t tmpfs -o size=1m,mode=0700 vigil-bench "$tmp/tmpfs"; }; then
                die "no tmpfs at /dev/shm, and mounting one failed"
        fi
        tmpfs_dir=$tmp/tmpfs
        storm_file=$(mktemp "$tmpfs_dir/vigil-bench-storm.XXXXXX") || die "mktemp failed"
fi

# --- one workload run -------------------------------------------------------
run_ns=
run_port=
run_err=
run_storm() { # workload; sets run_ns (and run_port); 1 on failure
        local w=$1 st
        local -a args=("$w" "${ops[$w]}")
        [[ $w == open ]] && args+=("$storm_file")
        run_ns='' run_port='' run_err=''
        timeout -k 5 "$workload_timeout" "$storm_bin" "${args[@]}" \
                >"$tmp/storm.out" 2>"$tmp/storm.err"
        st=$?
        if (( st == 124 )); then
                run_err="storm $w timed out after ${workload_timeout} s"
                return 1
        elif (( st )); then
                run_err="storm $w: $(describe_status "$st"): $(head -c 300 "$tmp/storm.err")"
                return 1
        fi
        run_ns=$(awk '$1 == "ns_per_op" { print $2 }' "$tmp/storm.out")
        run_port=$(awk '$1 == "port" { print $2 }' "$tmp/storm.out")
        [[ -n $run_ns ]] || { run_err="storm $w printed no ns_per_op"; return 1; }
}

# --- attaching and detaching the tools -------------------------------------
agent_pid=       # whose CPU and RSS are measured
cpu0=
audit_lost0=0
audit_off=0
att_err=

bpftrace_prog() {
        case $1 in
        exec) printf '%s\n' 'tracepoint:sched:sched_process_exec { printf("%d %s %s\n", pid, comm, str(args->filename)); }' ;;
        open) printf '%s\n' 'tracepoint:syscalls:sys_enter_openat { printf("%d %s %s\n", pid, comm, str(args->filename)); }' ;;
        connect) printf '%s\n' 'tracepoint:syscalls:sys_enter_connect { printf("%d %s %d\n", pid, comm, args->fd); }' ;;
        esac
}
# The rules auditd holds for a workload: those vigil's audit source loads
# when it watches that workload alone (src/source/audit/control.c), but
# for its "pid != vigil" field. One rule per line, auditctl's arguments.
audit_rules() {
        local a
        for a in b64 b32; do
                echo "-F arch=$a -S execve,execveat -F success=1"
                echo "-F arch=$a -S fork,vfork,clone,clone3 -F success=1"
                echo "-F arch=$a -S exit_group"
        done
        case $1 in
        open) echo "-F arch=b64 -S open,openat,openat2,creat" ;;
        connect) echo "-F arch=b64 -S connect" ;;
        esac
}

# Background jobs of a script ignore SIGINT; env restores it, so that the
# tool can be stopped the way a user stops it, with ^C.
launch() { # cmd... (output to $tmp/tool.out, stderr to $tmp/tool.err)
        # Emptied here, not by the job's redirections: those run after
        # the fork, and attach() must not read the previous run's
        # "vigil: watching" line before they do.
        : >"$tmp/tool.out"
        : >"$tmp/tool.err"
        env --default-signal=INT "$@" >"$tmp/tool.out" 2>"$tmp/tool.err" </dev/null &
        tool_pid=$!
}

# A libbpf tool or bpftrace has attached when bpftool lists tracepoint
# programs of its pid, and their number stays the same for 0.3 s.
wait_bpf_attached() {
        local end=$(( SECONDS + attach_timeout )) n last=-1 same=0
        while (( SECONDS <= end )); do
                alive "$tool_pid" || return 1
                n=$(bpftool perf show 2>/dev/null | grep -c "^pid $tool_pid ")
                if (( n > 0 && n == last )); then
                        same=$(( same + 1 ))
                        (( same >= 3 )) && return 0
                else
                        same=0
                fi
                last=$n
                sleep 0.1
        done
        return 1
}

# Stop the auditd started here; audit's enabled flag as it was.
stop_own_auditd() {
        [[ -z $auditd_pid ]] && return 0
        stop_pid "$auditd_pid" TERM 100
        auditd_pid=
        if [[ -n $audit_enabled0 ]]; then
                auditctl -e "$audit_enabled0" >/dev/null 2>&1
        fi
}

start_own_auditd() {
        local end
        [[ -n $auditd_pid ]] && return 0
        mkdir -p "$tmp/audit/plugins.d" && chmod 700 "$tmp/audit" || return 1
        cat >"$tmp/audit/auditd.conf" <<-EOF
	local_events = yes
	write_logs = yes
	log_file = $tmp/audit/audit.log
	log_format = RAW
	flush = INCREMENTAL_ASYNC
	freq = 50
	max_log_file = 0
	max_log_file_action = IGNORE
	space_left = 75
	space_left_action = IGNORE
	admin_space_left = 50
	admin_space_left_action = IGNORE
	disk_full_action = IGNORE
	disk_error_action = IGNORE
	plugin_dir = $tmp/audit/plugins.d
	q_depth = 2000
	overflow_action = IGNORE
	EOF
        chmod 600 "$tmp/audit/auditd.conf"
        audit_enabled0=$(audit_field enabled)
        "${bin[auditd]}" -n -c "$tmp/audit" >"$tmp/audit/auditd.out" 2>&1 </dev/null &
        auditd_pid=$!
        end=$(( SECONDS + attach_timeout ))
        while [[ $(audit_field pid) != "$auditd_pid" ]]; do
                if ! alive "$auditd_pid" || (( SECONDS > end )); then
                        att_err="auditd did not start: $(head -c 300 "$tmp/audit/auditd.out")"
                        return 1
                fi
                sleep 0.1
        done
}

attach() { # tool workload; 1 on failure (att_err says why)
        local t=$1 w=$2 end
        att_err=
        agent_pid=
        case $t in
        vigil|vigil-before|vigil-audit)
                if [[ $t == vigil ]]; then launch "$vigil" watch --output json
                elif [[ $t == vigil-audit ]]; then
                        # audit's own rules: our never,task rule would
                        # turn the workload's auditing off
                        if (( audit_never )); then
                                auditctl -d never,task >/dev/null 2>&1 && audit_never=0
                        fi
                        launch "$vigil" watch --source audit --output json -e "$w"
                else launch "$vigil_before" watch --output json; fi
                end=$(( SECONDS + attach_timeout ))
                until grep -q '^vigil: watching' "$tmp/tool.err"; do
                        if ! alive "$tool_pid"; then
                                att_err="vigil watch exited before attaching: $(head -c 300 "$tmp/tool.err")"
                                return 1
                        fi
                        if (( SECONDS > end )); then
                                att_err="vigil watch did not print 'vigil: watching' within ${attach_timeout} s"
                                return 1
                        fi
                        sleep 0.05
                done
                agent_pid=$tool_pid
                ;;
        execsnoop|opensnoop)
                launch "${bin[$t]}"
                if ! wait_bpf_attached; then
                        att_err="$t did not attach within ${attach_timeout} s: $(head -c 300 "$tmp/tool.err")"
                        return 1
                fi
                agent_pid=$tool_pid
                ;;
        tp-empty|tp-min)
                launch "$floor_bin" "${t#tp-}"
                end=$(( SECONDS + attach_timeout ))
                until grep -q '^floor: attached' "$tmp/tool.err"; do
                        if ! alive "$tool_pid" || (( SECONDS > end )); then
                                att_err="floor ${t#tp-} did not attach: $(head -c 300 "$tmp/tool.err")"
                                return 1
                        fi
                        sleep 0.05
                done
                agent_pid=$tool_pid
                ;;
        bpftrace)
                launch "${bin[bpftrace]}" -e "$(bpftrace_prog "$w")"
                if ! wait_bpf_attached; then
                        att_err="bpftrace did not attach within ${attach_timeout} s: $(grep -v RLIMIT_MEMLOCK "$tmp/tool.err" | head -c 300)"
                        return 1
                fi
                agent_pid=$tool_pid
                ;;
        auditd)
                if (( audit_own )); then
                        start_own_auditd || return 1
                        agent_pid=$auditd_pid
                        : >"$audit_log"
                else
                        agent_pid=$audit_host_pid
                        audit_off=$(stat -c %s -- "$audit_log" 2>/dev/null || echo 0)
                fi
                audit_lost0=$(audit_field lost)
                if (( audit_never )); then
                        auditctl -d never,task >/dev/null 2>&1 && audit_never=0
                fi
                local rule
                while read -r rule; do
                        # shellcheck disable=SC2086  # the rule's words
                        if ! auditctl -a always,exit $rule -k "$audit_key" >"$tmp/tool.err" 2>&1; then
                                att_err="auditctl -a always,exit $rule failed: $(head -c 300 "$tmp/tool.err")"
                                return 1
                        fi
                done < <(audit_rules "$w")
                ;;
        esac
        cpu0=$(cpu_ticks "$agent_pid")
}

# Back to the state outside auditd's runs: our syscall rule removed, new
# tasks unhooked again.
audit_rules_off() {
        auditctl -D -k "$audit_key" >/dev/null 2>&1
        if (( audit_free && ! audit_never )); then
                auditctl -a never,task >/dev/null 2>&1 && audit_never=1
        fi
}

# The part of the audit log written since attach().
audit_new_log() {
        if (( audit_own )); then
                cat -- "$audit_log"
        elif [[ -n $audit_log ]]; then
                tail -c "+$(( audit_off + 1 ))" -- "$audit_log"
        fi
}

# Lines of a tool's output that are the workload's events.
count_match() { # tool workload file
        local t=$1 w=$2 file=$3 n typed porthex
        case $t in
        vigil|vigil-before|vigil-audit)
                [[ $w == getppid ]] && { wc -l <"$file"; return; }
                # The path as written, and with JSON's optional "\/".
                case $w in
                exec) set -- -e /bin/true -e '\/bin\/true' ;;
                open) set -- -e "$storm_file" -e "${storm_file//\//\\/}" ;;
                esac
                if [[ $w == connect ]]; then
                        n=$(grep -cw -- "$run_port" "$file")
                        typed=$(grep -w -- "$run_port" "$file" |
                                grep -cE "\"(evt\\.)?type\" *: *\"[a-z_]*connect")
                else
                        n=$(grep -cF "$@" "$file")
                        typed=$(grep -F "$@" "$file" |
                                grep -cE "\"(evt\\.)?type\" *: *\"[a-z_]*$w")
                fi
                # Name the operation when the output has a type field at all.
                if (( typed > 0 )); then echo "$typed"; else echo "$n"; fi
                ;;
        # Its ARGS column can be empty here: storm's child never touched
        # the page holding "/bin/true" before execve, and a BPF program
        # cannot fault it in. The comm after exec is "true".
        execsnoop) awk '$1 == "true"' "$file" | wc -l ;;
        opensnoop|tp-min|tp-empty)
                if [[ $w == getppid ]]; then echo 0; else grep -cF -- "$storm_file" "$file"; fi
                ;;
        bpftrace)
                case $w in
                exec) grep -cF -- ' /bin/true' "$file" ;;
                open) grep -cF -- "$storm_file" "$file" ;;
                connect) awk '$2 == "storm"' "$file" | wc -l ;;
                esac
                ;;
        auditd)
                case $w in
                exec) audit_new_log | grep -c '^type=EXECVE .* a0="/bin/true"' ;;
                open) audit_new_log | grep -F -- "name=\"$storm_file\"" | grep -c '^type=PATH ' ;;
                connect)
                        porthex=$(printf '%04X' "$run_port")
                        audit_new_log | grep -ci "^type=SOCKADDR .*saddr=0200${porthex}7F000001"
                        ;;
                esac
                ;;
        esac
}

# detach TOOL WORKLOAD: stop the tool and collect its figures into
# d_events (delivered), d_match (the workload's), d_lost, d_cpu_ns, d_rss_kb.
# 1 on failure (att_err says why).
d_events='' d_match='' d_lost='' d_cpu_ns='' d_rss_kb=''
detach() {
        local t=$1 w=$2 cpu1 st line lost0 lost1 end
        d_events='' d_match='' d_lost='' d_cpu_ns='' d_rss_kb=''
        att_err=
        case $t in
        auditd)
                audit_rules_off
                # Let the kernel's backlog drain and auditd write it out.
                end=$(( SECONDS + 30 ))
                while [[ $(audit_field backlog) != 0 ]] && (( SECONDS <= end )); do
                        sleep 0.1
                done
                [[ -n $audit_log ]] && wait_quiet "$audit_log"
                cpu1=$(cpu_ticks "$agent_pid")
                d_rss_kb=$(hwm_kb "$agent_pid")
                lost0=${audit_lost0:-0} lost1=$(audit_field lost)
                d_lost=$(( ${lost1:-0} - lost0 ))
                if [[ -n $audit_log ]]; then
                        d_events=$(audit_new_log | grep -c "^type=SYSCALL .*key=\"$audit_key\"")
                        d_match=$(count_match auditd "$w" "")
                fi
                if (( audit_own )); then
                        : >"$audit_log"
                        if ! alive "$auditd_pid"; then
                                att_err="auditd exited during the run: $(head -c 300 "$tmp/audit/auditd.out")"
                                return 1
                        fi
                        stop_own_auditd
                fi
                ;;
        *)
                wait_quiet "$tmp/tool.out"
                cpu1=$(cpu_ticks "$agent_pid")
                d_rss_kb=$(hwm_kb "$agent_pid")
                kill -INT "$tool_pid" 2>/dev/null
                if ! wait_gone "$tool_pid" "$stop_timeout"; then
                        kill -KILL "$tool_pid" 2>/dev/null
                        wait "$tool_pid" 2>/dev/null
                        tool_pid=
                        att_err="$t did not exit within ${stop_timeout} s of SIGINT"
                        return 1
                fi
                wait "$tool_pid" 2>/dev/null
                st=$?
                tool_pid=
                [[ $t == vigil-audit ]] && audit_rules_off
                if [[ $t == vigil || $t == vigil-before || $t == vigil-audit ]]; then
                        line=$(sed -nE 's/^vigil: ([0-9]+) events?, ([0-9]+) lost.*/\1 \2/p' \
                                "$tmp/tool.err" | tail -n 1)
                        if [[ -z $line ]] || (( st != 0 && st != 130 )); then
                                att_err="vigil watch: $(describe_status "$st")"
                                [[ -z $line ]] && att_err+=", no 'vigil: N events, M lost' line"
                                att_err+=": $(tail -c 300 "$tmp/tool.err")"
                                return 1
                        fi
                        d_events=${line% *}
                        d_lost=${line#* }
                else
                        if (( st != 0 && st != 130 )); then
                                att_err="$t: $(describe_status "$st"): $(grep -v RLIMIT_MEMLOCK "$tmp/tool.err" | tail -c 300)"
                                return 1
                        fi
                        d_lost=$(grep -oiE 'lost [0-9]+ events?' "$tmp/tool.err" |
                                awk '{ s += $2 } END { print s + 0 }')
                        # One line per event, but for headers and blank lines.
                        d_events=$(grep -cvE '^(PCOMM|PID|Attaching|$)' "$tmp/tool.out")
                fi
                d_match=$(count_match "$t" "$w" "$tmp/tool.out")
                ;;
        esac
        if [[ -n $cpu0 && -n $cpu1 ]]; then
                d_cpu_ns=$(( (cpu1 - cpu0) * (1000000000 / clk_tck) ))
        fi
}

# --- the rounds ------------------------------------------------------------
declare -A a_ns b_ns ev match lost cpu rss   # [w,t,r]
declare -A base_runs   # [w] -> A run figures, space-separated
declare -A failed_col  # [w,t] -> why the column failed
declare -A lines_out   # [w,t,r] -> lines in vigil's output file
failed=0

fail_col() { # workload tool why
        failed_col[$1,$2]=$3
        echo "bench-watch: $2 on the $1 storm: $3" >&2
        failed=1
}

columns() { # workload -> the tools to run for it, in order
        local t
        for t in ${applies[$1]}; do
                [[ -z ${skip[$t]:-} ]] && echo "$t"
        done
}

say "storm: $storm_bin; open file $storm_file; $rounds rounds"
# shellcheck disable=SC2034  # ev, cpu, lines_out are read by sum_of's nameref
for w in "${workloads[@]}"; do
        mapfile -t cols < <(columns "$w")
        base_runs[$w]=
        if (( ${#cols[@]} == 0 )); then
                # Nothing to compare: still measure the baseline.
                for (( r = 0; r < rounds; r++ )); do
                        run_storm "$w" || { echo "bench-watch: $run_err" >&2; exit 1; }
                        base_runs[$w]+=" $run_ns"
                done
                continue
        fi
        for (( r = 0; r < rounds; r++ )); do
                for t in "${cols[@]}"; do
                        [[ -n ${failed_col[$w,$t]:-} ]] && continue
                        if (( r % 2 )); then order=(B A); else order=(A B); fi
                        for x in "${order[@]}"; do
                                if [[ $x == A ]]; then
                                        if ! run_storm "$w"; then
                                                echo "bench-watch: without any tool: $run_err" >&2
                                                exit 1
                                        fi
                                        a_ns[$w,$t,$r]=$run_ns
                                        base_runs[$w]+=" $run_ns"
                                        continue
                                fi
                                if ! attach "$t" "$w"; then
                                        fail_col "$w" "$t" "$att_err"
                                        [[ -n $tool_pid ]] && { kill -KILL "$tool_pid" 2>/dev/null; wait "$tool_pid" 2>/dev/null; tool_pid=; }
                                        [[ $t == auditd ]] && audit_rules_off
                                        break
                                fi
                                run_ok=1
                                run_storm "$w" || run_ok=0
                                if ! detach "$t" "$w"; then
                                        fail_col "$w" "$t" "$att_err"
                                        break
                                fi
                                if (( ! run_ok )); then
                                        fail_col "$w" "$t" "with $t attached: $run_err"
                                        break
                                fi
                                b_ns[$w,$t,$r]=$run_ns
                                ev[$w,$t,$r]=$d_events
                                match[$w,$t,$r]=$d_match
                                lost[$w,$t,$r]=$d_lost
                                cpu[$w,$t,$r]=$d_cpu_ns
                                rss[$w,$t,$r]=$d_rss_kb
                                [[ $t == vigil* ]] && lines_out[$w,$t,$r]=$(wc -l <"$tmp/tool.out")
                                [[ -n ${BENCH_KEEP:-} ]] && cp -- "$tmp/tool.out" "$BENCH_KEEP/$w-$t-$r.out" \
                                        && cp -- "$tmp/tool.err" "$BENCH_KEEP/$w-$t-$r.err"
                        done
                done
        done
done

# --- report ------------------------------------------------------------------
median() { sort -g | awk '{ v[NR] = $1 }
        END { if (NR == 0) exit; print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }

fmt_ns() { # ns -> human figure
        awk -v n="$1" 'BEGIN {
                if (n >= 1e6) printf "%.2f ms", n / 1e6
                else if (n >= 1e3) printf "%.2f us", n / 1e3
                else printf "%.1f ns", n }'
}

col_ok() { [[ -z ${failed_col[$1,$2]:-} && -n ${b_ns[$1,$2,0]:-} ]]; }

ratio_of() { # w t -> median of the per-round ratios
        local r
        for (( r = 0; r < rounds; r++ )); do
                awk -v a="${a_ns[$1,$2,$r]}" -v b="${b_ns[$1,$2,$r]}" 'BEGIN { printf "%.6f\n", b / a }'
        done | median | awk '{ printf "%.3f", $1 }'
}
ratios_of() { # w t -> the per-round ratios
        local r out=
        for (( r = 0; r < rounds; r++ )); do
                out+=$(awk -v a="${a_ns[$1,$2,$r]}" -v b="${b_ns[$1,$2,$r]}" 'BEGIN { printf "%.2f ", b / a }')
        done
        echo "${out% }"
}
min_match() { # w t -> the fewest workload events one round delivered
        local r
        for (( r = 0; r < rounds; r++ )); do echo "${match[$1,$2,$r]:-0}"; done | sort -n | head -n 1
}
sum_of() { # array-name w t -> sum over rounds
        local -n arr=$1
        local r s=0
        for (( r = 0; r < rounds; r++ )); do s=$(( s + ${arr[$2,$3,$r]:-0} )); done
        echo "$s"
}
cpu_per_event() { # w t -> agent CPU over all rounds / events over all rounds
        local c e
        c=$(sum_of cpu "$1" "$2") e=$(sum_of ev "$1" "$2")
        # /proc/PID/stat counts in clock ticks: below one, give the bound.
        awk -v c="$c" -v e="$e" -v tick="$(( 1000000000 / clk_tck ))" 'BEGIN {
                if (e == 0) printf "-"
                else if (c == 0) printf "<%.2f us", tick / e / 1000
                else printf "%.2f us", c / e / 1000 }'
}
max_rss() { # w t -> MiB
        local r m=0
        for (( r = 0; r < rounds; r++ )); do
                (( ${rss[$1,$2,$r]:-0} > m )) && m=${rss[$1,$2,$r]}
        done
        awk -v k="$m" 'BEGIN { if (k > 0) printf "%.1f MiB", k / 1024; else printf "-" }'
}
kept_up() { # w t -> true when every round delivered every op and lost none
        local r
        [[ $1 == getppid ]] && return 0
        for (( r = 0; r < rounds; r++ )); do
                (( ${match[$1,$2,$r]:-0} >= ops[$1] && ${lost[$1,$2,$r]:-0} == 0 )) || return 1
        done
}

wall=$(awk -v a="$wall0" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')

echo
echo "== bench-watch: event sensors on event storms, side by side =="
echo "vigil:    $vigil"
[[ -n $vigil_before ]] && echo "before:   $vigil_before (the column vigil-before)"
echo "method:   $rounds rounds per workload and tool, A (nothing attached) and B (the"
echo "          tool attached, output to a file) in A B / B A order; ratio = median"
echo "          of the per-round ratios B / A. events = lines naming the workload's"
echo "          operations in the tool's output (worst round) / operations per run."
for t in "${all_tools[@]}"; do
        [[ -n ${skip[$t]:-} && ${skip[$t]} != "not in TOOLS" ]] && echo "skipped:  $t: ${skip[$t]}"
done
(( audit_own )) && echo "audit:    auditd started here, logging to the temp dir"
(( audit_never )) && echo "audit:    '-a never,task' loaded (but during auditd's runs): no task has a syscall audit hook"
[[ -n $audit_host_pid ]] && echo "audit:    the host's audit daemon (pid $audit_host_pid)"

declare -A vratio
vcpu_ns=0 vevents=0 vlost=0 vran=0
for w in "${workloads[@]}"; do
        mapfile -t cols < <(columns "$w")
        base=$(tr ' ' '\n' <<<"${base_runs[$w]}" | grep . | median)
        nbase=$(tr ' ' '\n' <<<"${base_runs[$w]}" | grep -c .)
        echo
        printf '%s\n' "-- $w storm: ${ops[$w]} x ${what[$w]}"
        printf '   baseline %s/op (median of %d runs with nothing attached)\n' "$(fmt_ns "$base")" "$nbase"
        (( ${#cols[@]} )) || { echo "   (no tool to compare)"; continue; }
        printf '   %-10s %7s %7s  %-16s %-19s %6s %11s %9s\n' \
                tool ratio target "per-round" "events/ops" lost "cpu/event" "peak RSS"
        for t in "${cols[@]}"; do
                if ! col_ok "$w" "$t"; then
                        printf '   %-10s FAILED: %s\n' "$t" "${failed_col[$w,$t]:-no run}"
                        continue
                fi
                ratio=$(ratio_of "$w" "$t")
                tg=-
                [[ $t == vigil ]] && tg=${target[$w]}
                evs="$(min_match "$w" "$t")/${ops[$w]}"
                [[ $w == getppid ]] && evs="$(sum_of ev "$w" "$t") (all)"
                [[ $t == auditd && -z $audit_log ]] && evs="?"
                printf '   %-10s %7s %7s  %-16s %-19s %6s %11s %9s\n' \
                        "$t" "$ratio" "$tg" "$(ratios_of "$w" "$t")" "$evs" \
                        "$(sum_of lost "$w" "$t")" "$(cpu_per_event "$w" "$t")" "$(max_rss "$w" "$t")"
                if [[ $t == vigil ]]; then
                        vratio[$w]=$ratio
                        vran=1
                        vlost=$(( vlost + $(sum_of lost "$w" vigil) ))
                        if [[ $w != getppid ]]; then
                                vcpu_ns=$(( vcpu_ns + $(sum_of cpu "$w" vigil) ))
                                vevents=$(( vevents + $(sum_of ev "$w" vigil) ))
                        fi
                        printf '   %-10s %s\n' "" "vigil: $(sum_of ev "$w" vigil) events reported, $(sum_of lines_out "$w" vigil) JSON lines written over $rounds runs"
                        kept_up "$w" vigil || printf '   %-10s %s\n' "" "vigil did not deliver every event of the workload (or lost some)"
                fi
        done
done

echo
res() { # name workload
        local w=$2 r
        if [[ " ${workloads[*]} " != *" $w "* ]] || [[ -n ${skip[vigil]:-} ]]; then
                echo "RESULT $1 n/a ${target[$w]} n/a"
        elif [[ -z ${vratio[$w]:-} ]]; then
                echo "RESULT $1 n/a ${target[$w]} ERROR"
        else
                r=$(awk -v x="${vratio[$w]}" -v t="${target[$w]}" 'BEGIN { print (x <= t) ? "PASS" : "MISS" }')
                kept_up "$w" vigil || r=MISS
                echo "RESULT $1 ${vratio[$w]} ${target[$w]} $r"
        fi
}
res watch_open_ratio open
res watch_exec_ratio exec
res watch_connect_ratio connect
res watch_getppid_ratio getppid
if [[ -n ${skip[vigil]:-} ]]; then
        echo "RESULT watch_lost n/a 0 n/a"
        echo "RESULT watch_cpu_per_event_us n/a 1.00 n/a"
elif (( ! vran )); then
        echo "RESULT watch_lost n/a 0 ERROR"
        echo "RESULT watch_cpu_per_event_us n/a 1.00 ERROR"
else
        echo "RESULT watch_lost $vlost 0 $( (( vlost == 0 )) && echo PASS || echo MISS)"
        if (( vevents > 0 )); then
                # No tick at all: report the resolution as an upper bound.
                awk -v c="$vcpu_ns" -v e="$vevents" -v tick="$(( 1000000000 / clk_tck ))" 'BEGIN {
                        x = (c > 0 ? c : tick) / e / 1000
                        printf "RESULT watch_cpu_per_event_us %s%.2f 1.00 %s\n", (c > 0) ? "" : "<", x,
                                (x <= 1.0) ? "PASS" : "MISS" }'
        else
                echo "RESULT watch_cpu_per_event_us n/a 1.00 MISS"
        fi
fi
# The audit source against auditd on the same storms: it must deliver
# every event, lose none, and cost the workload less than auditd does.
audit_res() { # name workload
        local w=$1 va ad r
        if [[ " ${workloads[*]} " != *" $w "* ]] || ! col_ok "$w" vigil-audit 2>/dev/null ||
           ! col_ok "$w" auditd 2>/dev/null; then
                echo "RESULT watch_audit_${w}_vs_auditd n/a <1 n/a"
                return
        fi
        va=$(ratio_of "$w" vigil-audit) ad=$(ratio_of "$w" auditd)
        r=$(awk -v x="$va" -v t="$ad" 'BEGIN { print (x < t) ? "PASS" : "MISS" }')
        kept_up "$w" vigil-audit || r=MISS
        echo "RESULT watch_audit_${w}_vs_auditd $va <$ad $r"
}
for w in exec open connect; do
        [[ " ${tools_wanted[*]} " == *" vigil-audit "* ]] && audit_res "$w"
done
echo "wall time: ${wall} s (building, attaching and detaching included)"

exit $failed
