# The decision log mask of the fleet replicas: the plan never reaches the log. What remains is the
# decision id, the bundle revision, the path, timings, and a report cut to its counts.
package system.log

mask contains "/input"

mask contains {"op": "upsert", "path": "/result", "value": _summary} if _report

# Any other result could quote the input: it goes too.
mask contains "/result" if not _report

_report if {
	is_array(input.result.deny)
	is_array(input.result.warn)
}

_summary := {"deny": count(input.result.deny), "warn": count(input.result.warn)}
