# patterns.sh: sourced by the suite runners (test/critest/run.sh,
# test/e2enode/run.sh).

# patterns FILE: prints the regular expressions of a skip or focus list,
# one a line, without comment lines, blank lines and the " # reason" part.
patterns() {
	local line
	while IFS= read -r line; do
		line=${line%% # *}
		if [ -z "$line" ] || [ "${line:0:1}" = "#" ]; then
			continue
		fi
		printf '%s\n' "$line"
	done <"$1"
}
