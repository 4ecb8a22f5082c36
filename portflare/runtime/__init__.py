"""Loading and running a Worker: module loading, request/response plumbing, handlers, ctx, env."""
