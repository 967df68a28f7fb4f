# OPA's system authorization policy for the tfgen container (`--authorization=basic`).
# With TFGEN_OPA_TOKEN set in the container, every API call must carry it as a bearer token;
# with it unset or empty the API is open to local callers (the port is published on 127.0.0.1 only).
package system.authz

default allow := false

# The health endpoint stays open so the container health check and the harness can poll it.
allow if {
	input.method == "GET"
	input.path == ["health"]
}

allow if _token == ""

allow if {
	_token != ""
	input.identity == _token
}

_token := object.get(opa.runtime().env, "TFGEN_OPA_TOKEN", "")
