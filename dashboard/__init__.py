"""Journey Atlas dashboard: router, settings, URL state, cached loaders, chart builders and CLI."""
