"""A tiny in-repo "model library" for the harness's smoke test: each model holds one known hazard."""
