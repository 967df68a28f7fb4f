# METADATA
# description: |
#   The one constructor of rule results. The rule's id, title, severity and enforcement come
#   from the package-scoped METADATA of the rule, passed in as rego.metadata.chain().
package tfgen.lib.result

# A result for `resource` (a resource change) with a one-sentence message and no details.
fail(chain, resource, message) := fail_with(chain, resource, message, {})

# A result with a details object (e.g. the statement and the offending value).
fail_with(chain, resource, message, details) := object.union(_rule_fields(chain), {
	"address": resource.address,
	"resource_type": resource.type,
	"message": message,
	"msg": message,
	"details": details,
})

# The fields every result of the rule shares (one call per rule: OPA caches it by the chain).
_rule_fields(chain) := {
	"rule_id": meta.custom.id,
	"title": meta.title,
	"severity": meta.custom.severity,
	"enforcement": meta.custom.enforcement,
} if {
	some entry in chain
	entry.annotations.scope == "package"
	meta := entry.annotations
}
