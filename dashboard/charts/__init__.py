"""Pure Altair chart builders: polars frames in, `alt.Chart` out, tested through `to_dict()`."""
