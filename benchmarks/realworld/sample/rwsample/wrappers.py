import functools


def logged(fn):
    """A decorator around forward (TorchScript names this file for errors in the wrapped method)."""
    @functools.wraps(fn)
    def wrapper(self, *args, **kwargs):
        return fn(self, *args, **kwargs)
    return wrapper
