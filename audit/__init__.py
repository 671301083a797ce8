"""The audit trail: who did what, when, from where. Both apps and the middleware write it through
`audit.services.audit`; it depends only on tenants' models (organisations and their scoping)."""
