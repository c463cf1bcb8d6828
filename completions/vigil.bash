# SPDX-License-Identifier: LGPL-2.1-or-later
# bash completion for vigil(8).
#
# Commands and options are read from 'vigil --help' and 'vigil CMD --help'
# (once per shell, cached), event types from 'vigil watch --help', filter
# fields from 'vigil watch --fields', and container names from
# 'vigil -o json containers': the completion follows the binary it
# completes, and cannot drift from it. Errors are silent.

# The vigil being completed: the word typed, so ./build/vigil completes
# itself.
_vigil_bin()
{
	printf '%s' "${words[0]:-vigil}"
}

# The --help texts, by "BINARY COMMAND": read once per shell and binary.
declare -gA _vigil_cache 2>/dev/null || true

# _vigil_load CMD: read CMD's --help (CMD empty: the top level's) into the
# cache. Called directly, never in $(...), so that the cache is kept.
_vigil_load()
{
	local bin key
	bin=$(_vigil_bin)
	key="$bin $1"
	[[ -n ${_vigil_cache[$key]+set} ]] && return
	if [[ -n $1 ]]; then
		_vigil_cache[$key]=$("$bin" "$1" --help 2>/dev/null)
	else
		_vigil_cache[$key]=$("$bin" --help 2>/dev/null)
	fi
}

# _vigil_help CMD: that command's --help, as loaded; loaded now (in this
# subshell only) when it was not.
_vigil_help()
{
	_vigil_load "$1"
	printf '%s\n' "${_vigil_cache["$(_vigil_bin) $1"]}"
}

# The commands: the indented words under "Commands:".
_vigil_commands()
{
	_vigil_help "" | awk '/^Commands:/ { on = 1; next }
		on && /^[^ ]/ { on = 0 }
		on && /^  [a-z]/ { print $1 }'
}

# _vigil_options CMD: every option its --help names, long and short.
_vigil_options()
{
	# "(vigil watch --record)" names another command's option: not this one's
	_vigil_help "$1" | sed -E 's/vigil [a-z]+ --?[a-z-]+//g' | grep -oE -- '(^|[][ ,|])--?[a-zA-Z][a-zA-Z0-9-]*' |
		sed -E 's/^[][ ,|]//' | grep -vE -- '^-[a-zA-Z][a-zA-Z0-9]' | sort -u
}

# _vigil_arg_options CMD: the options that take a value: those that --help
# shows followed by an upper-case word ("--socket PATH", "-o, --output FMT").
_vigil_arg_options()
{
	_vigil_help "$1" | grep -oE -- '(-[a-zA-Z], )?--[a-z][a-z0-9-]* [A-Z][A-Z_|/]*' |
		sed -E 's/ [A-Z].*//; s/, / /'
}

# Event types: the words of --event's description in 'vigil watch --help'.
_vigil_events()
{
	_vigil_help watch | awk '/-e, --event/ { on = 1 }
		on && /^  +-[a-z-]/ && !/--event/ { exit }
		on { print }' | grep -oE '\b(exec|exit|fork|thread|open|connect|accept|bind|listen|file|container|all)\b' |
		sort -u
	printf '%s\n' syscall: tp:
}

# Filter fields, from 'vigil watch --fields'; keyed ones ("container.label.<key>")
# complete to their prefix.
_vigil_fields()
{
	"$(_vigil_bin)" watch --fields 2>/dev/null | awk '{ sub(/<key>$/, "", $1); print $1 }'
}

# Container names (and short ids) of the running containers, quietly and
# briefly: a slow runtime must not hang the shell.
_vigil_containers()
{
	local -a root=()
	local i
	for ((i = 1; i < cword; i++)); do
		case ${words[i]} in
		--host-root) root=(--host-root "${words[i + 1]}") ;;
		--host-root=*) root=("${words[i]}") ;;
		esac
	done
	command -v jq >/dev/null 2>&1 || return 0
	timeout 5 "$(_vigil_bin)" "${root[@]}" -o json containers 2>/dev/null |
		jq -r '.container | (.name // empty), .id[0:12]' 2>/dev/null
}

