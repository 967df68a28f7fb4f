# METADATA
# description: |
#   Entry point: conftest's `main` namespace. deny/warn are the union of every rule package's
#   deny (mandatory) and warn (advisory) results; the harness queries data.main.report.
package main

deny contains result if {
	some group, name
	some result in data.tfgen.rules[group][name].deny
}

warn contains result if {
	some group, name
	some result in data.tfgen.rules[group][name].warn
}

# METADATA
# title: tfgen report
# description: The pack's name and version with every deny and warn result.
# entrypoint: true
report := {"pack": {"name": "tfgen", "version": "0.1.0"}, "deny": deny, "warn": warn}
