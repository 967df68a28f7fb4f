# OPA's system authorization policy for the tfgen container (`--authorization=basic`).
# With TFGEN_OPA_TOKEN set in the container, every API call but the health check must carry it as
# a bearer token; with it unset or empty the API is open to local callers (the port is published
# on 127.0.0.1 only). Either way the served rule pack cannot be changed through the API: no policy
# writes, no deletes, and the only data write is the rules' configuration, data.tfgen_config.
package system.authz

default allow := false

# The health endpoint stays open so the container health check and the harness can poll it.
allow if {
	input.method == "GET"
	input.path == ["health"]
}

allow if {
	_authenticated
	_permitted
}

_authenticated if _token == ""

_authenticated if {
	_token != ""
	input.identity == _token
}

# Reads, and queries with an input (POST /v1/data/..., /v1/query, /v1/compile).
_permitted if input.method in {"GET", "POST"}

_permitted if {
	input.method == "PUT"
	input.path == ["v1", "data", "tfgen_config"]
}

_token := object.get(opa.runtime().env, "TFGEN_OPA_TOKEN", "")
