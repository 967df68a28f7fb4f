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
# description: |
#   The pack's name, the data.tfgen_config it was evaluated with (so the harness can tell a
#   server that lost its configuration), and every deny and warn result. The pack's version and
#   digest are not typed here: tfgen writes them into the bundle manifest it builds.
# entrypoint: true
report := {"pack": {"name": "tfgen"}, "config": _config, "deny": deny, "warn": warn}

default _config := {}

_config := data.tfgen_config
