import ponder


def test_all_names_exist_and_are_exported() -> None:
    for name in ponder.__all__:
        assert hasattr(ponder, name), name
    public = {n for n in dir(ponder) if not n.startswith("_")}
    modules = {
        "api",
        "answers",
        "backends",
        "cost",
        "errors",
        "models",
        "strategies",
        "types",
        "plan",
        "eval",
        "routing",
        "server",
        "cli",
        "context",
        "moe",
        "annotations",
    }
    assert public - modules == set(ponder.__all__) - {"__version__"}


def test_errors_share_one_base() -> None:
    for name in ponder.__all__:
        obj = getattr(ponder, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, ponder.PonderError)
