DEFAULT_NOTEBOOKS = ["notebooks/01_what_the_learning_rate_does.ipynb"]


def pytest_addoption(parser):
    parser.addoption(
        "--notebook",
        action="append",
        default=[],
        help="notebook for the browser test to run (repeatable; default: lesson 01)",
    )


def pytest_generate_tests(metafunc):
    if "notebook" in metafunc.fixturenames:
        metafunc.parametrize("notebook", metafunc.config.getoption("notebook") or DEFAULT_NOTEBOOKS)
