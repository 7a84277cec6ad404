"""The engine: desired resources and kinds, plan/apply/destroy, the SDK kind factory, waiters, failures."""
