"""Analyses shared by every rule: the project index (entry points, reachability) and value kinds."""