_vigil()
{
	local cur prev words cword split
	_init_completion -s -n := || return

	# Find the command: the first word that is neither an option nor the
	# value of one.
	local cmd="" i w args
	_vigil_load ""
	args=" $(_vigil_arg_options "" | tr '\n' ' ') "
	for ((i = 1; i < cword; i++)); do
		w=${words[i]}
		if [[ $w == -* ]]; then
			[[ $w != *=* && $args == *" $w "* ]] && ((i++))
			continue
		fi
		cmd=$w
		break
	done

	if [[ -z $cmd ]]; then
		if [[ $cur == -* ]]; then
			COMPREPLY=($(compgen -W "$(_vigil_options "")" -- "$cur"))
			return
		fi
		case $prev in
		-o | --output) COMPREPLY=($(compgen -W "text json" -- "$cur")) ;;
		--host-root | --docker-root | --storage-root | --storage-run) _filedir -d ;;
		--docker-socket | --kubelet-token | --kubelet-ca) _filedir ;;
		*)
			[[ $args == *" $prev "* ]] && return
			COMPREPLY=($(compgen -W "$(_vigil_commands)" -- "$cur"))
			;;
		esac
		return
	fi

	_vigil_load "$cmd"
	_vigil_load watch
	# The value of an option of the command.
	case $prev in
	-o | --output | --log-format) COMPREPLY=($(compgen -W "text json" -- "$cur")); return ;;
	--log-level) COMPREPLY=($(compgen -W "error warning info debug" -- "$cur")); return ;;
	--like) COMPREPLY=($(compgen -W "docker podman" -- "$cur")); return ;;
	--source)
		if [[ $cur == replay:* ]]; then
			local file=${cur#replay:}
			COMPREPLY=($(compgen -f -P replay: -- "$file"))
		else
			COMPREPLY=($(compgen -W "bpf audit auto replay:" -- "$cur"))
		fi
		[[ ${COMPREPLY[0]-} == *: ]] && compopt -o nospace 2>/dev/null
		return
		;;
	-e | --event)
		# a comma-separated list: complete its last element
		local head="" last=$cur
		if [[ $cur == *,* ]]; then
			head=${cur%,*},
			last=${cur##*,}
		fi
		local ev have=",${head}" words_left=()
		for ev in $(_vigil_events); do
			[[ $have == *",$ev,"* ]] || words_left+=("$ev")
		done
		COMPREPLY=($(compgen -P "$head" -W "${words_left[*]}" -- "$last"))
		# a list goes on with a comma, syscall: and tp: with their names
		compopt -o nospace 2>/dev/null
		return
		;;
	-f | --filter)
		# complete the field being typed: the expression's last word
		local head="" last=$cur
		if [[ $cur =~ ^(.*[[:space:]\(])([^[:space:]\(]*)$ ]]; then
			head=${BASH_REMATCH[1]}
			last=${BASH_REMATCH[2]}
		fi
		# one candidate a line: the expression before it holds spaces
		mapfile -t COMPREPLY < <(compgen -P "$head" -W "$(_vigil_fields)" -- "$last")
		# a keyed field ("container.label.") goes on with its key
		[[ ${#COMPREPLY[@]} == 1 && ${COMPREPLY[0]} == *. ]] && compopt -o nospace 2>/dev/null
		return
		;;
	-c | --container)
		if [[ $cmd == watch || $cmd == tree ]]; then
			COMPREPLY=($(compgen -W "$(_vigil_containers)" -- "$cur"))
			return
		fi
		;;
	--host-root | --docker-root | --storage-root | --storage-run) _filedir -d; return ;;
	--rules) _filedir '@(yaml|yml)'; return ;;
	--socket | -s | --record | --policy | -p | --config | --docker-socket | \
		--kubelet-token | --kubelet-ca)
		# -p is --pid for watch, -s unused there
		if [[ $cmd == watch && ($prev == -p || $prev == -s) ]]; then
			return
		fi
		_filedir
		return
		;;
	esac
	$split && return
	local cargs=" $(_vigil_arg_options "$cmd" | tr '\n' ' ') "
	[[ $cargs == *" $prev "* ]] && return

	if [[ $cur == -* ]]; then
		COMPREPLY=($(compgen -W "$(_vigil_options "$cmd")" -- "$cur"))
		[[ ${COMPREPLY-} == *= ]] && compopt -o nospace 2>/dev/null
		return
	fi

	case $cmd in
	rules)
		# the subcommand, then rule files
		if [[ " ${words[*]:0:cword} " == *" check "* ]]; then
			_filedir '@(yaml|yml)'
		else
			COMPREPLY=($(compgen -W "check" -- "$cur"))
		fi
		;;
	diff | rootfs | containers)
		COMPREPLY=($(compgen -W "$(_vigil_containers)" -- "$cur"))
		;;
	pid)
		_pids
		COMPREPLY+=($(compgen -W "- --all" -- "$cur"))
		;;
	esac
} &&
	complete -F _vigil vigil
