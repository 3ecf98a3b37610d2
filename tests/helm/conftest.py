"""pytest fixtures of tests/helm; the helpers are in helmlib.py."""
import pytest

from helmlib import render


@pytest.fixture(scope="session")
def default():
    """The chart rendered with its default values."""
    return render()
